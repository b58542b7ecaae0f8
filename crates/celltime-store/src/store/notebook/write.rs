//! Writing: put (contents durable, then one log record), remove, pin, unpin, touch, restore.
//! Every change is one log append under the exclusive lock.

use super::load::{apply, refresh};
use super::{Notebook, OwnPacks};
use crate::model::{
    ContentHash, Entry, EntryId, ExecKey, NewEntry, PartRef, Timestamp, check_part_labels,
};
use crate::store::error::{IoContext, Result, StoreError};
use crate::store::failpoint;
use crate::store::fs::ItemKind;
use crate::store::log::{self, Record, SEGMENT_SUFFIX};
use crate::store::objects;
use crate::store::pack::{self, PACK_SUFFIX};
use crate::store::wire::WireEntry;
use std::collections::{BTreeSet, HashSet};
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
            marimo_key: new.marimo_key.clone(),
            served: None,
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
    pub(super) fn refresh_for_write(&mut self) -> Result<()> {
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
        apply(&mut self.state.data.index, &self.key, record);
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
            apply(&mut self.state.data.index, &self.key, record);
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
