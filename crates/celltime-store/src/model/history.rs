//! One interface over both backends — celltime's own store and marimo's legacy cache folder —
//! so the CLI, the prune planner and the TUI read, plan and apply the same way on either.

use super::entry::{Entry, PartKind, PartMask};
use super::keys::{ContentHash, EntryId};
use super::time::Timestamp;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// `__marimo__/persist/`
    Store,
    /// `__marimo__/cache/` as marimo writes it
    Legacy,
}

/// Where the copies of one run live: celltime's store, marimo's cache folder, or both (a run
/// imported from marimo's cache, or recorded by the marimo plugin while marimo also wrote it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Copies {
    pub store: bool,
    pub cache: bool,
}

impl Copies {
    pub const STORE: Copies = Copies {
        store: true,
        cache: false,
    };
    pub const CACHE: Copies = Copies {
        store: false,
        cache: true,
    };

    /// `store`, `cache` or `store+cache`, as listings print it.
    pub fn label(self) -> &'static str {
        match (self.store, self.cache) {
            (true, true) => "store+cache",
            (false, true) => "cache",
            _ => "store",
        }
    }
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
    pub copies: Copies,
    /// The hash of the run's code snapshot: two runs have the same code exactly when these
    /// are equal (their module hashes may differ while the code does not).
    pub code: Option<ContentHash>,
}

/// All entries of one notebook, in execution-key order.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub notebook: String,
    pub rows: Vec<Row>,
    pub content_sizes: Vec<u64>,
}

impl Timeline {
    /// The previous code version of row `index` (see [`previous_code_version`]), as an index.
    pub fn previous_code_version(&self, index: usize) -> Option<usize> {
        let row = &self.rows[index];
        let mut older: Vec<usize> = (0..self.rows.len())
            .filter(|&i| {
                let r = &self.rows[i];
                r.cell == row.cell && (&r.created_at, &r.version) < (&row.created_at, &row.version)
            })
            .collect();
        older.sort_by(|&a, &b| {
            let (a, b) = (&self.rows[a], &self.rows[b]);
            (&b.created_at, &b.version).cmp(&(&a.created_at, &a.version))
        });
        let at = previous_code_version(row, older.iter().map(|&i| &self.rows[i]))?;
        Some(older[at])
    }
}

/// The one definition of a run's previous code version, by code text: among the older runs
/// of its cell (`older`, newest first), the first whose code differs from the run's; returns
/// its position in `older`. Runs without a code snapshot are passed over, and a run without
/// one has none. The UI's timeline and Diff tab and `celltime diff` all use it; the UI's
/// "code changed" separators stand where [`Row::code`] changes.
pub fn previous_code_version<'a>(
    row: &Row,
    older: impl IntoIterator<Item = &'a Row>,
) -> Option<usize> {
    let code = row.code?;
    older
        .into_iter()
        .position(|older| older.code.is_some_and(|c| c != code))
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

/// What a removal did. Undoing it goes through the operation log (`crate::ops`), which the
/// backend wrote to before it removed anything.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub notebook: String,
    /// Runs removed (a run with copies in both backends counts once).
    pub removed: usize,
    /// Bytes only the removed runs referenced.
    pub bytes: u64,
    /// Of which in marimo's cache folder: freed only when its trash is emptied.
    pub cache_bytes: u64,
    pub failures: Vec<String>,
}

/// One reversible change, as the operation log records it (docs/FORMAT.md §15): enough to
/// put things back as they were.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Entries removed from the store; undone by putting them back (their contents stay for
    /// the gc grace period after the operation).
    StoreRemoved {
        notebook: String,
        entries: Vec<Entry>,
    },
    /// Entries added to the store (an import, an undone removal); undone by removing them.
    StoreAdded {
        notebook: String,
        ids: Vec<EntryId>,
    },
    Pinned {
        notebook: String,
        ids: Vec<EntryId>,
    },
    Unpinned {
        notebook: String,
        ids: Vec<EntryId>,
    },
    /// `id` chosen as the run marimo is served for its cell and module; `previous` was served
    /// before. Undone by serving `previous` again (while it is live).
    Served {
        notebook: String,
        id: EntryId,
        previous: Option<EntryId>,
    },
    /// marimo cache entries moved into the trash batch `batch` of `cache_dir`; undone by
    /// moving the batch back.
    CacheTrashed {
        cache_dir: PathBuf,
        batch: String,
        ids: Vec<EntryId>,
    },
    /// marimo cache entries moved back out of a trash batch; undone by trashing them again.
    CacheRestored {
        cache_dir: PathBuf,
        batch: String,
        ids: Vec<EntryId>,
    },
}

/// Where a write records its changes before it makes them (write-ahead), so that whatever
/// happens next the change can be undone.
pub trait Journal: Sync {
    fn record(&self, change: &Change) -> HistoryResult<()>;
    /// The operation's id, which names what it leaves behind (a trash batch).
    fn op_id(&self) -> String;
}

/// What a plan relies on, checked against the notebook's fresh timeline right before anything
/// is removed (under the store's lock): an error removes nothing and says what changed.
pub type PlanCheck<'a> = &'a (dyn Fn(&Timeline) -> Result<(), String> + Sync);

/// A removal: which runs, what the plan relied on, where the change is recorded.
pub struct Removal<'a> {
    pub notebook: &'a str,
    pub ids: &'a [EntryId],
    pub check: PlanCheck<'a>,
    pub journal: &'a dyn Journal,
}

/// A user-facing error from a backend, with the one distinction callers act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HistoryError {
    pub busy: bool,
    /// A plan no longer holds: something it relied on changed, nothing was removed.
    pub stale: bool,
    pub message: String,
}

impl HistoryError {
    pub fn new(message: impl Into<String>) -> HistoryError {
        HistoryError {
            busy: false,
            stale: false,
            message: message.into(),
        }
    }

    pub fn stale(message: impl Into<String>) -> HistoryError {
        HistoryError {
            stale: true,
            ..HistoryError::new(message)
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
    /// Removes runs, every copy of each or none: checks the plan against the fresh state
    /// first, records the change in the journal, then removes.
    fn remove(&self, removal: &Removal<'_>) -> HistoryResult<Applied>;
    /// Reverses one recorded change (an undo), recording what it does in `journal`. Returns
    /// how many entries it put back or changed.
    fn reverse(&self, change: &Change, journal: &dyn Journal) -> HistoryResult<usize>;
    /// Frees the space removed entries held, where the backend defers it: the store sweeps
    /// contents nothing references any more, except those of removals younger than its grace
    /// period (they stay undoable); marimo's cache deletes trash batches past that period.
    /// Returns the bytes freed.
    fn reclaim(&self, notebook: &str) -> HistoryResult<u64>;
    /// Where the workspace's operation log lives (`persist/.ops`), if this history has one.
    fn ops_dir(&self) -> Option<PathBuf> {
        None
    }
    /// Pins are retention marks; a backend that cannot keep them says so.
    fn set_pinned(
        &self,
        notebook: &str,
        ids: &[EntryId],
        pinned: bool,
        journal: &dyn Journal,
    ) -> HistoryResult<usize>;
    /// Chooses the run marimo is served for its cell and module from now on (`celltime
    /// serve`), recording it in `journal`; only celltime's store serves marimo.
    fn serve(&self, notebook: &str, id: EntryId, journal: &dyn Journal) -> HistoryResult<()> {
        let _ = (notebook, id, journal);
        Err(HistoryError::new(
            "only runs in celltime's store can be served to marimo; this one is in marimo's own folder",
        ))
    }
}
