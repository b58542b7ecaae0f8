//! One interface over both backends — celltime's own store and marimo's legacy cache folder —
//! so the CLI, the prune planner and the TUI read, plan and apply the same way on either.

use super::entry::{PartKind, PartMask};
use super::keys::{ContentHash, EntryId};
use super::time::Timestamp;
use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// `__marimo__/persist/`
    Store,
    /// `__marimo__/cache/` as marimo writes it
    Legacy,
}

/// A notebook as listings show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotebookInfo {
    pub notebook: String,
    pub cells: usize,
    pub entries: usize,
    pub bytes: u64,
}

/// One entry as a timeline row: everything listings need, no contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: EntryId,
    pub cell: Arc<str>,
    pub module: Arc<str>,
    pub version: Arc<str>,
    pub created_at: Timestamp,
    /// The time is a guess (a file time), not a recorded `created_at`.
    pub approximate_time: bool,
    pub last_used: Option<Timestamp>,
    pub pinned: bool,
    pub size: u64,
    pub parts: PartMask,
    /// Indices into [`Timeline::content_sizes`]; shared contents share an index.
    pub contents: Vec<u32>,
}

/// All entries of one notebook, in execution-key order.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub notebook: String,
    pub rows: Vec<Row>,
    pub content_sizes: Vec<u64>,
}

/// Where a part's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentRef {
    Hash(ContentHash),
    /// A file of the legacy cache, relative to the cache folder; `member` names a value inside
    /// it (a variable of a pickled namespace) when the part is only part of the file.
    File {
        path: String,
        member: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    pub kind: PartKind,
    pub label: String,
    pub format: String,
    pub size: u64,
    pub content: ContentRef,
}

/// An upstream entry an entry was computed from; `id` when it is in this history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentInfo {
    pub notebook: String,
    pub cell: String,
    pub module: String,
    pub version: String,
    pub created_at: Timestamp,
    pub id: EntryId,
}

/// Details of one entry: its parts, parents, and backend facts as (label, value) lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detail {
    pub parts: Vec<PartInfo>,
    pub parents: Vec<ParentInfo>,
    pub facts: Vec<(String, String)>,
}

/// What an apply did, enough to undo it.
#[derive(Debug, Clone)]
pub struct Applied {
    pub notebook: String,
    pub removed: usize,
    pub bytes: u64,
    /// Backend-specific record of what to put back.
    pub undo: UndoToken,
    pub failures: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum UndoToken {
    /// Entries the store removed; re-adding them is possible until `gc` sweeps the contents.
    Store(Vec<super::entry::Entry>),
    /// A trash batch folder of the legacy cache.
    Legacy(std::path::PathBuf),
    /// Applies made on several backends at once (a combined history); undone together.
    Many(Vec<Applied>),
}

/// A user-facing error from a backend, with the one distinction callers act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HistoryError {
    pub busy: bool,
    pub message: String,
}

impl HistoryError {
    pub fn new(message: impl Into<String>) -> HistoryError {
        HistoryError {
            busy: false,
            message: message.into(),
        }
    }
}

pub type HistoryResult<T> = Result<T, HistoryError>;

/// Read, plan and apply over one backend. Methods take `&self` so a UI can read from worker
/// threads; implementations synchronise writes internally.
pub trait History: Send + Sync {
    fn kind(&self) -> BackendKind;
    /// A short description of where the history lives, for titles.
    fn location(&self) -> String;
    fn notebooks(&self) -> HistoryResult<Vec<NotebookInfo>>;
    fn timeline(&self, notebook: &str) -> HistoryResult<Timeline>;
    fn detail(&self, notebook: &str, id: EntryId) -> HistoryResult<Detail>;
    fn read(&self, notebook: &str, part: &PartInfo) -> HistoryResult<Vec<u8>>;
    /// Writes a part's bytes to `out`, streaming them where the backend can (the store's
    /// large objects) so memory does not grow with the part; returns how many were written.
    fn copy_to(
        &self,
        notebook: &str,
        part: &PartInfo,
        out: &mut dyn std::io::Write,
    ) -> HistoryResult<u64> {
        let bytes = self.read(notebook, part)?;
        out.write_all(&bytes)
            .map_err(|e| HistoryError::new(e.to_string()))?;
        Ok(bytes.len() as u64)
    }
    fn remove(&self, notebook: &str, ids: &[EntryId]) -> HistoryResult<Applied>;
    fn undo(&self, applied: &Applied) -> HistoryResult<usize>;
    /// Frees the space removed entries held, where the backend defers it: the store sweeps
    /// unreferenced contents older than its grace period. Returns the bytes freed. Removals
    /// can no longer be undone afterwards.
    fn reclaim(&self, notebook: &str) -> HistoryResult<u64>;
    /// Pins are retention marks; a backend that cannot keep them says so.
    fn set_pinned(&self, notebook: &str, ids: &[EntryId], pinned: bool) -> HistoryResult<usize>;
}
