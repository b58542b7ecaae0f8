//! What only tests and fuzz targets need (the `testing` feature): a file system that records
//! and fails operations, temporary workspaces, store handles and entries made from a seed, and
//! the repository's shared fixtures. Shared by every crate's tests, so each helper is written once.

#[cfg(feature = "remote")]
pub mod s3;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::model::{
    CellKey, EntryId, ModuleHash, NewEntry, NewPart, NotebookKey, Timestamp, Version,
};
use crate::store::fs::{DirItem, Fs, RealFs};
use crate::store::{Store, StoreOptions, Workspace};

/// One operation seen by [`TestFs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    pub path: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    WriteNew,
    Append,
    SyncFile,
    SyncDir,
    Rename,
    Remove,
    CreateDir,
    SqliteCommit,
}

/// How [`TestFs`] fails: the `nth` mutating operation (1-based) returns `errno`; with
/// `persistent`, every later one does too.
#[derive(Debug, Clone, Copy)]
pub struct Fault {
    pub nth: usize,
    pub errno: i32,
    pub persistent: bool,
}

/// A real file system that records every mutating operation and can inject errors.
#[derive(Debug, Default)]
pub struct TestFs {
    ops: Mutex<Vec<Op>>,
    fault: Mutex<Option<Fault>>,
}

impl TestFs {
    pub fn new() -> TestFs {
        TestFs::default()
    }

    pub fn with_fault(fault: Fault) -> TestFs {
        TestFs {
            ops: Mutex::default(),
            fault: Mutex::new(Some(fault)),
        }
    }

    pub fn ops(&self) -> Vec<Op> {
        self.ops.lock().expect("ops lock").clone()
    }

    /// Number of mutating operations so far (including failed ones).
    pub fn count(&self) -> usize {
        self.ops.lock().expect("ops lock").len()
    }

    fn check(&self, kind: OpKind, path: &Path) -> io::Result<()> {
        let mut ops = self.ops.lock().expect("ops lock");
        ops.push(Op {
            kind,
            path: path.to_path_buf(),
        });
        let n = ops.len();
        match *self.fault.lock().expect("fault lock") {
            Some(f) if n == f.nth || (f.persistent && n > f.nth) => {
                Err(io::Error::from_raw_os_error(f.errno))
            }
            _ => Ok(()),
        }
    }
}

impl Fs for TestFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        RealFs.read(path)
    }

    fn read_from(&self, path: &Path, offset: u64) -> io::Result<Vec<u8>> {
        RealFs.read_from(path, offset)
    }

    fn read_head(&self, path: &Path, max: usize) -> io::Result<Vec<u8>> {
        RealFs.read_head(path, max)
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn io::Read + Send>> {
        RealFs.open(path)
    }

    fn hash_file(&self, path: &Path, limit: u64) -> io::Result<(blake3::Hash, u64)> {
        RealFs.hash_file(path, limit)
    }

    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.check(OpKind::WriteNew, path)?;
        RealFs.write_new(path, bytes)
    }

    fn append(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.check(OpKind::Append, path)?;
        RealFs.append(path, bytes)
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        self.check(OpKind::SyncFile, path)?;
        RealFs.sync_file(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.check(OpKind::SyncDir, path)?;
        RealFs.sync_dir(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.check(OpKind::Rename, to)?;
        RealFs.rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.check(OpKind::Remove, path)?;
        RealFs.remove_file(path)
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        if path.is_dir() {
            return Ok(());
        }
        self.check(OpKind::CreateDir, path)?;
        RealFs.create_dir_all(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirItem>> {
        RealFs.read_dir(path)
    }

    fn metadata(&self, path: &Path) -> io::Result<DirItem> {
        RealFs.metadata(path)
    }

    fn sqlite_commit(&self, path: &Path) -> io::Result<()> {
        self.check(OpKind::SqliteCommit, path)
    }
}

/// The repository's shared test fixtures (`tests/fixtures/` at the workspace root).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// A temporary folder holding an empty `__marimo__/`.
pub fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir_all(dir.path().join("__marimo__")).expect("__marimo__");
    dir
}

/// A store handle writing as a fixed test machine.
pub fn store(dir: &Path) -> Store {
    store_as(dir, "testhost_00000000")
}

/// A store handle writing as machine `writer`.
pub fn store_as(dir: &Path, writer: &str) -> Store {
    Store::open_with(
        &Workspace::at(dir),
        StoreOptions {
            writer: Some(writer.to_string()),
            ..StoreOptions::default()
        },
    )
    .expect("open the store")
}

/// A store handle whose file operations go through `fs`.
pub fn store_with_fs(dir: &Path, fs: Arc<dyn Fs>) -> Store {
    Store::open_with(
        &Workspace::at(dir),
        StoreOptions {
            fs,
            writer: Some("testhost_00000000".to_string()),
            ..StoreOptions::default()
        },
    )
    .expect("open the store")
}

pub fn nb(key: &str) -> NotebookKey {
    NotebookKey::new(key).expect("a valid notebook key")
}

/// An entry whose contents are derived from `seed`, created at `created_ms`.
pub fn entry(notebook: &str, cell: &str, module: &str, created_ms: i64, seed: &str) -> NewEntry {
    let mut e = NewEntry::new(
        nb(notebook),
        CellKey::new(cell).expect("a valid cell key"),
        ModuleHash::new(module).expect("a valid module hash"),
    );
    e.created_at = Some(Timestamp(created_ms));
    e.parts = vec![
        NewPart::code(&format!("# {cell}\nx = {module:?}\n")),
        NewPart::output("text/plain", format!("result {seed}").into_bytes()),
        NewPart::console("stdout", &format!("printed {seed}\n")),
        NewPart::variables("x", "json", format!("{{\"seed\": {seed:?}}}").into_bytes()),
    ];
    e
}

pub fn with_version(mut e: NewEntry, version: &str) -> NewEntry {
    e.version = Version::new(version).expect("a valid version");
    e
}

/// Every file under `dir` with its bytes: to prove a command changed nothing.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for item in std::fs::read_dir(&d).expect("read_dir") {
            let item = item.expect("a folder item");
            let path = item.path();
            let kind = item.file_type().expect("a file type");
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let relative = path.strip_prefix(dir).expect("under dir").to_path_buf();
                out.insert(relative, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

/// Ids and pins of a notebook as a fresh reader sees them.
pub fn visible(dir: &Path, notebook: &str) -> BTreeMap<EntryId, bool> {
    let store = store(dir);
    match store.notebook(&nb(notebook)) {
        Ok(n) => n.index().views().iter().map(|v| (v.id, v.pinned)).collect(),
        Err(_) => BTreeMap::new(),
    }
}

/// What a git clone of workspace `from` holds when the store leaves contents to a remote:
/// everything but `packs/`, `objects/`, `.index/` and `.lock`.
pub fn clone_maps(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the target");
    for item in std::fs::read_dir(from).expect("read_dir") {
        let item = item.expect("a folder item");
        let name = item.file_name();
        if ["packs", "objects", ".index", ".lock"].contains(&name.to_string_lossy().as_ref()) {
            continue;
        }
        let target = to.join(&name);
        if item.file_type().expect("a file type").is_dir() {
            clone_maps(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).expect("copy");
        }
    }
}

/// Copies a folder recursively (fixtures into temporary folders).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the target");
    for item in std::fs::read_dir(from).expect("read_dir") {
        let item = item.expect("a folder item");
        let target = to.join(item.file_name());
        if item.file_type().expect("a file type").is_dir() {
            copy_tree(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).expect("copy");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fs::write_atomic;
    use std::fs;

    #[test]
    fn a_failed_atomic_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.toml");
        write_atomic(&RealFs, &path, b"old").unwrap();
        let faulty = TestFs::with_fault(Fault {
            nth: 3,
            errno: 5,
            persistent: false,
        });
        assert!(write_atomic(&faulty, &path, b"new").is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        let kinds: Vec<OpKind> = faulty.ops().iter().map(|o| o.kind).collect();
        assert_eq!(
            kinds,
            [
                OpKind::WriteNew,
                OpKind::SyncFile,
                OpKind::Rename,
                OpKind::Remove
            ]
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
