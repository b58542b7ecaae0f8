//! Errors of the legacy backend. Each names the file it is about.

use crate::Located;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },

    #[error("{0}")]
    Invalid(Located),

    #[error("no marimo cache folder at {}; run a notebook with mo.persistent_cache first, or pass --cache-dir", path.display())]
    NoCache { path: PathBuf },

    #[error("entry {0} is not in the legacy cache (it may have been removed); list again")]
    UnknownEntry(String),

    #[error(transparent)]
    Key(#[from] crate::model::KeyError),

    #[error(transparent)]
    Store(#[from] crate::store::StoreError),

    /// Recording in the operation log, or following the folder, failed.
    #[error("{0}")]
    Message(String),
}

pub type Result<T, E = LegacyError> = std::result::Result<T, E>;

impl LegacyError {
    pub fn invalid(path: &Path, message: impl Into<String>) -> LegacyError {
        LegacyError::Invalid(Located::new(path, None, message))
    }
}

/// Attaches a path to an I/O error.
pub trait AtPath<T> {
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> AtPath<T> for io::Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|source| LegacyError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

impl From<LegacyError> for crate::model::HistoryError {
    fn from(e: LegacyError) -> crate::model::HistoryError {
        let busy = matches!(&e, LegacyError::Store(s) if matches!(s, crate::store::StoreError::Busy { .. }));
        crate::model::HistoryError {
            busy,
            stale: false,
            message: e.to_string(),
        }
    }
}
