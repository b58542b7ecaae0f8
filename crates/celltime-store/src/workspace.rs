//! Which backends a workspace has, opened as one [`History`]: celltime's store
//! (`__marimo__/persist/`), marimo's cache (`__marimo__/cache/` or a `save_path`), or both.
//! The CLI, the TUI and the Python binding all decide this here.

use std::path::{Path, PathBuf};

use crate::legacy::{LegacyError, LegacyHistory};
use crate::model::{CombinedHistory, History};
use crate::store::history::StoreHistory;
use crate::store::{Store, StoreError, StoreOptions, Workspace};

/// Why a workspace's history could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Legacy(#[from] LegacyError),
}

/// Opens the history of `workspace`: the store, marimo's cache, or both combined. `cache_dir`
/// names marimo's cache folder when it is not `__marimo__/cache` (it must then exist).
pub fn open_history(
    workspace: &Workspace,
    cache_dir: Option<&Path>,
    options: StoreOptions,
) -> Result<Box<dyn History>, OpenError> {
    let open_store = |options| -> Result<Box<dyn History>, OpenError> {
        Ok(Box::new(StoreHistory::new(Store::open_with(
            workspace, options,
        )?)))
    };
    let cache: PathBuf = crate::legacy::scan::cache_root(workspace.root(), cache_dir);
    if !cache.is_dir() {
        if cache_dir.is_some() {
            return Err(LegacyError::NoCache { path: cache }.into());
        }
        return open_store(options);
    }
    let legacy = Box::new(LegacyHistory::open(workspace.root(), cache_dir)?);
    if workspace.persist_dir().is_dir() {
        Ok(Box::new(CombinedHistory::new(open_store(options)?, legacy)))
    } else {
        Ok(legacy)
    }
}
