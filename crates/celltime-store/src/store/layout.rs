//! Where things live: the workspace, `__marimo__/persist/`, and the files of a notebook folder.

use super::error::{Result, StoreError};
use crate::model::{ContentHash, NotebookKey};
use std::path::{Path, PathBuf};

pub const MARIMO_DIR: &str = "__marimo__";
pub const PERSIST_DIR: &str = "persist";
pub const LEGACY_CACHE_DIR: &str = "cache";
pub const SESSION_DIR: &str = "session";
pub const CONFIG_FILE: &str = "persist.toml";
pub const NOTEBOOK_FILE: &str = "notebook.toml";
pub const MAP_FILE: &str = "map.toml";
pub const LOG_DIR: &str = "log";
pub const PACKS_DIR: &str = "packs";
pub const OBJECTS_DIR: &str = "objects";
pub const LOCK_FILE: &str = ".lock";
pub const INDEX_DIR: &str = ".index";
/// The largest `persist.toml` or `notebook.toml` a reader accepts (docs/FORMAT.md §1).
pub const MAX_SETTINGS_BYTES: u64 = 1 << 20;

/// A folder that holds a `__marimo__/` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// Searches up from `start` for a folder containing `__marimo__/`. A path inside
    /// `__marimo__` itself resolves to the folder that holds it.
    pub fn discover(start: &Path) -> Result<Workspace> {
        let absolute = std::path::absolute(start).map_err(|source| StoreError::Io {
            path: start.to_path_buf(),
            source,
        })?;
        let mut current = Some(absolute.as_path());
        while let Some(dir) = current {
            if dir.file_name().is_some_and(|n| n == MARIMO_DIR)
                && let Some(parent) = dir.parent()
            {
                return Ok(Workspace::at(parent));
            }
            if dir.join(MARIMO_DIR).is_dir() {
                return Ok(Workspace::at(dir));
            }
            current = dir.parent();
        }
        Err(StoreError::NoWorkspace {
            start: start.to_path_buf(),
        })
    }

    /// A workspace rooted at `root`, whether or not `__marimo__/` exists yet.
    pub fn at(root: &Path) -> Workspace {
        Workspace {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn marimo_dir(&self) -> PathBuf {
        self.root.join(MARIMO_DIR)
    }

    pub fn persist_dir(&self) -> PathBuf {
        self.marimo_dir().join(PERSIST_DIR)
    }

    pub fn legacy_cache_dir(&self) -> PathBuf {
        self.marimo_dir().join(LEGACY_CACHE_DIR)
    }

    pub fn session_dir(&self) -> PathBuf {
        self.marimo_dir().join(SESSION_DIR)
    }
}

/// The files of one notebook folder under `persist/`.
#[derive(Debug, Clone)]
pub struct NotebookPaths {
    pub dir: PathBuf,
}

impl NotebookPaths {
    pub fn new(persist_dir: &Path, key: &NotebookKey) -> NotebookPaths {
        let mut dir = persist_dir.to_path_buf();
        for component in key.components() {
            dir.push(component);
        }
        NotebookPaths { dir }
    }

    pub fn notebook_file(&self) -> PathBuf {
        self.dir.join(NOTEBOOK_FILE)
    }

    pub fn map(&self) -> PathBuf {
        self.dir.join(MAP_FILE)
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.join(LOG_DIR)
    }

    pub fn packs_dir(&self) -> PathBuf {
        self.dir.join(PACKS_DIR)
    }

    pub fn objects_dir(&self) -> PathBuf {
        self.dir.join(OBJECTS_DIR)
    }

    pub fn lock(&self) -> PathBuf {
        self.dir.join(LOCK_FILE)
    }

    pub fn index_dir(&self) -> PathBuf {
        self.dir.join(INDEX_DIR)
    }

    pub fn object(&self, hash: ContentHash) -> PathBuf {
        let hex = hash.to_hex();
        self.objects_dir().join(&hex[..2]).join(hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_upwards_and_from_inside_marimo() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::create_dir_all(dir.path().join("__marimo__/cache")).unwrap();
        let found = Workspace::discover(&nested).unwrap();
        assert_eq!(found.root(), dir.path());
        let inside = Workspace::discover(&dir.path().join("__marimo__/cache")).unwrap();
        assert_eq!(inside.root(), dir.path());
    }

    #[test]
    fn notebook_folders_mirror_keys() {
        let key = NotebookKey::new("analysis/eda").unwrap();
        let paths = NotebookPaths::new(Path::new("/w/__marimo__/persist"), &key);
        assert_eq!(
            paths.map(),
            Path::new("/w/__marimo__/persist/analysis/eda/map.toml")
        );
    }
}
