//! Shared helpers for the integration tests: temporary workspaces and entries.
#![allow(dead_code)] // each test binary uses a different subset

use celltime::model::{
    CellKey, EntryId, ModuleHash, NewEntry, NewPart, NotebookKey, Timestamp, Version,
};
use celltime::store::{Store, StoreOptions, Workspace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("__marimo__")).unwrap();
    dir
}

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
    .unwrap()
}

pub fn store_with_fs(dir: &Path, fs: Arc<dyn celltime::store::fs::Fs>) -> Store {
    Store::open_with(
        &Workspace::at(dir),
        StoreOptions {
            fs,
            writer: Some("testhost_00000000".to_string()),
            ..StoreOptions::default()
        },
    )
    .unwrap()
}

pub fn nb(key: &str) -> NotebookKey {
    NotebookKey::new(key).unwrap()
}

/// An entry whose contents are derived from `seed`, created at `created_ms`.
pub fn entry(notebook: &str, cell: &str, module: &str, created_ms: i64, seed: &str) -> NewEntry {
    let mut e = NewEntry::new(
        nb(notebook),
        CellKey::new(cell).unwrap(),
        ModuleHash::new(module).unwrap(),
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
    e.version = Version::new(version).unwrap();
    e
}

/// Every file under `dir` with its bytes: to prove a command changed nothing.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for item in std::fs::read_dir(&d).unwrap() {
            let item = item.unwrap();
            let path = item.path();
            let kind = item.file_type().unwrap();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                out.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
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

/// A fresh copy of the built-in demo workspace.
pub fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    celltime::demo::generate(dir.path(), &celltime::demo::DemoOptions::default()).unwrap();
    dir
}

/// The `celltime` binary, run in `dir` with UTC times and a fixed writer id.
pub fn celltime(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("celltime").unwrap();
    cmd.current_dir(dir)
        .env("TZ", "UTC")
        .env("CELLTIME_WRITER", "clitest");
    cmd
}

/// Copies a folder recursively (test fixtures into temporary folders).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_tree(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).unwrap();
        }
    }
}
