//! Which backends a workspace has, opened as one [`History`]: celltime's store
//! (`__marimo__/persist/`), marimo's cache (`__marimo__/cache/` or a `save_path`), or both.
//! The CLI, the TUI and the Python binding all decide this here.

use std::path::{Path, PathBuf};

use crate::combined::CombinedHistory;
use crate::legacy::{LegacyError, LegacyHistory};
use crate::model::{BackendKind, History};
use crate::store::history::StoreHistory;
use crate::store::{Store, StoreError, StoreOptions, Workspace};

/// Why a workspace's history could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Legacy(#[from] LegacyError),
    #[error(
        "{0} has no celltime store (__marimo__/persist); `celltime import` copies marimo's cache into one"
    )]
    NoStore(PathBuf),
}

/// Opens the history of `workspace`: the store, marimo's cache, or both combined (a run held
/// by both is one row). `cache_dir` names marimo's cache folder when it is not
/// `__marimo__/cache` (it must then exist). `only` limits it to one backend.
pub fn open_history(
    workspace: &Workspace,
    cache_dir: Option<&Path>,
    options: StoreOptions,
    only: Option<BackendKind>,
) -> Result<Box<dyn History>, OpenError> {
    let cache: PathBuf = crate::legacy::scan::cache_root(workspace.root(), cache_dir);
    let has_store = workspace.persist_dir().is_dir();
    match only {
        Some(BackendKind::Store) if !has_store => {
            return Err(OpenError::NoStore(workspace.root().to_path_buf()));
        }
        Some(BackendKind::Store) => {
            return Ok(Box::new(StoreHistory::new(Store::open_with(
                workspace, options,
            )?)));
        }
        Some(BackendKind::Legacy) => {
            let legacy = LegacyHistory::open(workspace.root(), cache_dir)?;
            return Ok(Box::new(
                legacy.with_grace(store_grace(workspace, &options)),
            ));
        }
        None => {}
    }
    if !cache.is_dir() {
        if cache_dir.is_some() {
            return Err(LegacyError::NoCache { path: cache }.into());
        }
        return Ok(Box::new(StoreHistory::new(Store::open_with(
            workspace, options,
        )?)));
    }
    let legacy = LegacyHistory::open(workspace.root(), cache_dir)?;
    if has_store {
        let store = Store::open_with(workspace, options)?;
        let legacy = legacy.with_grace(store.config().gc_grace);
        Ok(Box::new(CombinedHistory::new(
            StoreHistory::new(store),
            legacy,
        )))
    } else {
        Ok(Box::new(
            legacy.with_grace(store_grace(workspace, &options)),
        ))
    }
}

/// The store's `gc_grace` (its default when there is no store yet): how long removals on
/// either backend stay undoable.
fn store_grace(workspace: &Workspace, options: &StoreOptions) -> std::time::Duration {
    Store::open_with(workspace, options.clone())
        .map(|s| s.config().gc_grace)
        .unwrap_or(crate::legacy::trash::TRASH_GRACE)
}
