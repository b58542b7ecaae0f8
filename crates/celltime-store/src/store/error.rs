//! Store errors. Each names the file (and line, where there is one) and says what to do.

use crate::Located;
use crate::model::{EntryId, KeyError};
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },

    #[error("{0}")]
    Invalid(Located),

    #[error(
        "{}: format version {found} is newer than this celltime understands ({supported}); upgrade celltime",
        path.display()
    )]
    FormatTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error(transparent)]
    Key(#[from] KeyError),

    #[error(
        "{} is locked by another celltime or marimo process; try again when it finishes",
        path.display()
    )]
    Busy { path: PathBuf },

    #[error("no __marimo__ folder in {} or any parent; run marimo with caching there first, or pass the workspace path", start.display())]
    NoWorkspace { start: PathBuf },

    #[error("notebook {0:?} is not in the store")]
    UnknownNotebook(String),

    #[error("no entry matches {0:?}")]
    UnknownEntry(String),

    #[error(
        "entry {} already exists with different contents (same execution key); use a new created_at or version",
        .0.short()
    )]
    Clash(EntryId),

    #[error("content {hash} is missing from the store ({context})")]
    MissingContent { hash: String, context: String },

    #[error("{0}; nothing was written. Run `celltime verify` for details")]
    Corrupt(Located),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attaches a path to an I/O error.
pub trait IoContext<T> {
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

impl StoreError {
    /// The error as a problem of a file: its own file and line where it has them, else
    /// `fallback` (the folder it is about).
    pub fn into_located(self, fallback: &Path) -> Located {
        match self {
            StoreError::Invalid(at) | StoreError::Corrupt(at) => at,
            StoreError::Io { path, source } => Located::new(&path, None, source.to_string()),
            e => Located::new(fallback, None, e.to_string()),
        }
    }

    pub fn invalid(path: &Path, line: Option<usize>, message: impl Into<String>) -> StoreError {
        StoreError::Invalid(Located::new(path, line, message))
    }
}
