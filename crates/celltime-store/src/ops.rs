//! The operation log, as jj keeps one: every command that changes a workspace (prune, a TUI
//! deletion, pin, unpin, import, consolidate, gc, undo, …) records an operation — when, who
//! (user, host, process), the command, and each change with enough to reverse it — in
//! `__marimo__/persist/.ops/`, one file per operation (docs/FORMAT.md §15).
//!
//! Changes are written ahead: a backend records a change (durably) before it makes it, so a
//! removal is undoable whatever happens after. Each file is written by the one process that
//! made the operation, so sync tools never see two machines edit one file, and the log of a
//! synced store is simply the union of the files. Adding a kind of operation is one variant
//! of [`OpKind`].

use crate::model::{Change, ContentHash, EntryId, History, HistoryError, HistoryResult, Journal};
use crate::model::{NotebookKey, Timestamp};
use crate::store::fs::{Fs, ItemKind, RealFs, random_hex};
use crate::store::log::{self, parse_lines};
use crate::store::wire::WireEntry;
use crate::store::{IoContext, Result};
use crate::store::{Store, Workspace, writer_id};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The folder of the log, in the store root. Its name cannot be a notebook's (keys never
/// start with a dot), and readers of the store ignore it.
pub const OPS_DIR: &str = ".ops";
/// The format of operation files.
pub const OP_FORMAT: u32 = 1;
const OP_SUFFIX: &str = ".jsonl";
/// Characters of an operation id shown by default; commands accept any unique prefix.
pub const SHORT_OP_LEN: usize = 12;

/// What an operation was. Serialised in kebab case (`trash-empty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    Prune,
    /// Runs deleted in the terminal UI.
    Delete,
    Pin,
    Unpin,
    /// A run chosen as the one marimo is served (`celltime serve`, the UI's `S`).
    Serve,
    Import,
    Consolidate,
    Gc,
    Undo,
    /// Trash batches of marimo's cache deleted for good.
    TrashEmpty,
    /// A trash batch no operation names (made by an older celltime) moved back.
    TrashRestore,
}

impl OpKind {
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Prune => "prune",
            OpKind::Delete => "delete",
            OpKind::Pin => "pin",
            OpKind::Unpin => "unpin",
            OpKind::Serve => "serve",
            OpKind::Import => "import",
            OpKind::Consolidate => "consolidate",
            OpKind::Gc => "gc",
            OpKind::Undo => "undo",
            OpKind::TrashEmpty => "trash-empty",
            OpKind::TrashRestore => "trash-restore",
        }
    }
}

/// Who made an operation and how it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    /// 32 hex digits.
    pub id: String,
    pub kind: OpKind,
    pub at: Timestamp,
    pub user: String,
    pub host: String,
    pub pid: u32,
    pub writer: String,
    /// The command line (or the UI action) that made it.
    pub command: String,
    /// For an undo: the operation it reverses.
    pub undoes: Option<String>,
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct End {
    pub at: Timestamp,
    pub summary: String,
    pub ok: bool,
}

/// One operation as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub header: Header,
    pub changes: Vec<Change>,
    /// None when its process stopped before finishing (a crash): its changes may be partly
    /// made; undoing it puts back whatever was changed.
    pub end: Option<End>,
    pub file: PathBuf,
}

impl Operation {
    pub fn short_id(&self) -> &str {
        &self.header.id[..SHORT_OP_LEN.min(self.header.id.len())]
    }

    /// Did it change anything an undo can put back?
    pub fn reversible(&self) -> bool {
        !self.changes.is_empty()
    }
}

// ---- on disk ----

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "rec", rename_all = "snake_case", deny_unknown_fields)]
enum Line {
    Begin {
        format: u32,
        id: String,
        kind: OpKind,
        at: Timestamp,
        user: String,
        host: String,
        pid: u32,
        writer: String,
        command: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        undoes: Option<String>,
    },
    Change {
        at: Timestamp,
        change: WireChange,
    },
    End {
        at: Timestamp,
        summary: String,
        ok: bool,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum WireChange {
    StoreRemoved {
        notebook: String,
        entries: Vec<WireEntry>,
    },
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
    Served {
        notebook: String,
        id: EntryId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<EntryId>,
    },
    CacheTrashed {
        cache_dir: String,
        batch: String,
        ids: Vec<EntryId>,
    },
    CacheRestored {
        cache_dir: String,
        batch: String,
        ids: Vec<EntryId>,
    },
}

impl WireChange {
    fn of(change: &Change) -> WireChange {
        let path = |p: &Path| p.display().to_string();
        match change {
            Change::StoreRemoved { notebook, entries } => WireChange::StoreRemoved {
                notebook: notebook.clone(),
                entries: entries.iter().map(WireEntry::from_entry).collect(),
            },
            Change::StoreAdded { notebook, ids } => WireChange::StoreAdded {
                notebook: notebook.clone(),
                ids: ids.clone(),
            },
            Change::Pinned { notebook, ids } => WireChange::Pinned {
                notebook: notebook.clone(),
                ids: ids.clone(),
            },
            Change::Unpinned { notebook, ids } => WireChange::Unpinned {
                notebook: notebook.clone(),
                ids: ids.clone(),
            },
            Change::Served {
                notebook,
                id,
                previous,
            } => WireChange::Served {
                notebook: notebook.clone(),
                id: *id,
                previous: *previous,
            },
            Change::CacheTrashed {
                cache_dir,
                batch,
                ids,
            } => WireChange::CacheTrashed {
                cache_dir: path(cache_dir),
                batch: batch.clone(),
                ids: ids.clone(),
            },
            Change::CacheRestored {
                cache_dir,
                batch,
                ids,
            } => WireChange::CacheRestored {
                cache_dir: path(cache_dir),
                batch: batch.clone(),
                ids: ids.clone(),
            },
        }
    }

    fn into_change(self) -> std::result::Result<Change, String> {
        Ok(match self {
            WireChange::StoreRemoved { notebook, entries } => {
                let key = NotebookKey::new(&notebook).map_err(|e| e.to_string())?;
                let entries = entries
                    .into_iter()
                    .map(|e| e.into_entry(&key).map_err(|e| e.to_string()))
                    .collect::<std::result::Result<_, _>>()?;
                Change::StoreRemoved { notebook, entries }
            }
            WireChange::StoreAdded { notebook, ids } => Change::StoreAdded { notebook, ids },
            WireChange::Pinned { notebook, ids } => Change::Pinned { notebook, ids },
            WireChange::Unpinned { notebook, ids } => Change::Unpinned { notebook, ids },
            WireChange::Served {
                notebook,
                id,
                previous,
            } => Change::Served {
                notebook,
                id,
                previous,
            },
            WireChange::CacheTrashed {
                cache_dir,
                batch,
                ids,
            } => Change::CacheTrashed {
                cache_dir: cache_dir.into(),
                batch,
                ids,
            },
            WireChange::CacheRestored {
                cache_dir,
                batch,
                ids,
            } => Change::CacheRestored {
                cache_dir: cache_dir.into(),
                batch,
                ids,
            },
        })
    }
}

/// An operation file that could not be read, and why.
pub type Damaged = (PathBuf, String);

/// The operation log of a workspace's store.
#[derive(Debug, Clone)]
pub struct OpLog {
    dir: PathBuf,
    writer: String,
    fs: Arc<dyn Fs>,
}

impl OpLog {
    /// The log of the store of `workspace`, written as this machine.
    pub fn at(workspace: &Workspace) -> OpLog {
        OpLog {
            dir: workspace.persist_dir().join(OPS_DIR),
            writer: writer_id(),
            fs: Arc::new(RealFs),
        }
    }

    /// The log of the workspace a history reads, written as this machine.
    pub fn of_history(history: &dyn History) -> Option<OpLog> {
        Some(OpLog {
            dir: history.ops_dir()?,
            writer: writer_id(),
            fs: Arc::new(RealFs),
        })
    }

    /// The log in `dir`, written as `writer`.
    pub fn in_dir(dir: PathBuf, writer: String, fs: Arc<dyn Fs>) -> OpLog {
        OpLog { dir, writer, fs }
    }

    /// The log of `store`, with its writer id and file system.
    pub fn of(store: &Store) -> OpLog {
        let ctx = store.context();
        OpLog {
            dir: ctx.persist_dir().join(OPS_DIR),
            writer: ctx.writer.clone(),
            fs: ctx.fs.clone(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts an operation: its header is durable before this returns.
    pub fn begin(&self, kind: OpKind, command: &str, undoes: Option<&str>) -> Result<Recorder> {
        self.begin_with_id(kind, command, undoes, &random_hex(32))
    }

    fn begin_with_id(
        &self,
        kind: OpKind,
        command: &str,
        undoes: Option<&str>,
        id: &str,
    ) -> Result<Recorder> {
        self.fs.create_dir_all(&self.dir).at(&self.dir)?;
        let id = id.to_string();
        let path = self.dir.join(format!("{}-{id}{OP_SUFFIX}", self.writer));
        let line = Line::Begin {
            format: OP_FORMAT,
            id: id.clone(),
            kind,
            at: Timestamp::now(),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("USERNAME"))
                .unwrap_or_else(|_| "unknown".into()),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
            writer: self.writer.clone(),
            command: command.to_string(),
            undoes: undoes.map(str::to_string),
        };
        log::append(self.fs.as_ref(), &path, &[line])?;
        self.fs.sync_dir(&self.dir).at(&self.dir)?;
        Ok(Recorder {
            path,
            id,
            fs: self.fs.clone(),
            ended: Mutex::new(false),
        })
    }

    /// Every operation, oldest first. A file that cannot be read as one is skipped (it is
    /// reported by `op log`, see [`OpLog::damaged`]).
    pub fn list(&self) -> Result<Vec<Operation>> {
        let (mut ops, _) = self.read_all()?;
        ops.sort_by(|a, b| (a.header.at, &a.header.id).cmp(&(b.header.at, &b.header.id)));
        Ok(ops)
    }

    /// Operation files that could not be read, with why.
    pub fn damaged(&self) -> Result<Vec<Damaged>> {
        Ok(self.read_all()?.1)
    }

    fn read_all(&self) -> Result<(Vec<Operation>, Vec<Damaged>)> {
        let items = match self.fs.read_dir(&self.dir) {
            Ok(items) => items,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
            Err(e) => return Err(e).at(&self.dir),
        };
        let mut ops = Vec::new();
        let mut damaged = Vec::new();
        for item in items {
            if item.kind != ItemKind::File
                || item.name.starts_with('.')
                || !item.name.ends_with(OP_SUFFIX)
            {
                continue;
            }
            let path = self.dir.join(&item.name);
            let bytes = self.fs.read(&path).at(&path)?;
            match read_operation(&bytes, &path) {
                Ok(op) => ops.push(op),
                Err(reason) => damaged.push((path, reason)),
            }
        }
        Ok((ops, damaged))
    }

    /// The operation whose id starts with `prefix` (4 hex digits or more).
    pub fn find(&self, prefix: &str) -> std::result::Result<Operation, String> {
        let prefix = prefix.to_ascii_lowercase();
        if prefix.len() < 4 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{prefix:?} is not an operation id: give at least 4 hex digits (`celltime op log` shows them)"
            ));
        }
        let ops = self.list().map_err(|e| e.to_string())?;
        let mut found: Vec<Operation> = ops
            .into_iter()
            .filter(|op| op.header.id.starts_with(&prefix))
            .collect();
        match found.len() {
            0 => Err(format!("no operation id starts with {prefix:?}")),
            1 => Ok(found.remove(0)),
            n => Err(format!(
                "{prefix:?} matches {n} operations; give more characters of the id"
            )),
        }
    }

    /// Contents of `notebook`'s entries removed by operations that started after `cutoff`:
    /// gc keeps them, so those removals stay undoable for the grace period.
    pub fn retained(&self, notebook: &str, cutoff: Timestamp) -> Result<HashSet<ContentHash>> {
        let mut keep = HashSet::new();
        for op in self.list()? {
            if op.header.at <= cutoff {
                continue;
            }
            for change in &op.changes {
                if let Change::StoreRemoved {
                    notebook: nb,
                    entries,
                } = change
                    && nb == notebook
                {
                    keep.extend(
                        entries
                            .iter()
                            .flat_map(|e| e.parts.iter().map(|p| p.content)),
                    );
                }
            }
        }
        Ok(keep)
    }
}

fn read_operation(bytes: &[u8], path: &Path) -> std::result::Result<Operation, String> {
    let read = parse_lines::<Line>(bytes, 0);
    if let Some((line, reason)) = &read.corrupt {
        return Err(format!("line {line}: {reason}"));
    }
    let mut lines = read.records.into_iter().map(|(_, line)| line);
    let header = match lines.next() {
        Some(Line::Begin {
            format,
            id,
            kind,
            at,
            user,
            host,
            pid,
            writer,
            command,
            undoes,
        }) => {
            if format > OP_FORMAT {
                return Err(format!(
                    "operation format {format} is newer than this celltime reads ({OP_FORMAT})"
                ));
            }
            Header {
                id,
                kind,
                at,
                user,
                host,
                pid,
                writer,
                command,
                undoes,
            }
        }
        _ => return Err("does not start with an operation header".into()),
    };
    let mut op = Operation {
        header,
        changes: Vec::new(),
        end: None,
        file: path.to_path_buf(),
    };
    for line in lines {
        match line {
            Line::Change { change, .. } => op.changes.push(change.into_change()?),
            Line::End { at, summary, ok } => op.end = Some(End { at, summary, ok }),
            Line::Begin { .. } => return Err("holds a second header".into()),
        }
    }
    Ok(op)
}

/// An operation in progress. Changes are appended (and synced) as they are recorded; an
/// operation dropped without [`Recorder::finish`] ends as "stopped before it finished".
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    id: String,
    fs: Arc<dyn Fs>,
    ended: Mutex<bool>,
}

impl Recorder {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn finish(self, summary: &str, ok: bool) -> Result<()> {
        self.end(summary, ok)
    }

    fn end(&self, summary: &str, ok: bool) -> Result<()> {
        let mut ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
        if *ended {
            return Ok(());
        }
        *ended = true;
        let line = Line::End {
            at: Timestamp::now(),
            summary: summary.to_string(),
            ok,
        };
        log::append(self.fs.as_ref(), &self.path, &[line])?;
        Ok(())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.end("stopped before it finished", false);
    }
}

impl Journal for Recorder {
    fn record(&self, change: &Change) -> HistoryResult<()> {
        if change_is_empty(change) {
            return Ok(());
        }
        let line = Line::Change {
            at: Timestamp::now(),
            change: WireChange::of(change),
        };
        log::append(self.fs.as_ref(), &self.path, &[line])
            .map(|_| ())
            .map_err(HistoryError::from)
    }

    fn op_id(&self) -> String {
        self.id.clone()
    }
}

fn change_is_empty(change: &Change) -> bool {
    match change {
        Change::StoreRemoved { entries, .. } => entries.is_empty(),
        Change::StoreAdded { ids, .. }
        | Change::Pinned { ids, .. }
        | Change::Unpinned { ids, .. }
        | Change::CacheTrashed { ids, .. }
        | Change::CacheRestored { ids, .. } => ids.is_empty(),
        Change::Served { .. } => false,
    }
}

/// How many entries a change concerns, for summaries.
pub fn change_size(change: &Change) -> usize {
    match change {
        Change::StoreRemoved { entries, .. } => entries.len(),
        Change::StoreAdded { ids, .. }
        | Change::Pinned { ids, .. }
        | Change::Unpinned { ids, .. }
        | Change::CacheTrashed { ids, .. }
        | Change::CacheRestored { ids, .. } => ids.len(),
        Change::Served { .. } => 1,
    }
}

/// An operation that begins (writes its file) only when its first change is recorded: for
/// commands that often change nothing (an import pass, a pin of pinned entries).
pub struct Lazy<'l> {
    log: &'l OpLog,
    kind: OpKind,
    command: String,
    id: String,
    started: Mutex<Option<Recorder>>,
}

impl<'l> Lazy<'l> {
    pub fn new(log: &'l OpLog, kind: OpKind, command: &str) -> Lazy<'l> {
        Lazy {
            log,
            kind,
            command: command.to_string(),
            id: random_hex(32),
            started: Mutex::new(None),
        }
    }

    /// Ends the operation if it began; returns its id then.
    pub fn finish(self, summary: &str, ok: bool) -> Result<Option<String>> {
        let started = self.started.into_inner().unwrap_or_else(|e| e.into_inner());
        match started {
            Some(recorder) => {
                let id = recorder.id().to_string();
                recorder.finish(summary, ok)?;
                Ok(Some(id))
            }
            None => Ok(None),
        }
    }
}

impl Journal for Lazy<'_> {
    fn record(&self, change: &Change) -> HistoryResult<()> {
        if change_is_empty(change) {
            return Ok(());
        }
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        if started.is_none() {
            *started = Some(
                self.log
                    .begin_with_id(self.kind, &self.command, None, &self.id)?,
            );
        }
        started.as_ref().expect("begun above").record(change)
    }

    fn op_id(&self) -> String {
        self.id.clone()
    }
}

/// Runs `work` as one operation of `kind` (begun at its first change, so work that changes
/// nothing leaves no operation) and ends it with `describe`'s summary, or the error.
pub fn journaled<T>(
    log: &OpLog,
    kind: OpKind,
    command: &str,
    work: impl FnOnce(&dyn Journal) -> HistoryResult<T>,
    describe: impl FnOnce(&T) -> String,
) -> HistoryResult<T> {
    let journal = Lazy::new(log, kind, command);
    let result = work(&journal);
    let (summary, ok) = match &result {
        Ok(done) => (describe(done), true),
        Err(e) => (format!("failed: {}", e.message), false),
    };
    journal.finish(&summary, ok)?;
    result
}

/// A journal that records nothing, for writes no operation owns (tests, fixtures).
pub struct Unrecorded;

impl Journal for Unrecorded {
    fn record(&self, _change: &Change) -> HistoryResult<()> {
        Ok(())
    }

    fn op_id(&self) -> String {
        random_hex(32)
    }
}

/// The operation `celltime undo` and the UI's `u` reverse by default: the newest one that
/// changed something, is not itself an undo, and has not been undone yet.
pub fn last_undoable(ops: &[Operation]) -> Option<&Operation> {
    let undone = undone_ids(ops);
    ops.iter().rev().find(|op| {
        op.header.kind != OpKind::Undo && op.reversible() && !undone.contains(&*op.header.id)
    })
}

/// Ids of operations some undo reversed.
pub fn undone_ids(ops: &[Operation]) -> HashSet<&str> {
    ops.iter()
        .filter(|op| op.end.as_ref().is_some_and(|e| e.ok))
        .filter_map(|op| op.header.undoes.as_deref())
        .collect()
}

/// What an undo did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Undone {
    pub op: String,
    /// Entries (runs, pins) put back as they were.
    pub restored: usize,
    pub failures: Vec<String>,
}

/// Reverses `target` through `history`, newest change first, recorded as an `undo`
/// operation. A change that cannot be reversed any more (contents swept, a trash batch
/// emptied) is reported; the others are still reversed.
pub fn undo(
    history: &dyn History,
    log: &OpLog,
    target: &Operation,
    command: &str,
) -> std::result::Result<Undone, HistoryError> {
    if !target.reversible() {
        return Err(HistoryError::new(format!(
            "operation {} ({}) changed no entries; there is nothing to undo",
            target.short_id(),
            target.header.kind.name()
        )));
    }
    let recorder = log
        .begin(OpKind::Undo, command, Some(&target.header.id))
        .map_err(HistoryError::from)?;
    let mut done = Undone {
        op: recorder.id().to_string(),
        ..Undone::default()
    };
    for change in target.changes.iter().rev() {
        match history.reverse(change, &recorder) {
            Ok(n) => done.restored += n,
            Err(e) => done.failures.push(e.message),
        }
    }
    let summary = format!(
        "undid {} {}: {} back{}",
        target.header.kind.name(),
        target.short_id(),
        crate::units::count(done.restored, "entry", "entries"),
        if done.failures.is_empty() {
            String::new()
        } else {
            format!("; {}", done.failures.join("; "))
        }
    );
    recorder
        .finish(&summary, done.failures.is_empty())
        .map_err(HistoryError::from)?;
    Ok(done)
}
