//! What the marimo plugin does with a notebook of the store (docs/MARIMO.md): serve marimo's
//! cache keys from the run chosen for them, record each run marimo writes as one entry with
//! its `marimo_key`, and batch the uses (hits) so a hit costs no write.
//!
//! The Python side (`crates/celltime-py`, `python/celltime/`) only translates: it finds the
//! notebook and the code of the run, and turns errors into warnings.

use crate::model::{
    CellKey, ContentHash, EntryId, EntryView, ExecKey, MarimoKey, ModuleHash, NewEntry, NewPart,
    NotebookIndex, NotebookKey, PartKind, Timestamp,
};
use crate::store::{Notebook, Result, Store};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// The format of a lazy manifest part (marimo's `.jsonl`).
pub const LAZY_MANIFEST: &str = "jsonl";

/// The format of the part that holds what marimo stored under a key: the key's extension.
fn main_part_format(key: &MarimoKey) -> &str {
    key.extension()
}

/// A lazy blob key `<block>/<hash>/<file>.<ext>`: which run's manifest it belongs to, and the
/// part (label, format) that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobKey {
    pub block: String,
    pub hash: String,
    pub label: String,
    pub format: String,
}

impl BlobKey {
    pub fn parse(key: &str) -> Option<BlobKey> {
        let mut pieces = key.split('/');
        let (block, hash, file) = (pieces.next()?, pieces.next()?, pieces.next()?);
        if pieces.next().is_some() || block.is_empty() || ModuleHash::new(hash).is_err() {
            return None;
        }
        let (label, format) = file.rsplit_once('.')?;
        (!label.is_empty() && !format.is_empty()).then(|| BlobKey {
            block: block.to_string(),
            hash: hash.to_string(),
            label: label.to_string(),
            format: format.to_string(),
        })
    }

    /// The part this blob becomes in its run's entry.
    pub fn part(&self, bytes: Vec<u8>) -> NewPart {
        NewPart::variables(&self.label, &self.format, bytes)
    }
}

/// One run as marimo wrote it, ready to be recorded.
#[derive(Debug, Clone)]
pub struct Run {
    /// The block name, or the cell's name for whole-cell caching.
    pub cell: CellKey,
    pub marimo_key: MarimoKey,
    /// The code of the cell that ran, exactly as it ran.
    pub code: Option<String>,
    /// When the run started; now when unknown.
    pub created_at: Option<Timestamp>,
    /// What marimo stored: the main part (unnamed `variables` in the key's format) first, then
    /// lazy blobs and any outputs.
    pub parts: Vec<NewPart>,
}

impl Run {
    /// A run whose only content is what marimo handed the store under `key`.
    pub fn of_value(key: MarimoKey, code: Option<String>, bytes: Vec<u8>) -> Result<Run> {
        let cell = CellKey::new(key.block())?;
        let part = NewPart::variables("", main_part_format(&key), bytes);
        Ok(Run {
            cell,
            marimo_key: key,
            code,
            created_at: None,
            parts: vec![part],
        })
    }
}

/// One notebook of the store, held open for a marimo process.
///
/// Runs are written in batches (one pack transaction and one log append for many runs): when
/// [`Recorder::flush`] is called (the plugin does at the end of every cell and at exit), when
/// [`FLUSH_RUNS`] runs or [`FLUSH_BYTES`] bytes wait, or when the oldest has waited
/// [`FLUSH_INTERVAL`]. Until then a waiting run is served from memory like a written one.
pub struct Recorder {
    store: Store,
    notebook: Notebook,
    /// The notebook file relative to the workspace, for `notebook.toml` on the first write.
    source: Option<String>,
    pending: Vec<NewEntry>,
    /// The ids of the waiting runs.
    pending_ids: HashSet<EntryId>,
    /// (cell, module) → positions in `pending`.
    pending_modules: HashMap<(String, String), Vec<usize>>,
    pending_bytes: usize,
    uses: BTreeMap<EntryId, Timestamp>,
    /// Since when runs or uses wait to be written.
    waiting_since: Option<Instant>,
    /// When the folder was last read for what other processes wrote.
    refreshed: Option<Instant>,
}

/// Runs written together at most.
pub const FLUSH_RUNS: usize = 1000;
/// Bytes of runs waiting at most.
pub const FLUSH_BYTES: usize = 16 << 20;
/// How long a run or use waits at most (checked at each call).
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(500);
/// What other processes write (a `serve` choice, another kernel's runs) is looked for at most
/// this often: a hit then costs no directory listing and no lock.
pub const REFRESH_INTERVAL: Duration = Duration::from_millis(50);

impl Recorder {
    /// Opens the notebook folder of `key`, which is created on the first run written;
    /// `source` is the notebook file relative to the workspace, for its `notebook.toml`.
    pub fn open(store: &Store, key: &NotebookKey, source: Option<&str>) -> Result<Recorder> {
        Ok(Recorder {
            store: store.clone(),
            notebook: store.notebook_for_write(key)?,
            source: source.map(str::to_string),
            pending: Vec::new(),
            pending_ids: HashSet::new(),
            pending_modules: HashMap::new(),
            pending_bytes: 0,
            uses: BTreeMap::new(),
            waiting_since: None,
            refreshed: None,
        })
    }

    pub fn notebook(&self) -> &Notebook {
        &self.notebook
    }

    /// Reads what other processes wrote since the last read, now.
    pub fn refresh_now(&mut self) -> Result<()> {
        self.notebook.refresh()?;
        self.refreshed = Some(Instant::now());
        Ok(())
    }

    /// Whether the next `get` touches only memory and the packs already open: no refresh, no
    /// batch, so no lock to wait for.
    pub fn is_quick(&self) -> bool {
        let refresh_due = self
            .refreshed
            .is_none_or(|at| at.elapsed() >= REFRESH_INTERVAL);
        let flush_due = self
            .waiting_since
            .is_some_and(|since| since.elapsed() >= FLUSH_INTERVAL);
        !refresh_due && !flush_due
    }

    fn refresh_if_due(&mut self) -> Result<()> {
        match self.refreshed {
            Some(at) if at.elapsed() < REFRESH_INTERVAL => Ok(()),
            _ => self.refresh_now(),
        }
    }

    /// What marimo stored under `key` (a pickle, json or lazy manifest key, or a lazy blob
    /// key), from the run served for it; the use is recorded. `None` is a miss.
    pub fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>> {
        self.refresh_if_due()?;
        let wanted = match MarimoKey::new(key) {
            Ok(key) => {
                let format = main_part_format(&key).to_string();
                if let Some(bytes) = self.pending_part(key.block(), key.hash(), "", &format) {
                    return Ok(Some(bytes));
                }
                self.served_main(&key).map(|id| (id, String::new(), format))
            }
            Err(_) => match BlobKey::parse(key) {
                Some(blob) => {
                    let waiting =
                        self.pending_part(&blob.block, &blob.hash, &blob.label, &blob.format);
                    if waiting.is_some() {
                        return Ok(waiting);
                    }
                    self.notebook
                        .served(&blob.block, &blob.hash, |index, view| {
                            has_main_part(index, view, LAZY_MANIFEST)
                        })
                        .map(|id| (id, blob.label, blob.format))
                }
                None => None,
            },
        };
        let bytes = wanted.and_then(|(id, label, format)| {
            let index = self.notebook.index();
            let view = index.view(id)?;
            let part = index.part_views(&view).find(|p| {
                p.kind == PartKind::Variables && p.label == label && p.format == format
            })?;
            let bytes = self.notebook.reader().read(part.content, part.size).ok()?;
            self.note_use(id);
            Some(bytes)
        });
        self.flush_if_due()?;
        Ok(bytes)
    }

    /// A waiting run's part: the newest waiting run of (cell, module) holding it.
    fn pending_part(&self, cell: &str, module: &str, label: &str, format: &str) -> Option<Vec<u8>> {
        let at = self
            .pending_modules
            .get(&(cell.to_string(), module.to_string()))?;
        at.iter()
            .rev()
            .flat_map(|&i| &self.pending[i].parts)
            .find(|p| p.kind == PartKind::Variables && p.label == label && p.format == format)
            .map(|p| p.bytes.clone())
    }

    /// Whether a run is served for `key` (waiting or written), without recording a use.
    pub fn hit(&mut self, key: &MarimoKey) -> Result<bool> {
        let format = main_part_format(key);
        if self
            .pending_part(key.block(), key.hash(), "", format)
            .is_some()
        {
            return Ok(true);
        }
        Ok(self.served(key)?.is_some())
    }

    /// The written run served for `key`, without recording a use.
    pub fn served(&mut self, key: &MarimoKey) -> Result<Option<EntryId>> {
        self.refresh_if_due()?;
        Ok(self.served_main(key))
    }

    /// Among the runs of the key's block and hash, those holding what marimo asks for (the
    /// unnamed `variables` part in the key's format), the one served.
    fn served_main(&mut self, key: &MarimoKey) -> Option<EntryId> {
        let format = main_part_format(key);
        self.notebook
            .served(key.block(), key.hash(), |index, view| {
                has_main_part(index, view, format)
            })
    }

    /// The entry (waiting or written) already recording this run: same marimo key and the
    /// same bytes in every `variables` part (marimo rewrote nothing since it was recorded).
    pub fn existing(&mut self, run: &Run) -> Option<EntryId> {
        let new = variables_of(run.parts.iter().map(|p| {
            (
                p.kind,
                p.label.as_str(),
                p.format.as_str(),
                ContentHash::of(&p.bytes),
            )
        }));
        let waiting = self.pending.iter().find(|e| {
            e.marimo_key.as_ref() == Some(&run.marimo_key)
                && variables_of(e.parts.iter().map(|p| {
                    (
                        p.kind,
                        p.label.as_str(),
                        p.format.as_str(),
                        ContentHash::of(&p.bytes),
                    )
                })) == new
        });
        if let Some(entry) = waiting {
            return entry.created_at.map(|t| key_of(entry, t).id());
        }
        let ids = self
            .notebook
            .alternatives(run.cell.as_str(), run.marimo_key.hash());
        let index = self.notebook.index();
        ids.into_iter().find(|id| {
            index.view(*id).is_some_and(|view| {
                view.marimo_key == Some(run.marimo_key.as_str())
                    && variables_of(
                        index
                            .part_views(&view)
                            .map(|p| (p.kind, p.label, p.format, p.content)),
                    ) == new
            })
        })
    }

    /// Takes the run to be written with the next batch and returns its entry's id.
    pub fn record(&mut self, run: Run) -> Result<EntryId> {
        let mut entry = NewEntry::new(
            self.notebook.key().clone(),
            run.cell,
            ModuleHash::new(run.marimo_key.hash())?,
        );
        entry.marimo_key = Some(run.marimo_key);
        if let Some(code) = &run.code {
            entry.parts.push(NewPart::code(code));
        }
        entry.parts.extend(run.parts);
        // The time is fixed now, so the id is known before the write; a run never takes the
        // key of another (the store's own rule for a defaulted time).
        let mut created = run.created_at.unwrap_or_else(Timestamp::now);
        while self.taken(&entry, created) {
            created = Timestamp(created.0 + 1);
        }
        entry.created_at = Some(created);
        let id = key_of(&entry, created).id();
        self.pending_bytes += entry.parts.iter().map(|p| p.bytes.len()).sum::<usize>();
        self.pending_modules
            .entry((entry.cell.to_string(), entry.module.to_string()))
            .or_default()
            .push(self.pending.len());
        self.pending.push(entry);
        self.pending_ids.insert(id);
        self.waiting_since.get_or_insert_with(Instant::now);
        if self.pending.len() >= FLUSH_RUNS || self.pending_bytes >= FLUSH_BYTES {
            self.flush()?;
        } else {
            self.flush_if_due()?;
        }
        Ok(id)
    }

    fn taken(&self, entry: &NewEntry, created: Timestamp) -> bool {
        let id = key_of(entry, created).id();
        self.notebook.index().contains(id) || self.pending_ids.contains(&id)
    }

    /// Records a use of an entry (a hit).
    pub fn note_use(&mut self, id: EntryId) {
        self.uses.insert(id, Timestamp::now());
        self.waiting_since.get_or_insert_with(Instant::now);
    }

    fn flush_if_due(&mut self) -> Result<()> {
        match self.waiting_since {
            Some(since) if since.elapsed() >= FLUSH_INTERVAL => self.flush(),
            _ => Ok(()),
        }
    }

    /// Writes the waiting runs (contents, then one log append; no consolidation) and the
    /// waiting uses (one `used` record at the latest use's time). Runs the store refuses stay
    /// waiting, so a busy store loses nothing this process still holds.
    pub fn flush(&mut self) -> Result<()> {
        if !self.pending.is_empty() {
            if let Some(source) = self.source.clone()
                && !self
                    .store
                    .paths(self.notebook.key())
                    .notebook_file()
                    .exists()
            {
                self.store
                    .set_notebook_source(self.notebook.key(), &source)?;
            }
            if let Err(e) = self.notebook.put_batch(self.pending.clone()) {
                // Held for the next try, but never without bound (a store that stays broken).
                if self.pending_bytes > 4 * FLUSH_BYTES {
                    self.drop_pending();
                }
                return Err(e);
            }
            self.source = None;
            self.drop_pending();
        }
        if let Some(latest) = self.uses.values().max().copied() {
            let ids: Vec<EntryId> = self.uses.keys().copied().collect();
            self.notebook.touch(&ids, latest)?;
            self.uses.clear();
        }
        self.waiting_since = None;
        // A long session folds its log once it passes the threshold, as `celltime put` does,
        // so neither this process nor readers re-read a growing log. Only an optimisation: the
        // runs are durable in the log already, and a fold that fails (another process holds
        // the lock) is tried again at the next flush or at exit.
        let _ = self.notebook.consolidate_if_due();
        Ok(())
    }

    fn drop_pending(&mut self) {
        self.pending.clear();
        self.pending_ids.clear();
        self.pending_modules.clear();
        self.pending_bytes = 0;
    }

    /// The on_exit step: waiting runs and uses written, the log folded into the map.
    pub fn close(&mut self) -> Result<()> {
        self.flush()?;
        self.notebook.consolidate()
    }
}

fn key_of(entry: &NewEntry, created: Timestamp) -> ExecKey {
    ExecKey {
        notebook: entry.notebook.clone(),
        cell: entry.cell.clone(),
        module: entry.module.clone(),
        version: entry.version.clone(),
        created_at: created,
    }
}

/// The `variables` parts of a run, as a sorted list to compare runs by.
fn variables_of<'a>(
    parts: impl Iterator<Item = (PartKind, &'a str, &'a str, ContentHash)>,
) -> Vec<(&'a str, &'a str, ContentHash)> {
    let mut found: Vec<_> = parts
        .filter(|(kind, ..)| *kind == PartKind::Variables)
        .map(|(_, label, format, hash)| (label, format, hash))
        .collect();
    found.sort();
    found
}

/// Does the entry hold an unnamed `variables` part in `format` (what marimo stored)?
fn has_main_part(index: &NotebookIndex, view: &EntryView<'_>, format: &str) -> bool {
    index
        .part_views(view)
        .any(|p| p.kind == PartKind::Variables && p.label.is_empty() && p.format == format)
}
