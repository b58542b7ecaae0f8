//! One notebook folder: loading its state (map + log), writing (put, remove, pin, use),
//! consolidating the log into the map, and sweeping unreferenced contents.
//!
//! Durability order: contents durable, then the log record durable, then the map. A `remove`
//! record is the one commit point of a deletion; contents go later, in `gc`.

use super::Context;
use super::error::{IoContext, Result, StoreError};
use super::fs::{ItemKind, for_each_block};
use super::layout::NotebookPaths;
use super::map::MapData;
use super::pack::{PackReader, PackWriter};
use super::snapshot::{MapIds, MapStamp};
use crate::Located;
use crate::model::{
    ContentHash, Entry, EntryId, EntryView, NotebookIndex, NotebookKey, PartMask, PartRef,
    Timestamp,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Something a reader noticed and tolerated (or, for errors, refused to write over), or
/// `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: Severity,
    #[serde(flatten)]
    pub at: Located,
}

impl Issue {
    pub fn new(
        severity: Severity,
        path: &Path,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            severity,
            at: Located::new(path, line, message),
        }
    }

    pub fn error(path: &Path, line: Option<usize>, message: impl Into<String>) -> Issue {
        Issue::new(Severity::Error, path, line, message)
    }

    pub fn warning(path: &Path, message: impl Into<String>) -> Issue {
        Issue::new(Severity::Warning, path, None, message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.at.fmt(f)
    }
}

/// `notebook.toml`: marks a folder as a notebook folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotebookFile {
    pub format: i64,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The folded state of a notebook as this process last read it.
#[derive(Debug, Clone)]
struct State {
    data: MapData,
    map_stamp: Option<MapStamp>,
    /// Per segment, the offset up to which records are applied in `data`.
    read_pos: BTreeMap<String, u64>,
    /// Hashes of conflicted map copies merged into `data` by this load.
    merged_copies: BTreeSet<String>,
    issues: Vec<Issue>,
    /// The latest record time applied: new records are stamped after it, so a fresh fold
    /// (which orders records by time) applies them in the order this process did.
    latest_at: Timestamp,
    /// Set when only appending: the map's entries are known by their sorted ids alone (from
    /// the snapshot), and `data.index` holds only what the log adds. Anything else a writer
    /// needs makes it load the whole map first.
    map_ids: Option<MapIds>,
}

impl State {
    fn corruption(&self) -> Option<&Issue> {
        self.issues.iter().find(|i| i.severity == Severity::Error)
    }

    /// Bytes of log records not yet folded into the map.
    fn unfolded_log_bytes(&self) -> u64 {
        self.read_pos
            .iter()
            .map(|(name, pos)| {
                pos.saturating_sub(self.data.log_pos.get(name).copied().unwrap_or(0))
            })
            .sum()
    }
}

/// The segment and the pack this process last added to (both this machine's), and its
/// connection to that pack.
#[derive(Debug, Default)]
struct WriterFiles {
    segment: Option<String>,
    pack: Option<String>,
    pack_writer: Option<PackWriter>,
}

/// What `gc` did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct GcReport {
    pub objects_removed: usize,
    pub object_bytes_freed: u64,
    pub pack_rows_dropped: usize,
    pub pack_bytes_dropped: u64,
    pub packs_compacted: usize,
    pub young_garbage_kept: usize,
    pub temp_files_removed: usize,
    pub unknown_files: Vec<PathBuf>,
    /// Contents swept: removals that needed them can no longer be undone.
    #[serde(skip)]
    pub swept: Vec<ContentHash>,
}

/// What a `get` returns: the entry and the requested parts, each read or failed on its own.
#[derive(Debug)]
pub struct Fetched {
    pub entry: Entry,
    pub parts: Vec<(PartRef, Result<Vec<u8>>)>,
}

/// Where a content missing from a notebook folder can come from: a remote the store shares
/// contents with (`[remote.*]` in `persist.toml`, with the `remote` feature).
pub trait ContentSource: Send + Sync + std::fmt::Debug {
    /// The bytes of `hash`, already checked against it; `Ok(None)` when no source has it, and
    /// an error that names the remote and the object when one could not be read.
    fn fetch(
        &self,
        notebook: &NotebookKey,
        hash: ContentHash,
        size: u64,
    ) -> std::result::Result<Option<Vec<u8>>, String>;
}

/// Reads contents; cheap to clone and safe to use from other threads.
#[derive(Debug, Clone)]
pub struct ContentReader {
    ctx: Arc<Context>,
    key: NotebookKey,
    paths: NotebookPaths,
    packs: Arc<PackReader>,
    importer: Importer,
}

impl ContentReader {
    /// Reads a content and checks it against its hash. Reads take no lock, so a content moved
    /// by a compaction at that very moment can be missed; a miss is therefore retried once
    /// under the shared lock, which no compaction holds. A content this machine does not hold
    /// at all is fetched from the store's remote, when it has one, and kept.
    pub fn read(&self, hash: ContentHash, size: u64) -> Result<Vec<u8>> {
        if let Some(bytes) = self.find(hash, size)? {
            return check_hash(bytes, hash, &self.paths);
        }
        {
            let _lock = self.ctx.lock_shared(&self.paths)?;
            if let Some(bytes) = self.find(hash, size)? {
                return check_hash(bytes, hash, &self.paths);
            }
        }
        self.fetch_missing(hash, size)
    }

    fn fetch_missing(&self, hash: ContentHash, size: u64) -> Result<Vec<u8>> {
        let missing = |why: String| StoreError::MissingContent {
            hash: hash.to_hex(),
            context: format!("notebook folder {}{why}", self.paths.dir.display()),
        };
        let Some(source) = &self.ctx.content_source else {
            return Err(missing(String::new()));
        };
        match source.fetch(&self.key, hash, size) {
            Ok(Some(bytes)) => {
                let bytes = check_hash(bytes, hash, &self.paths)?;
                // Kept when the lock is free at once; a writer holding it (or this very
                // process, mid-write) must not be waited for by a read.
                let _ = self
                    .importer
                    .store(&[(hash, &bytes)], std::time::Duration::ZERO);
                Ok(bytes)
            }
            Ok(None) => Err(missing(", nor on the store's remotes".into())),
            Err(message) => Err(missing(format!("; {message}"))),
        }
    }

    /// Writes a content to `out` after checking it against its hash, streaming large
    /// contents (objects) through a fixed buffer — checked in a first pass, copied in a
    /// second — so memory does not grow with the content. Returns the bytes written.
    pub fn copy_to(&self, hash: ContentHash, size: u64, out: &mut dyn Write) -> Result<u64> {
        let fs = self.ctx.fs.as_ref();
        let object = self.paths.object(hash);
        // An object this machine does not hold as a plain file is left to `read`, which looks
        // in the packs and the remote and says what is missing. Never more than the map
        // records is hashed (one byte more tells a longer object).
        let held = || fs.metadata(&object).is_ok_and(|m| m.kind == ItemKind::File);
        if size > self.ctx.config.inline_threshold && held() {
            let (actual, len) = fs.hash_file(&object, size.saturating_add(1)).at(&object)?;
            if len != size {
                return Err(wrong_size(&object, len, size));
            }
            if ContentHash(*actual.as_bytes()) != hash {
                return Err(corrupt(hash, &self.paths));
            }
            let mut reader = fs.open(&object).at(&object)?.take(size);
            return for_each_block(&mut reader, |block| out.write_all(block)).at(&object);
        }
        let bytes = self.read(hash, size)?;
        out.write_all(&bytes).at(&self.paths.dir)?;
        Ok(bytes.len() as u64)
    }

    /// [`ContentReader::read`] for a caller that holds the notebook's lock: no compaction can
    /// run, so a miss is final (and retrying under the shared lock would wait on ourselves).
    pub(crate) fn read_locked(&self, hash: ContentHash, size: u64) -> Result<Vec<u8>> {
        let bytes = self
            .find(hash, size)?
            .ok_or_else(|| StoreError::MissingContent {
                hash: hash.to_hex(),
                context: format!("notebook folder {}", self.paths.dir.display()),
            })?;
        check_hash(bytes, hash, &self.paths)
    }

    fn find(&self, hash: ContentHash, size: u64) -> Result<Option<Vec<u8>>> {
        let fs = self.ctx.fs.as_ref();
        let object = self.paths.object(hash);
        // Never more than the map records: a longer object is damage, not read whole.
        let limit = usize::try_from(size.saturating_add(1)).unwrap_or(usize::MAX);
        let from_object = || match fs.read_head(&object, limit) {
            Ok(bytes) if bytes.len() as u64 == size => Ok(Some(bytes)),
            Ok(bytes) => Err(wrong_size(&object, bytes.len() as u64, size)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).at(&object),
        };
        let found = if size > self.ctx.config.inline_threshold {
            match from_object()? {
                Some(bytes) => Some(bytes),
                None => self.packs.read(fs, hash, size)?,
            }
        } else {
            match self.packs.read(fs, hash, size)? {
                Some(bytes) => Some(bytes),
                None => from_object()?,
            }
        };
        Ok(found)
    }
}

fn check_hash(bytes: Vec<u8>, hash: ContentHash, paths: &NotebookPaths) -> Result<Vec<u8>> {
    if ContentHash::of(&bytes) != hash {
        return Err(corrupt(hash, paths));
    }
    Ok(bytes)
}

fn corrupt(hash: ContentHash, paths: &NotebookPaths) -> StoreError {
    StoreError::Corrupt(Located::new(
        &paths.dir,
        None,
        format!("content {} does not match its hash", hash.short()),
    ))
}

/// An object whose length is not the size the map records: damage, never read whole.
fn wrong_size(object: &Path, found: u64, size: u64) -> StoreError {
    StoreError::Corrupt(Located::new(
        object,
        None,
        format!(
            "holds {} bytes where the map records {size}; it was not read",
            if found > size { "more" } else { "fewer" }
        ),
    ))
}

pub struct Notebook {
    key: NotebookKey,
    paths: NotebookPaths,
    ctx: Arc<Context>,
    state: State,
    writer: WriterFiles,
    reader: ContentReader,
    importer: Importer,
}

impl std::fmt::Debug for Notebook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notebook").field("key", &self.key).finish()
    }
}

impl Notebook {
    pub(super) fn open(
        ctx: Arc<Context>,
        key: NotebookKey,
        paths: NotebookPaths,
    ) -> Result<Notebook> {
        Notebook::open_as(ctx, key, paths, load_state)
    }

    /// Opens a notebook to add entries only, without reading the map's entries when its
    /// snapshot gives their ids (see `State::map_ids`). Never handed out: see `Store::append`.
    pub(super) fn open_for_append(
        ctx: Arc<Context>,
        key: NotebookKey,
        paths: NotebookPaths,
    ) -> Result<Notebook> {
        Notebook::open_as(ctx, key, paths, load_for_append)
    }

    fn open_as(
        ctx: Arc<Context>,
        key: NotebookKey,
        paths: NotebookPaths,
        load: fn(&Context, &NotebookKey, &NotebookPaths) -> Result<State>,
    ) -> Result<Notebook> {
        let state = {
            let _lock = ctx.lock_shared(&paths)?;
            load(&ctx, &key, &paths)?
        };
        let importer = Importer::new(ctx.clone(), paths.clone());
        let reader = ContentReader {
            ctx: ctx.clone(),
            key: key.clone(),
            paths: paths.clone(),
            packs: Arc::new(PackReader::new(paths.packs_dir())),
            importer: importer.clone(),
        };
        Ok(Notebook {
            key,
            paths,
            ctx,
            state,
            writer: WriterFiles::default(),
            reader,
            importer,
        })
    }

    pub fn key(&self) -> &NotebookKey {
        &self.key
    }

    pub fn dir(&self) -> &Path {
        &self.paths.dir
    }

    pub fn index(&self) -> &NotebookIndex {
        debug_assert!(
            self.state.map_ids.is_none(),
            "an appending notebook is never handed out"
        );
        &self.state.data.index
    }

    /// What the last load noticed: torn tails, conflict copies, corrupt lines.
    pub fn issues(&self) -> &[Issue] {
        &self.state.issues
    }

    pub fn reader(&self) -> ContentReader {
        self.reader.clone()
    }

    /// Picks up what other processes wrote: the records appended to the log since the last
    /// read, or everything again when the map was replaced or conflicted copies are around.
    pub fn reload(&mut self) -> Result<()> {
        let _lock = self.ctx.lock_shared(&self.paths)?;
        let copies = load::has_conflicted_copies(&self.ctx, &self.paths);
        if copies == Some(false) && self.state.merged_copies.is_empty() {
            load::refresh(&self.ctx, &self.key, &self.paths, &mut self.state)
        } else {
            self.state = load_state(&self.ctx, &self.key, &self.paths)?;
            Ok(())
        }
    }

    /// Picks up what other processes appended to the log since the last read (a replaced map
    /// means a full reload): cheap, for long-lived readers such as the marimo plugin.
    pub fn refresh(&mut self) -> Result<()> {
        let _lock = self.ctx.lock_shared(&self.paths)?;
        load::refresh(&self.ctx, &self.key, &self.paths, &mut self.state)
    }

    /// The run marimo is served for one module of one cell, among the runs `accept` allows:
    /// the one created or chosen (`serve`) last.
    pub fn served(
        &mut self,
        cell: &str,
        module: &str,
        accept: impl Fn(&NotebookIndex, &EntryView<'_>) -> bool,
    ) -> Option<EntryId> {
        self.alternatives(cell, module)
            .iter()
            .filter_map(|id| self.index().view(*id))
            .filter(|v| accept(self.index(), v))
            .max_by_key(|v| (v.standing(), v.created_at, v.id))
            .map(|v| v.id)
    }

    /// Every live run of one module of one cell, in no particular order.
    pub fn alternatives(&mut self, cell: &str, module: &str) -> Vec<EntryId> {
        self.state.data.index.alternatives(cell, module)
    }

    /// The newest entry of (cell, module, version) created at or before `at`, or the newest.
    pub fn find(
        &self,
        cell: &str,
        module: &str,
        version: &str,
        at: Option<Timestamp>,
    ) -> Option<EntryId> {
        self.index().latest(cell, module, version, at)
    }

    /// An entry and the parts of the kinds in `kinds`; a missing content fails only its part.
    pub fn get(&self, id: EntryId, kinds: PartMask) -> Option<Fetched> {
        let entry = self.index().get(id)?;
        let parts = entry
            .parts
            .iter()
            .filter(|p| kinds.contains(p.kind))
            .map(|p| (p.clone(), self.reader.read(p.content, p.size)))
            .collect();
        Some(Fetched { entry, parts })
    }

    /// Every content file the folder holds, for verify: packs and objects.
    pub(super) fn paths(&self) -> &NotebookPaths {
        &self.paths
    }

    pub(super) fn context(&self) -> &Arc<Context> {
        &self.ctx
    }
}

mod contents;
mod load;
mod maintain;
mod write;

pub use contents::{Importer, ObjectWriter};
pub use write::Locked;

pub(super) use load::quick_summary;
use load::{load_for_append, load_state};
pub use maintain::CONSOLIDATE_AFTER;
