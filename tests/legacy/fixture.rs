//! Copies of the fixture workspaces, their expected facts, and a whole-tree fingerprint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use celltime_store::legacy::LegacyHistory;
use celltime_store::model::{History, Timeline};

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/marimo")
}

pub static EXPECTED: LazyLock<serde_json::Value> = LazyLock::new(|| {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
});

pub fn expected(ws: &str) -> &'static serde_json::Value {
    &EXPECTED["workspaces"][ws]
}

/// A copy of workspace `ws` whose files all have distinct, known times: the n-th file (in
/// path order) is `BASE + n` seconds.
pub struct Copy {
    pub _dir: tempfile::TempDir,
    pub root: PathBuf,
}

pub const BASE: u64 = 1_780_000_000;

pub fn copy(ws: &str) -> Copy {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(ws);
    copy_tree(&fixtures().join(ws), &root);
    for (n, file) in files(&root).iter().enumerate() {
        set_mtime(
            &root.join(file),
            SystemTime::UNIX_EPOCH + Duration::from_secs(BASE + n as u64),
        );
    }
    Copy { _dir: dir, root }
}

pub use crate::common::copy_tree;

pub fn set_mtime(path: &Path, time: SystemTime) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(time).unwrap();
}

/// Every regular file under `root`, relative, sorted; links are not followed.
pub fn files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for item in std::fs::read_dir(&dir).unwrap() {
            let item = item.unwrap();
            let kind = item.file_type().unwrap();
            if kind.is_dir() {
                pending.push(item.path());
            } else {
                let rel = item
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// Path → (content hash, mtime) of every file under `root`.
/// Every file under `root` with its hash and time, except the operation log (which every
/// change writes to by design).
pub fn tree(root: &Path) -> BTreeMap<String, (String, SystemTime)> {
    files(root)
        .into_iter()
        .filter(|rel| !rel.starts_with("__marimo__/persist/.ops/"))
        .map(|rel| {
            let path = root.join(&rel);
            let hash = blake3::hash(&std::fs::read(&path).unwrap())
                .to_hex()
                .to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            (rel, (hash, meta.modified().unwrap()))
        })
        .collect()
}

pub fn legacy(root: &Path) -> LegacyHistory {
    LegacyHistory::open(root, None).unwrap()
}

pub fn timeline(history: &dyn History, notebook: &str) -> Timeline {
    history.timeline(notebook).unwrap()
}

/// A part as `show` prints it.
pub fn preview(part: &celltime_store::model::PartInfo, bytes: &[u8]) -> String {
    let options = celltime::preview::RenderOptions {
        colour: false,
        ..Default::default()
    };
    celltime::preview::render_part(part.kind, &part.label, &part.format, bytes, &options).to_text()
}

/// Every part of every entry, read and previewed as `show` does: text as is, pickles and
/// arrays decoded.
pub fn all_previews(history: &dyn History) -> String {
    let mut text = String::new();
    for info in history.notebooks().unwrap() {
        for row in history.timeline(&info.notebook).unwrap().rows {
            let detail = history.detail(&info.notebook, row.id).unwrap();
            for part in &detail.parts {
                let bytes = history.read(&info.notebook, part).unwrap();
                text.push_str(&preview(part, &bytes));
                text.push('\n');
            }
        }
    }
    text
}

/// The operation log of the workspace at `root`.
pub fn oplog(root: &Path) -> celltime_store::ops::OpLog {
    celltime_store::ops::OpLog::at(&celltime_store::store::Workspace::at(root))
}

/// Removes runs through the history as one recorded operation (no plan to check).
pub fn remove(
    history: &dyn History,
    root: &Path,
    ids: &[celltime_store::model::EntryId],
) -> (
    celltime_store::model::Applied,
    celltime_store::ops::Operation,
) {
    let log = oplog(root);
    let recorder = log
        .begin(celltime_store::ops::OpKind::Delete, "test", None)
        .unwrap();
    let id = recorder.id().to_string();
    let applied = history
        .remove(&celltime_store::model::Removal {
            notebook: "notebook",
            ids,
            check: &|_| Ok(()),
            journal: &recorder,
        })
        .unwrap();
    recorder.finish("removed", true).unwrap();
    (applied, log.find(&id).unwrap())
}

/// Undoes an operation through the history.
pub fn undo(
    history: &dyn History,
    root: &Path,
    op: &celltime_store::ops::Operation,
) -> celltime_store::ops::Undone {
    celltime_store::ops::undo(history, &oplog(root), op, "test undo").unwrap()
}

/// The trash batch an operation filled.
pub fn batch_of(root: &Path, op: &celltime_store::ops::Operation) -> PathBuf {
    op.changes
        .iter()
        .find_map(|c| match c {
            celltime_store::model::Change::CacheTrashed { batch, .. } => Some(
                celltime_store::legacy::trash::batch_path(&root.join("__marimo__/cache"), batch),
            ),
            _ => None,
        })
        .expect("the operation trashed cache entries")
}
