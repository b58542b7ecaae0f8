//! Writing: put (contents durable, then one log record), remove, pin, unpin, touch, restore.
//! Every change is one log append under the exclusive lock.

use super::Notebook;
use super::load::{Ready, apply, load_state, refresh, segment_names};
use crate::model::{
    ContentHash, Entry, EntryId, ExecKey, NewEntry, PartRef, Timestamp, check_part_labels,
};
use crate::store::error::{IoContext, Result, StoreError};
use crate::store::failpoint;
use crate::store::fs::ItemKind;
use crate::store::log::{self, Record, SEGMENT_ROLLOVER, SEGMENT_SUFFIX};
use crate::store::objects;
use crate::store::pack::{self, PACK_ROLLOVER, PACK_SUFFIX, PackWriter};
use crate::store::wire::WireEntry;
use std::collections::HashSet;
use std::path::PathBuf;

impl Notebook {
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
        self.catch_up()?;
        if self.names_a_mapped_entry(&entries) {
            self.load_whole_map()?;
        }
        let now = Timestamp::now();
        let mut batch_ids = HashSet::new();
        let mut accepted: Vec<(Entry, &NewEntry)> = Vec::new();
        let mut keys = Vec::new();
        for new in &entries {
            let entry = self.prepare(new, now, &batch_ids)?;
            let id = entry.key.id();
            keys.push(entry.key.clone());
            if batch_ids.insert(id) && !self.state.data.index.contains(id) {
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

    /// When only appending: does an entry with a given time name an entry of the map, whose
    /// parts a re-put must be compared with?
    fn names_a_mapped_entry(&self, entries: &[NewEntry]) -> bool {
        let Some(map_ids) = &self.state.map_ids else {
            return false;
        };
        entries.iter().any(|e| {
            e.created_at.is_some_and(|created| {
                let id = EntryId::of(
                    e.notebook.as_str(),
                    e.cell.as_str(),
                    e.module.as_str(),
                    e.version.as_str(),
                    created,
                );
                map_ids.contains(id)
            })
        })
    }

    /// Is there an entry with this id, in the index or (when only appending) in the map?
    fn known(&self, id: EntryId) -> bool {
        self.state.data.index.contains(id)
            || self
                .state
                .map_ids
                .as_ref()
                .is_some_and(|ids| ids.contains(id))
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
            marimo_key: new.marimo_key.clone(),
            served: None,
        };
        // A defaulted created_at moves on by a millisecond rather than collide with another run.
        if new.created_at.is_none() {
            while batch.contains(&entry.key.id()) || self.known(entry.key.id()) {
                created = Timestamp(created.0 + 1);
                entry.key = key_at(created);
            }
        }
        if let Some(existing) = self.state.data.index.get(entry.key.id()) {
            let mut mine = entry.parts.clone();
            let mut theirs = existing.parts.clone();
            mine.sort();
            theirs.sort();
            if mine != theirs
                || existing.parents != entry.parents
                || existing.marimo_key != entry.marimo_key
            {
                return Err(StoreError::Clash(entry.key.id()));
            }
        }
        Ok(entry)
    }

    fn write_contents(&mut self, accepted: &[(Entry, &NewEntry)]) -> Result<()> {
        let fs = self.ctx.fs.clone();
        let threshold = self.ctx.config.inline_threshold;
        let objects_dir = self.paths.objects_dir();
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
                } else {
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
        // Only the pack appended to dedups (its rows are inserted or ignored by hash): asking
        // this machine's older packs, one open each, would make every put slower as the
        // notebook grows. A content one of them holds is written again, at most once per pack,
        // and gc's compaction keeps one copy (FORMAT.md §10.3).
        let pack_path = self.current_pack()?;
        if fs.metadata(&pack_path).is_err() || pack::beyond_sqlite(&pack_path) {
            return pack::insert(fs.as_ref(), &pack_path, &small);
        }
        // The pack exists: keep one connection to it for this writer's later puts.
        let writer = match self.writer.pack_writer.take() {
            Some(writer) if writer.is_for(fs.as_ref(), &pack_path) => writer,
            _ => PackWriter::open(fs.as_ref(), &pack_path)?,
        };
        let writer = self.writer.pack_writer.insert(writer);
        writer.insert(fs.as_ref(), &small)
    }

    /// The pack new small contents go to: this process's, else the newest of this machine's
    /// packs, while under [`PACK_ROLLOVER`]; else a new one.
    fn current_pack(&mut self) -> Result<PathBuf> {
        let fs = self.ctx.fs.clone();
        let dir = self.paths.packs_dir();
        let fits = |name: &String| {
            fs.metadata(&dir.join(name))
                .is_ok_and(|m| m.kind == ItemKind::File && m.len < PACK_ROLLOVER)
        };
        let newest_own = || -> Result<Option<String>> {
            Ok(pack::list(fs.as_ref(), &dir)?
                .into_iter()
                .filter(|name| self.ctx.owns(name))
                .max())
        };
        let name = match self.writer.pack.clone().filter(fits) {
            Some(name) => name,
            None => match newest_own()?.filter(fits) {
                Some(name) => name,
                None => {
                    fs.create_dir_all(&dir).at(&dir)?;
                    format!("{}{PACK_SUFFIX}", self.ctx.new_file_stem())
                }
            },
        };
        self.writer.pack = Some(name.clone());
        Ok(dir.join(name))
    }

    /// Under the lock, after catching up: appends to a segment of this machine that ends
    /// exactly where it was read to (a torn tail must never be followed by good lines): the
    /// one this process used, else the machine's newest, while under [`SEGMENT_ROLLOVER`];
    /// else to a new one. So processes that write once and exit do not leave a segment each.
    fn append(&mut self, records: &[Record]) -> Result<()> {
        let fs = self.ctx.fs.clone();
        let dir = self.paths.log_dir();
        let continuable = |name: &String| {
            fs.metadata(&dir.join(name)).ok().and_then(|m| {
                let read_to = self.state.read_pos.get(name).copied();
                (m.kind == ItemKind::File && Some(m.len) == read_to && m.len < SEGMENT_ROLLOVER)
                    .then_some(m.len)
            })
        };
        let candidate = match self.writer.segment.clone() {
            Some(name) => Some(name),
            None => segment_names(&self.ctx, &dir)?
                .into_iter()
                .filter(|name| self.ctx.owns(name))
                .max(),
        };
        let (name, len) = match candidate.and_then(|name| continuable(&name).map(|l| (name, l))) {
            Some(found) => found,
            None => {
                fs.create_dir_all(&dir).at(&dir)?;
                (format!("{}{SEGMENT_SUFFIX}", self.ctx.new_file_stem()), 0)
            }
        };
        let path = dir.join(&name);
        let written = log::append(fs.as_ref(), &path, records)?;
        if len == 0 {
            fs.sync_dir(&dir).at(&dir)?;
        }
        self.state.read_pos.insert(name.clone(), len + written);
        self.writer.segment = Some(name);
        Ok(())
    }

    /// Under the exclusive lock: picks up what others wrote (loading the whole map if only its
    /// ids were known), and refuses to write over damage.
    pub(super) fn refresh_for_write(&mut self) -> Result<()> {
        self.load_whole_map()?;
        self.catch_up()
    }

    /// Under the lock: reads the whole map when only its ids were known.
    fn load_whole_map(&mut self) -> Result<()> {
        if self.state.map_ids.is_some() {
            self.state = load_state(&self.ctx, &self.key, &self.paths)?;
        }
        Ok(())
    }

    /// Under the exclusive lock: picks up what others wrote, and refuses to write over damage.
    fn catch_up(&mut self) -> Result<()> {
        self.ctx.ensure_notebook_folder(&self.key, &self.paths)?;
        refresh(&self.ctx, &self.key, &self.paths, &mut self.state)?;
        if let Some(issue) = self.state.corruption() {
            return Err(StoreError::Corrupt(issue.at.clone()));
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
        self.commit_locked(make, ids, point)
    }

    /// [`Notebook::commit`] for a caller that holds the lock and has caught up.
    fn commit_locked(
        &mut self,
        make: impl FnOnce(Timestamp, Vec<EntryId>) -> Record,
        ids: &[EntryId],
        point: &str,
    ) -> Result<usize> {
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
        apply(&mut self.state.data.index, Ready::of(&self.key, record));
        Ok(present.len())
    }

    /// Runs `f` under one exclusive lock on the caught-up state: for writes that decide from
    /// what is on disk right now (a removal checked against the plan it carries out), so no
    /// other process changes the notebook between the decision and the write.
    pub fn locked<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Locked<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let _lock = self.ctx.lock_exclusive(&self.paths)?;
        self.refresh_for_write()?;
        f(&mut Locked { notebook: self })
    }

    /// Puts back entries removed earlier (an undo), provided their contents are still stored.
    /// Returns how many came back; an entry whose content was swept meanwhile stays removed.
    pub fn restore(&mut self, entries: &[Entry]) -> Result<usize> {
        self.locked(|tx| tx.restore(entries))
    }

    fn restore_locked(&mut self, entries: &[Entry]) -> Result<usize> {
        let now = self.record_time();
        let records: Vec<Record> = self
            .restorable(entries)
            .into_iter()
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
            apply(&mut self.state.data.index, Ready::of(&self.key, record));
        }
        Ok(count)
    }

    /// The entries of `entries` that are not in the notebook and whose contents all still read.
    /// The caller holds the notebook's lock.
    pub fn restorable<'e>(&self, entries: &'e [Entry]) -> Vec<&'e Entry> {
        entries
            .iter()
            .filter(|e| e.key.notebook == self.key && !self.index().contains(e.key.id()))
            .filter(|e| {
                e.parts
                    .iter()
                    .all(|p| self.reader.read_locked(p.content, p.size).is_ok())
            })
            .collect()
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

    /// Chooses runs as the ones marimo is served for their cell and module from now on
    /// ("roll back to the run I liked"); a run created later still takes over, as any new run
    /// does.
    pub fn serve(&mut self, ids: &[EntryId]) -> Result<usize> {
        self.locked(|tx| tx.serve(ids))
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
}

fn unwritable_time(time: Timestamp) -> StoreError {
    StoreError::Key(crate::model::KeyError {
        what: "time",
        value: time.millis().to_string(),
        reason: "outside the years 0000 to 9999 that RFC 3339 can write (milliseconds since 1970)"
            .into(),
    })
}

/// The notebook under its exclusive lock, caught up: see [`Notebook::locked`].
pub struct Locked<'a> {
    notebook: &'a mut Notebook,
}

impl Locked<'_> {
    pub fn notebook(&self) -> &Notebook {
        self.notebook
    }

    pub fn remove(&mut self, ids: &[EntryId]) -> Result<usize> {
        self.notebook.commit_locked(
            |at, ids| Record::Remove { at, ids },
            ids,
            "remove.after_log",
        )
    }

    pub fn set_pinned(&mut self, ids: &[EntryId], pinned: bool) -> Result<usize> {
        if pinned {
            self.notebook
                .commit_locked(|at, ids| Record::Pin { at, ids }, ids, "pin.after_log")
        } else {
            self.notebook
                .commit_locked(|at, ids| Record::Unpin { at, ids }, ids, "unpin.after_log")
        }
    }

    pub fn restore(&mut self, entries: &[Entry]) -> Result<usize> {
        self.notebook.restore_locked(entries)
    }

    /// The run served now for one module of one cell (see [`Notebook::served`]).
    pub fn served(&mut self, cell: &str, module: &str) -> Option<EntryId> {
        self.notebook.served(cell, module, |_, _| true)
    }

    pub fn serve(&mut self, ids: &[EntryId]) -> Result<usize> {
        self.notebook
            .commit_locked(|at, ids| Record::Serve { at, ids }, ids, "serve.after_log")
    }
}
