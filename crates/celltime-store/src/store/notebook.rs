//! One notebook folder: loading its state (map + log), writing (put, remove, pin, use),
//! consolidating the log into the map, and sweeping unreferenced contents.
//!
//! Durability order: contents durable, then the log record durable, then the map. A `remove`
//! record is the one commit point of a deletion; contents go later, in `gc`.

use super::Context;
use super::error::{IoContext, Result, StoreError};
use super::failpoint;
use super::fs::{DirItem, ItemKind, is_real_dir, write_atomic};
use super::layout::{MAP_FILE, NotebookPaths};
use super::log::{self, Record, SEGMENT_SUFFIX};
use super::map::{self, MapData};
use super::objects;
use super::pack::{self, PACK_SUFFIX, PackReader};
use super::snapshot::{self, MapStamp};
use super::wire::WireEntry;
use crate::model::{
    ContentHash, Entry, EntryId, ExecKey, NewEntry, NotebookIndex, NotebookKey, PartMask, PartRef,
    Timestamp, check_part_labels,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Something a reader noticed and tolerated (or, for errors, refused to write over).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: Severity,
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
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
        let line = self.line.map(|l| format!(":{l}")).unwrap_or_default();
        write!(f, "{}{line}: {}", self.path.display(), self.message)
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
}

impl State {
    fn corruption(&self) -> Option<&Issue> {
        self.issues.iter().find(|i| i.severity == Severity::Error)
    }
}

/// Files this process writes to; each is created on first use with a fresh random name.
#[derive(Debug, Default)]
struct WriterFiles {
    /// The segment and the length this process expects it to have.
    segment: Option<(String, u64)>,
    pack: Option<String>,
    /// Hashes held by this machine's packs (loaded on first write).
    own_pack_hashes: Option<OwnPacks>,
}

/// The contents this machine's packs hold, and which packs they were read from. Another
/// process of this machine may compact the packs (dropping rows nothing referenced), so the
/// set is only trusted while every pack it was read from still exists.
#[derive(Debug, Default)]
struct OwnPacks {
    packs: BTreeSet<String>,
    hashes: HashSet<ContentHash>,
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
}

/// What a `get` returns: the entry and the requested parts, each read or failed on its own.
#[derive(Debug)]
pub struct Fetched {
    pub entry: Entry,
    pub parts: Vec<(PartRef, Result<Vec<u8>>)>,
}

/// Reads contents; cheap to clone and safe to use from other threads.
#[derive(Debug, Clone)]
pub struct ContentReader {
    ctx: Arc<Context>,
    paths: NotebookPaths,
    packs: Arc<PackReader>,
}

impl ContentReader {
    /// Reads a content and checks it against its hash. Reads take no lock, so a content moved
    /// by a compaction at that very moment can be missed; a miss is therefore retried once
    /// under the shared lock, which no compaction holds.
    pub fn read(&self, hash: ContentHash, size: u64) -> Result<Vec<u8>> {
        match self.find(hash, size)? {
            Some(bytes) => check_hash(bytes, hash, &self.paths),
            None => {
                let _lock = self.ctx.lock_shared(&self.paths)?;
                let bytes = self
                    .find(hash, size)?
                    .ok_or_else(|| StoreError::MissingContent {
                        hash: hash.to_hex(),
                        context: format!("notebook folder {}", self.paths.dir.display()),
                    })?;
                check_hash(bytes, hash, &self.paths)
            }
        }
    }

    fn find(&self, hash: ContentHash, size: u64) -> Result<Option<Vec<u8>>> {
        let fs = self.ctx.fs.as_ref();
        let object = self.paths.object(hash);
        let from_object = || match fs.read(&object) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).at(&object),
        };
        let found = if size > self.ctx.config.inline_threshold {
            match from_object()? {
                Some(bytes) => Some(bytes),
                None => self.packs.read(fs, hash)?,
            }
        } else {
            match self.packs.read(fs, hash)? {
                Some(bytes) => Some(bytes),
                None => from_object()?,
            }
        };
        Ok(found)
    }
}

fn check_hash(bytes: Vec<u8>, hash: ContentHash, paths: &NotebookPaths) -> Result<Vec<u8>> {
    if ContentHash::of(&bytes) != hash {
        return Err(StoreError::Corrupt {
            path: paths.dir.clone(),
            what: format!("content {} does not match its hash", hash.short()),
        });
    }
    Ok(bytes)
}

pub struct Notebook {
    key: NotebookKey,
    paths: NotebookPaths,
    ctx: Arc<Context>,
    state: State,
    writer: WriterFiles,
    reader: ContentReader,
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
        let state = {
            let _lock = ctx.lock_shared(&paths)?;
            load_state(&ctx, &key, &paths)?
        };
        let reader = ContentReader {
            ctx: ctx.clone(),
            paths: paths.clone(),
            packs: Arc::new(PackReader::new(paths.packs_dir())),
        };
        Ok(Notebook {
            key,
            paths,
            ctx,
            state,
            writer: WriterFiles::default(),
            reader,
        })
    }

    pub fn key(&self) -> &NotebookKey {
        &self.key
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.paths.dir
    }

    pub fn index(&self) -> &NotebookIndex {
        &self.state.data.index
    }

    /// What the last load noticed: torn tails, conflict copies, corrupt lines.
    pub fn issues(&self) -> &[Issue] {
        &self.state.issues
    }

    pub fn reader(&self) -> ContentReader {
        self.reader.clone()
    }

    /// Re-reads the folder (another process may have written).
    pub fn reload(&mut self) -> Result<()> {
        let _lock = self.ctx.lock_shared(&self.paths)?;
        self.state = load_state(&self.ctx, &self.key, &self.paths)?;
        Ok(())
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

    /// The `at` of a record written now: the clock, but never before a record already applied.
    fn record_time(&mut self) -> Timestamp {
        let at = Timestamp::now().max(Timestamp(self.state.latest_at.0.saturating_add(1)));
        self.state.latest_at = at;
        at
    }

    pub fn put(&mut self, entry: NewEntry) -> Result<ExecKey> {
        Ok(self.put_batch(vec![entry])?.remove(0))
    }

    /// Writes entries: contents first (durably), then one log append (durably).
    /// Re-putting an identical entry is a no-op; the same key with other contents is a clash.
    pub fn put_batch(&mut self, entries: Vec<NewEntry>) -> Result<Vec<ExecKey>> {
        for entry in &entries {
            if entry.notebook != self.key {
                return Err(StoreError::UnknownNotebook(format!(
                    "entry for notebook {:?} put into {:?}",
                    entry.notebook.as_str(),
                    self.key.as_str()
                )));
            }
            for part in &entry.parts {
                check_part_labels(part.kind, &part.label, &part.format)?;
            }
        }
        let _lock = self.ctx.lock_exclusive(&self.paths)?;
        self.refresh_for_write()?;
        let now = Timestamp::now();
        let mut batch_ids = HashSet::new();
        let mut accepted: Vec<(Entry, &NewEntry)> = Vec::new();
        let mut keys = Vec::new();
        for new in &entries {
            let entry = self.prepare(new, now, &batch_ids)?;
            let id = entry.key.id();
            keys.push(entry.key.clone());
            if batch_ids.insert(id) && !self.index().contains(id) {
                accepted.push((entry, new));
            }
        }
        if accepted.is_empty() {
            return Ok(keys);
        }
        self.write_contents(&accepted)?;
        failpoint::hit("put.after_content");
        let at = self.record_time();
        let records: Vec<Record> = accepted
            .iter()
            .map(|(entry, _)| Record::Put {
                at,
                entry: Box::new(WireEntry::from_entry(entry)),
            })
            .collect();
        self.append(&records)?;
        failpoint::hit("put.after_log");
        for (entry, _) in &accepted {
            self.state.data.index.insert(entry);
        }
        Ok(keys)
    }

    /// The entry a `NewEntry` becomes, checked against what the store holds.
    fn prepare(&self, new: &NewEntry, now: Timestamp, batch: &HashSet<EntryId>) -> Result<Entry> {
        let mut created = new.created_at.unwrap_or(now);
        let times = std::iter::once(created).chain(new.parents.iter().map(|p| p.created_at));
        if let Some(bad) = times.into_iter().find(|t| !t.is_writable()) {
            return Err(unwritable_time(bad));
        }
        let key_at = |created_at| ExecKey {
            notebook: new.notebook.clone(),
            cell: new.cell.clone(),
            module: new.module.clone(),
            version: new.version.clone(),
            created_at,
        };
        let parts: Vec<PartRef> = new
            .parts
            .iter()
            .map(|p| PartRef {
                kind: p.kind,
                label: p.label.clone(),
                format: p.format.clone(),
                content: ContentHash::of(&p.bytes),
                size: p.bytes.len() as u64,
            })
            .collect();
        let mut entry = Entry {
            key: key_at(created),
            parts,
            parents: new.parents.clone(),
            pinned: new.pinned,
            last_used: None,
        };
        // A defaulted created_at moves on by a millisecond rather than collide with another run.
        if new.created_at.is_none() {
            while batch.contains(&entry.key.id()) || self.index().contains(entry.key.id()) {
                created = Timestamp(created.0 + 1);
                entry.key = key_at(created);
            }
        }
        if let Some(existing) = self.index().get(entry.key.id()) {
            let mut mine = entry.parts.clone();
            let mut theirs = existing.parts.clone();
            mine.sort();
            theirs.sort();
            if mine != theirs || existing.parents != entry.parents {
                return Err(StoreError::Clash(entry.key.id()));
            }
        }
        Ok(entry)
    }

    fn write_contents(&mut self, accepted: &[(Entry, &NewEntry)]) -> Result<()> {
        let fs = self.ctx.fs.clone();
        let threshold = self.ctx.config.inline_threshold;
        let objects_dir = self.paths.objects_dir();
        let own_hashes = self.own_pack_hashes()?;
        let mut small: Vec<(ContentHash, &[u8])> = Vec::new();
        let mut large: Vec<(ContentHash, &[u8])> = Vec::new();
        let mut seen = HashSet::new();
        for (entry, new) in accepted {
            for (part, bytes) in entry.parts.iter().zip(new.parts.iter().map(|p| &p.bytes)) {
                if !seen.insert(part.content) {
                    continue;
                }
                if part.size > threshold {
                    large.push((part.content, bytes));
                } else if !own_hashes.contains(&part.content) {
                    small.push((part.content, bytes));
                }
            }
        }
        for (hash, bytes) in large {
            objects::write(fs.as_ref(), &objects_dir, hash, bytes)?;
        }
        if small.is_empty() {
            return Ok(());
        }
        let pack_path = self.current_pack()?;
        pack::insert(fs.as_ref(), &pack_path, &small)?;
        let own = self
            .writer
            .own_pack_hashes
            .get_or_insert_with(OwnPacks::default);
        own.hashes.extend(small.iter().map(|(h, _)| *h));
        if let Some(name) = pack_path.file_name() {
            own.packs.insert(name.to_string_lossy().into_owned());
        }
        Ok(())
    }

    /// Under the lock: the contents of this machine's packs, re-read when a pack it was read
    /// from has gone (compacted), extended when new packs appeared.
    fn own_pack_hashes(&mut self) -> Result<&HashSet<ContentHash>> {
        let dir = self.paths.packs_dir();
        let present: BTreeSet<String> = pack::list(self.ctx.fs.as_ref(), &dir)?
            .into_iter()
            .filter(|name| self.ctx.owns(name))
            .collect();
        let own = self
            .writer
            .own_pack_hashes
            .get_or_insert_with(OwnPacks::default);
        if !own.packs.is_subset(&present) {
            *own = OwnPacks::default();
        }
        for name in present.difference(&own.packs.clone()) {
            for (hash, _) in pack::index(&dir.join(name))? {
                if let Ok(h) = hash.parse() {
                    own.hashes.insert(h);
                }
            }
            own.packs.insert(name.clone());
        }
        Ok(&own.hashes)
    }

    fn current_pack(&mut self) -> Result<PathBuf> {
        let dir = self.paths.packs_dir();
        if let Some(name) = &self.writer.pack
            && dir.join(name).exists()
        {
            return Ok(dir.join(name));
        }
        self.ctx.fs.create_dir_all(&dir).at(&dir)?;
        let name = format!("{}{PACK_SUFFIX}", self.ctx.new_file_stem());
        self.writer.pack = Some(name.clone());
        Ok(dir.join(name))
    }

    /// Appends to this process's segment, starting a new one if it was retired meanwhile.
    fn append(&mut self, records: &[Record]) -> Result<()> {
        let fs = self.ctx.fs.clone();
        let dir = self.paths.log_dir();
        let still_ours = match &self.writer.segment {
            Some((name, expected)) => fs
                .metadata(&dir.join(name))
                .is_ok_and(|m| m.kind == ItemKind::File && m.len == *expected),
            None => false,
        };
        if !still_ours {
            fs.create_dir_all(&dir).at(&dir)?;
            let name = format!("{}{SEGMENT_SUFFIX}", self.ctx.new_file_stem());
            self.writer.segment = Some((name, 0));
        }
        let (name, expected) = self.writer.segment.clone().expect("segment chosen above");
        let path = dir.join(&name);
        let written = log::append(fs.as_ref(), &path, records)?;
        if expected == 0 {
            fs.sync_dir(&dir).at(&dir)?;
        }
        self.writer.segment = Some((name.clone(), expected + written));
        self.state.read_pos.insert(name, expected + written);
        Ok(())
    }

    /// Under the exclusive lock: picks up what others wrote, and refuses to write over damage.
    fn refresh_for_write(&mut self) -> Result<()> {
        self.ctx.ensure_notebook_folder(&self.key, &self.paths)?;
        refresh(&self.ctx, &self.key, &self.paths, &mut self.state)?;
        if let Some(issue) = self.state.corruption() {
            return Err(StoreError::Corrupt {
                path: issue.path.clone(),
                what: format!(
                    "{}{}",
                    issue
                        .line
                        .map(|l| format!("line {l}: "))
                        .unwrap_or_default(),
                    issue.message
                ),
            });
        }
        Ok(())
    }

    fn commit(
        &mut self,
        make: impl FnOnce(Timestamp, Vec<EntryId>) -> Record,
        ids: &[EntryId],
        point: &str,
    ) -> Result<usize> {
        let _lock = self.ctx.lock_exclusive(&self.paths)?;
        self.refresh_for_write()?;
        let present: Vec<EntryId> = ids
            .iter()
            .copied()
            .filter(|id| self.index().contains(*id))
            .collect();
        if present.is_empty() {
            return Ok(0);
        }
        let record = make(self.record_time(), present.clone());
        self.append(std::slice::from_ref(&record))?;
        failpoint::hit(point);
        apply(&mut self.state.data.index, &self.key, record);
        Ok(present.len())
    }

    /// Puts back entries removed earlier (an undo), provided their contents are still stored.
    /// Returns how many came back; an entry whose content was swept meanwhile stays removed.
    pub fn restore(&mut self, entries: &[Entry]) -> Result<usize> {
        let _lock = self.ctx.lock_exclusive(&self.paths)?;
        self.refresh_for_write()?;
        let now = self.record_time();
        let records: Vec<Record> = entries
            .iter()
            .filter(|e| e.key.notebook == self.key && !self.index().contains(e.key.id()))
            .filter(|e| {
                e.parts
                    .iter()
                    .all(|p| self.reader.read(p.content, p.size).is_ok())
            })
            .map(|e| Record::Put {
                at: now,
                entry: Box::new(WireEntry::from_entry(e)),
            })
            .collect();
        if records.is_empty() {
            return Ok(0);
        }
        self.append(&records)?;
        let count = records.len();
        for record in records {
            apply(&mut self.state.data.index, &self.key, record);
        }
        Ok(count)
    }

    /// Deletes entries: the `remove` record is the commit point; contents go at the next `gc`.
    pub fn remove(&mut self, ids: &[EntryId]) -> Result<usize> {
        self.commit(
            |at, ids| Record::Remove { at, ids },
            ids,
            "remove.after_log",
        )
    }

    pub fn pin(&mut self, ids: &[EntryId]) -> Result<usize> {
        self.commit(|at, ids| Record::Pin { at, ids }, ids, "pin.after_log")
    }

    pub fn unpin(&mut self, ids: &[EntryId]) -> Result<usize> {
        self.commit(|at, ids| Record::Unpin { at, ids }, ids, "unpin.after_log")
    }

    /// Records a use (a cache hit) at `at`; folded into `last_used` at consolidation.
    pub fn touch(&mut self, ids: &[EntryId], at: Timestamp) -> Result<usize> {
        if !at.is_writable() {
            return Err(unwritable_time(at));
        }
        self.commit(
            |now, ids| Record::Used {
                at: now,
                ids,
                used_at: at,
            },
            ids,
            "used.after_log",
        )
    }

    /// Folds every log record into a new `map.toml` (atomically), then retires this machine's
    /// fully folded segments. The before_sync / on_exit step.
    pub fn consolidate(&mut self) -> Result<()> {
        let _lock = self.ctx.lock_exclusive(&self.paths)?;
        self.refresh_for_write()?;
        let fs = self.ctx.fs.clone();
        let log_dir = self.paths.log_dir();
        let segments = segment_names(&self.ctx, &log_dir)?;
        let data = &mut self.state.data;
        data.index.compact();
        data.log_pos = segments
            .iter()
            .map(|name| {
                (
                    name.clone(),
                    self.state.read_pos.get(name).copied().unwrap_or(0),
                )
            })
            .collect();
        data.merged.extend(self.state.merged_copies.iter().cloned());
        let text = map::render_map(data);
        let map_path = self.paths.map();
        write_atomic(fs.as_ref(), &map_path, text.as_bytes()).at(&map_path)?;
        failpoint::hit("consolidate.after_map");
        let map_hash = blake3::hash(text.as_bytes());
        if let Ok(item) = fs.metadata(&map_path) {
            snapshot::save(
                fs.as_ref(),
                &self.paths.index_dir(),
                &map_hash,
                MapStamp::of(&item),
                data,
            );
        }
        self.state.map_stamp = stamp(&self.ctx, &map_path);

        let mut retired = false;
        // Every record of this machine's segments is now in the map; bytes past a segment's
        // folded offset are a torn tail, never acknowledged, so the whole file can go.
        let retire = is_real_dir(fs.as_ref(), &log_dir);
        for name in segments.iter().filter(|n| retire && self.ctx.owns(n)) {
            let path = log_dir.join(name);
            fs.remove_file(&path).at(&path)?;
            self.state.read_pos.remove(name);
            self.state.data.log_pos.remove(name);
            if self.writer.segment.as_ref().is_some_and(|(s, _)| s == name) {
                self.writer.segment = None;
            }
            retired = true;
        }
        if retired {
            fs.sync_dir(&log_dir).at(&log_dir)?;
        }
        failpoint::hit("consolidate.after_retire");
        Ok(())
    }

    /// Sweeps contents no entry references and compacts this machine's packs. Contents younger
    /// than `grace` are kept, so a writer re-using one at this moment never loses it.
    pub fn gc(&mut self, grace: Duration) -> Result<GcReport> {
        let _lock = self.ctx.lock_exclusive(&self.paths)?;
        self.refresh_for_write()?;
        let referenced: HashSet<ContentHash> =
            self.index().referenced_contents().into_keys().collect();
        let cutoff = SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut report = GcReport::default();
        self.sweep_objects(&referenced, cutoff, &mut report)?;
        failpoint::hit("gc.after_objects");
        self.compact_packs(&referenced, cutoff, &mut report)?;
        self.sweep_temp_files(cutoff, &mut report)?;
        Ok(report)
    }

    /// Leftovers of interrupted atomic writes (`.tmp-…` files the store names itself, and the
    /// journals SQLite left beside them), once older than the grace period.
    fn sweep_temp_files(&self, cutoff: SystemTime, report: &mut GcReport) -> Result<()> {
        let fs = self.ctx.fs.as_ref();
        for dir in [
            self.paths.dir.clone(),
            self.paths.packs_dir(),
            self.paths.index_dir(),
        ] {
            let Ok(items) = fs.read_dir(&dir) else {
                continue;
            };
            let mut removed = false;
            for item in items {
                let stale = item.modified.is_some_and(|m| m <= cutoff);
                if item.kind == ItemKind::File && item.name.starts_with(".tmp-") && stale {
                    let path = dir.join(&item.name);
                    fs.remove_file(&path).at(&path)?;
                    report.temp_files_removed += 1;
                    removed = true;
                }
            }
            if removed {
                fs.sync_dir(&dir).at(&dir)?;
            }
        }
        Ok(())
    }

    fn sweep_objects(
        &self,
        referenced: &HashSet<ContentHash>,
        cutoff: SystemTime,
        report: &mut GcReport,
    ) -> Result<()> {
        let fs = self.ctx.fs.as_ref();
        let objects_dir = self.paths.objects_dir();
        if !is_real_dir(fs, &objects_dir) {
            if fs.metadata(&objects_dir).is_ok() {
                report.unknown_files.push(objects_dir);
            }
            return Ok(());
        }
        let mut touched = BTreeSet::new();
        let young = |modified: Option<SystemTime>| modified.is_none_or(|m| m > cutoff);
        for object in objects::list(fs, &objects_dir)? {
            if object.temp {
                if !young(object.modified) {
                    fs.remove_file(&object.path).at(&object.path)?;
                    report.temp_files_removed += 1;
                    touched.extend(object.path.parent().map(PathBuf::from));
                }
                continue;
            }
            let Some(hash) = object.hash else {
                report.unknown_files.push(object.path);
                continue;
            };
            if referenced.contains(&hash) {
                continue;
            }
            if young(object.modified) {
                report.young_garbage_kept += 1;
                continue;
            }
            fs.remove_file(&object.path).at(&object.path)?;
            report.objects_removed += 1;
            report.object_bytes_freed += object.len;
            touched.extend(object.path.parent().map(PathBuf::from));
        }
        for dir in touched {
            fs.sync_dir(&dir).at(&dir)?;
        }
        Ok(())
    }

    /// Copies the live rows of this machine's settled packs into one new pack, then deletes
    /// the old ones. Packs of other machines are theirs to compact.
    fn compact_packs(
        &mut self,
        referenced: &HashSet<ContentHash>,
        cutoff: SystemTime,
        report: &mut GcReport,
    ) -> Result<()> {
        let fs = self.ctx.fs.clone();
        let dir = self.paths.packs_dir();
        if !is_real_dir(fs.as_ref(), &dir) {
            if fs.metadata(&dir).is_ok() {
                report.unknown_files.push(dir);
            }
            return Ok(());
        }
        let mut settled = Vec::new();
        for item in fs.read_dir(&dir).unwrap_or_default() {
            let ours = item.kind == ItemKind::File
                && item.name.ends_with(PACK_SUFFIX)
                && self.ctx.owns(&item.name);
            if ours && item.modified.is_some_and(|m| m <= cutoff) {
                settled.push(item.name);
            }
        }
        let mut live: Vec<(ContentHash, Vec<u8>)> = Vec::new();
        let mut kept = HashSet::new();
        let mut garbage = 0;
        for name in &settled {
            let path = dir.join(name);
            pack::for_each_row(&path, |hash, size, bytes| {
                match hash.parse::<ContentHash>() {
                    Ok(h) if referenced.contains(&h) && ContentHash::of(bytes) == h => {
                        if kept.insert(h) {
                            live.push((h, bytes.to_vec()));
                        }
                    }
                    _ => {
                        garbage += 1;
                        report.pack_rows_dropped += 1;
                        report.pack_bytes_dropped += size;
                    }
                }
                Ok(())
            })?;
        }
        if settled.len() < 2 && garbage == 0 {
            return Ok(());
        }
        if !live.is_empty() {
            let name = format!("{}{PACK_SUFFIX}", self.ctx.new_file_stem());
            let items: Vec<(ContentHash, &[u8])> =
                live.iter().map(|(h, b)| (*h, b.as_slice())).collect();
            pack::insert(fs.as_ref(), &dir.join(name), &items)?;
        }
        failpoint::hit("gc.after_pack_write");
        for name in &settled {
            let path = dir.join(name);
            fs.remove_file(&path).at(&path)?;
        }
        fs.sync_dir(&dir).at(&dir)?;
        failpoint::hit("gc.after_pack_delete");
        report.packs_compacted = settled.len();
        self.writer.pack = None;
        self.writer.own_pack_hashes = None;
        Ok(())
    }

    /// Every content file the folder holds, for verify: packs and objects.
    pub(super) fn paths(&self) -> &NotebookPaths {
        &self.paths
    }

    pub(super) fn context(&self) -> &Arc<Context> {
        &self.ctx
    }
}

fn unwritable_time(time: Timestamp) -> StoreError {
    StoreError::Key(crate::model::KeyError {
        what: "time",
        value: time.millis().to_string(),
        reason: "outside the years 0000 to 9999 that RFC 3339 can write (milliseconds since 1970)"
            .into(),
    })
}

fn stamp(ctx: &Context, path: &std::path::Path) -> Option<MapStamp> {
    ctx.fs.metadata(path).ok().map(|m| MapStamp::of(&m))
}

/// A notebook's totals straight from its snapshot header, when the snapshot matches the map
/// and no log record or conflicted copy is waiting to be folded; `None` means "open it".
pub(super) fn quick_summary(
    ctx: &Context,
    paths: &NotebookPaths,
) -> Option<crate::model::IndexSummary> {
    let map = ctx.fs.metadata(&paths.map()).ok()?;
    let (_, header) =
        snapshot::header_for(ctx.fs.as_ref(), &paths.index_dir(), MapStamp::of(&map))?;
    let log_dir = paths.log_dir();
    for name in segment_names(ctx, &log_dir).ok()? {
        let len = ctx.fs.metadata(&log_dir.join(&name)).ok()?.len;
        if len > header.log_pos.get(&name).copied().unwrap_or(0) {
            return None;
        }
    }
    let copies = ctx.fs.read_dir(&paths.dir).ok()?;
    if copies
        .iter()
        .any(|i| i.name != MAP_FILE && i.name.starts_with("map") && i.name.ends_with(".toml"))
    {
        return None;
    }
    Some(header.summary)
}

/// Segment file names in the log folder (regular files only).
fn segment_names(ctx: &Context, log_dir: &std::path::Path) -> Result<Vec<String>> {
    match ctx.fs.read_dir(log_dir) {
        Ok(items) => Ok(items
            .into_iter()
            .filter(|i| {
                i.kind == ItemKind::File
                    && i.name.ends_with(SEGMENT_SUFFIX)
                    && !i.name.starts_with('.')
            })
            .map(|i| i.name)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).at(log_dir),
    }
}

/// Applies one record to the index.
fn apply(index: &mut NotebookIndex, notebook: &NotebookKey, record: Record) -> Option<String> {
    match record {
        Record::Put { entry, .. } => match (*entry).into_entry(notebook) {
            Ok(entry) => {
                index.insert(&entry);
                None
            }
            Err(e) => Some(format!("invalid put record: {e}")),
        },
        Record::Remove { ids, .. } => {
            ids.iter().for_each(|id| {
                index.remove(*id);
            });
            None
        }
        Record::Pin { ids, .. } => {
            ids.iter().for_each(|id| {
                index.set_pinned(*id, true);
            });
            None
        }
        Record::Unpin { ids, .. } => {
            ids.iter().for_each(|id| {
                index.set_pinned(*id, false);
            });
            None
        }
        Record::Used { ids, used_at, .. } => {
            ids.iter().for_each(|id| {
                index.touch(*id, used_at);
            });
            None
        }
    }
}

/// Reads the map (through its snapshot when one matches), merges conflicted copies, and
/// applies every log record after the map's positions.
fn load_state(ctx: &Context, key: &NotebookKey, paths: &NotebookPaths) -> Result<State> {
    let fs = ctx.fs.as_ref();
    let map_path = paths.map();
    let mut issues = Vec::new();
    let mut data = match fs.metadata(&map_path) {
        Ok(item) => read_map(ctx, key, paths, &item, &mut issues)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => MapData::empty(key.clone()),
        Err(e) => return Err(e).at(&map_path),
    };
    let merged_copies = merge_conflicted_copies(ctx, key, paths, &mut data, &mut issues)?;
    let mut state = State {
        map_stamp: stamp(ctx, &map_path),
        read_pos: BTreeMap::new(),
        merged_copies,
        issues,
        data,
        latest_at: Timestamp(i64::MIN),
    };
    let start: BTreeMap<String, u64> = state.data.log_pos.clone();
    apply_segments(ctx, key, paths, &mut state, &start)?;
    Ok(state)
}

/// The map's state: from the snapshot that matches its stamp, else from the snapshot of its
/// contents, else by parsing it (and saving a snapshot for next time).
fn read_map(
    ctx: &Context,
    key: &NotebookKey,
    paths: &NotebookPaths,
    item: &DirItem,
    issues: &mut Vec<Issue>,
) -> Result<MapData> {
    let fs = ctx.fs.as_ref();
    let stamp = MapStamp::of(item);
    let index_dir = paths.index_dir();
    let valid = |data: &MapData| data.index.notebook() == key;
    if let Some(data) = snapshot::load_by_stamp(fs, &index_dir, stamp).filter(valid) {
        return Ok(data);
    }
    let map_path = paths.map();
    let bytes = fs.read(&map_path).at(&map_path)?;
    let hash = blake3::hash(&bytes);
    if let Some(data) = snapshot::load_by_hash(fs, &index_dir, &hash, stamp).filter(valid) {
        return Ok(data);
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| StoreError::invalid(&map_path, None, "not UTF-8 text"))?;
    let (data, conflicted) = map::parse_map(&map_path, &text, key)?;
    if conflicted {
        issues.push(Issue {
            severity: Severity::Warning,
            path: map_path,
            line: None,
            message: "git conflict markers: both sides were read and merged; `celltime consolidate` writes a clean map".into(),
        });
    } else {
        snapshot::save(fs, &index_dir, &hash, stamp, &data);
    }
    Ok(data)
}

/// Sync tools keep both versions of a file edited on two machines (`map (… conflicted copy
/// …).toml`, `map.sync-conflict-….toml`): read them all, never delete them.
fn merge_conflicted_copies(
    ctx: &Context,
    key: &NotebookKey,
    paths: &NotebookPaths,
    data: &mut MapData,
    issues: &mut Vec<Issue>,
) -> Result<BTreeSet<String>> {
    let mut merged = BTreeSet::new();
    let items = ctx.fs.read_dir(&paths.dir).unwrap_or_default();
    for item in items {
        let is_copy = item.kind == ItemKind::File
            && item.name != MAP_FILE
            && item.name.starts_with("map")
            && item.name.ends_with(".toml");
        if !is_copy {
            continue;
        }
        let path = paths.dir.join(&item.name);
        let bytes = ctx.fs.read(&path).at(&path)?;
        let hash = blake3::hash(&bytes).to_hex().to_string();
        if data.merged.contains(&hash) {
            issues.push(Issue {
                severity: Severity::Info,
                path,
                line: None,
                message: "conflicted copy already merged into map.toml; you may delete it".into(),
            });
            continue;
        }
        let parsed = String::from_utf8(bytes)
            .map_err(|_| StoreError::invalid(&path, None, "not UTF-8 text"))
            .and_then(|text| map::parse_map(&path, &text, key));
        match parsed {
            Ok((copy, _)) => {
                data.merge(copy);
                merged.insert(hash);
                issues.push(Issue {
                    severity: Severity::Warning,
                    path,
                    line: None,
                    message: "conflicted copy of the map from a sync tool: merged; it is kept until you delete it".into(),
                });
            }
            Err(e) => issues.push(Issue {
                severity: Severity::Warning,
                path,
                line: None,
                message: format!(
                    "conflicted copy of the map could not be read and was ignored: {e}"
                ),
            }),
        }
    }
    Ok(merged)
}

/// Reads every segment from its position in `from` (0 when absent) and applies the records
/// in time order.
fn apply_segments(
    ctx: &Context,
    key: &NotebookKey,
    paths: &NotebookPaths,
    state: &mut State,
    from: &BTreeMap<String, u64>,
) -> Result<()> {
    let log_dir = paths.log_dir();
    let mut pending: Vec<(Timestamp, String, u64, Record)> = Vec::new();
    for name in segment_names(ctx, &log_dir)? {
        let path = log_dir.join(&name);
        let start = from.get(&name).copied().unwrap_or(0);
        let len = ctx.fs.metadata(&path).at(&path)?.len;
        if len < start {
            state.issues.push(Issue {
                severity: Severity::Error,
                path,
                line: None,
                message: format!("segment is shorter ({len} bytes) than the map says was folded ({start}); it was truncated or replaced"),
            });
            continue;
        }
        let read = log::read_segment(ctx.fs.as_ref(), &path, start)?;
        if read.torn_bytes > 0 {
            state.issues.push(Issue {
                severity: Severity::Warning,
                path: path.clone(),
                line: None,
                message: format!(
                    "incomplete last record ({} bytes) ignored: an interrupted write",
                    read.torn_bytes
                ),
            });
        }
        if let Some((line, reason)) = read.corrupt {
            let line = if start == 0 {
                Some(line)
            } else {
                line_in_file(ctx, &path, start, line)
            };
            state.issues.push(Issue {
                severity: Severity::Error,
                path: path.clone(),
                line,
                message: format!("{reason}; records after it are not applied"),
            });
        }
        state.read_pos.insert(name.clone(), read.valid_end);
        // A segment's records keep their order even if its writer's clock went backwards:
        // each is placed at the latest time seen so far in its segment.
        let mut clock = Timestamp(i64::MIN);
        pending.extend(read.records.into_iter().map(|(offset, r)| {
            clock = clock.max(r.at());
            (clock, name.clone(), offset, r)
        }));
    }
    pending.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
    if let Some((last, ..)) = pending.last() {
        state.latest_at = state.latest_at.max(*last);
    }
    for (_, name, _, record) in pending {
        if let Some(message) = apply(&mut state.data.index, key, record) {
            state.issues.push(Issue {
                severity: Severity::Error,
                path: log_dir.join(name),
                line: None,
                message,
            });
        }
    }
    Ok(())
}

/// The 1-based line in the whole file of line `relative` counted from byte `start`.
fn line_in_file(
    ctx: &Context,
    path: &std::path::Path,
    start: u64,
    relative: usize,
) -> Option<usize> {
    let bytes = ctx.fs.read(path).ok()?;
    let before = bytes
        .get(..start as usize)?
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    Some(before + relative)
}

/// Brings `state` up to date: a replaced map means a full reload; otherwise only records
/// appended since the last read are applied.
fn refresh(
    ctx: &Context,
    key: &NotebookKey,
    paths: &NotebookPaths,
    state: &mut State,
) -> Result<()> {
    if stamp(ctx, &paths.map()) != state.map_stamp {
        *state = load_state(ctx, key, paths)?;
        return Ok(());
    }
    let from: BTreeMap<String, u64> = segment_names(ctx, &paths.log_dir())?
        .into_iter()
        .map(|name| {
            let pos = state
                .read_pos
                .get(&name)
                .or_else(|| state.data.log_pos.get(&name))
                .copied()
                .unwrap_or(0);
            (name, pos)
        })
        .collect();
    state
        .issues
        .retain(|i| !i.path.starts_with(paths.log_dir()));
    apply_segments(ctx, key, paths, state, &from)
}
