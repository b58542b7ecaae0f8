//! What the marimo plugin does with a notebook of the store (docs/MARIMO.md): serve marimo's
//! cache keys from the run chosen for them, record each run marimo writes as one entry with
//! its `marimo_key`, and batch the uses (hits) so a hit costs no write.
//!
//! The Python side (`crates/celltime-py`, `python/celltime/`) only translates: it finds the
//! notebook and the code of the run, and turns errors into warnings.

use crate::model::{
    CellKey, ContentHash, EntryId, EntryView, MarimoKey, ModuleHash, NewEntry, NewPart,
    NotebookIndex, NotebookKey, PartKind, PartMask, Timestamp,
};
use crate::store::{Notebook, Result, Store};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The format of a lazy manifest part (marimo's `.jsonl`).
pub const LAZY_MANIFEST: &str = "jsonl";

/// Uses waiting longer than this are written with the next call.
const USE_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

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
pub struct Recorder {
    store: Store,
    notebook: Notebook,
    /// The notebook file relative to the workspace, for `notebook.toml` on the first write.
    source: Option<String>,
    uses: BTreeMap<EntryId, Timestamp>,
    oldest_use: Option<Instant>,
}

impl Recorder {
    /// Opens the notebook folder of `key`, which is created on the first run recorded;
    /// `source` is the notebook file relative to the workspace, for its `notebook.toml`.
    pub fn open(store: &Store, key: &NotebookKey, source: Option<&str>) -> Result<Recorder> {
        Ok(Recorder {
            store: store.clone(),
            notebook: store.notebook_for_write(key)?,
            source: source.map(str::to_string),
            uses: BTreeMap::new(),
            oldest_use: None,
        })
    }

    pub fn notebook(&self) -> &Notebook {
        &self.notebook
    }

    /// What marimo stored under `key` (a pickle, json or lazy manifest key, or a lazy blob
    /// key), from the run served for it; the use is recorded. `None` is a miss.
    pub fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>> {
        self.notebook.refresh()?;
        let wanted = match MarimoKey::new(key) {
            Ok(key) => self.served_main(&key).map(|id| {
                let format = main_part_format(&key).to_string();
                (id, String::new(), format)
            }),
            Err(_) => BlobKey::parse(key).and_then(|blob| {
                let id = self
                    .notebook
                    .served(&blob.block, &blob.hash, |index, view| {
                        has_main_part(index, view, LAZY_MANIFEST)
                    })?;
                Some((id, blob.label, blob.format))
            }),
        };
        let bytes = wanted.and_then(|(id, label, format)| {
            let fetched = self
                .notebook
                .get(id, PartMask::of(&[PartKind::Variables]))?;
            let bytes = fetched
                .parts
                .into_iter()
                .find(|(p, _)| p.label == label && p.format == format)?
                .1
                .ok()?;
            self.note_use(id);
            Some(bytes)
        });
        self.flush_uses_if_due()?;
        Ok(bytes)
    }

    /// The run served for `key`, without recording a use.
    pub fn served(&mut self, key: &MarimoKey) -> Result<Option<EntryId>> {
        self.notebook.refresh()?;
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

    /// The entry already recording this run: same marimo key and the same bytes in every
    /// `variables` part (marimo rewrote nothing since it was recorded).
    pub fn existing(&mut self, run: &Run) -> Option<EntryId> {
        let mut new: Vec<(&str, &str, ContentHash)> = run
            .parts
            .iter()
            .filter(|p| p.kind == PartKind::Variables)
            .map(|p| {
                (
                    p.label.as_str(),
                    p.format.as_str(),
                    ContentHash::of(&p.bytes),
                )
            })
            .collect();
        new.sort();
        let ids = self
            .notebook
            .alternatives(run.cell.as_str(), run.marimo_key.hash());
        let index = self.notebook.index();
        ids.into_iter().find(|id| {
            let Some(view) = index.view(*id) else {
                return false;
            };
            if view.marimo_key != Some(run.marimo_key.as_str()) {
                return false;
            }
            let mut stored: Vec<(&str, &str, ContentHash)> = index
                .part_views(&view)
                .filter(|p| p.kind == PartKind::Variables)
                .map(|p| (p.label, p.format, p.content))
                .collect();
            stored.sort();
            stored == new
        })
    }

    /// Writes the run as a new entry (contents, then one log record; no consolidation).
    pub fn record(&mut self, run: Run) -> Result<EntryId> {
        let mut entry = NewEntry::new(
            self.notebook.key().clone(),
            run.cell,
            ModuleHash::new(run.marimo_key.hash())?,
        );
        entry.created_at = run.created_at;
        entry.marimo_key = Some(run.marimo_key);
        if let Some(code) = &run.code {
            entry.parts.push(NewPart::code(code));
        }
        entry.parts.extend(run.parts);
        if let Some(source) = self.source.take()
            && !self
                .store
                .paths(self.notebook.key())
                .notebook_file()
                .exists()
        {
            self.store
                .set_notebook_source(self.notebook.key(), &source)?;
        }
        let id = self.notebook.put(entry)?.id();
        self.flush_uses()?;
        Ok(id)
    }

    /// Records a use of an entry found by other means (a lazy or whole-cell hit marimo served
    /// from its own folder).
    pub fn note_use(&mut self, id: EntryId) {
        self.uses.insert(id, Timestamp::now());
        self.oldest_use.get_or_insert_with(Instant::now);
    }

    fn flush_uses_if_due(&mut self) -> Result<()> {
        match self.oldest_use {
            Some(since) if since.elapsed() >= USE_FLUSH_INTERVAL => self.flush_uses(),
            _ => Ok(()),
        }
    }

    /// Writes the pending uses as one `used` record (at the latest use's time).
    pub fn flush_uses(&mut self) -> Result<()> {
        let Some(latest) = self.uses.values().max().copied() else {
            return Ok(());
        };
        let ids: Vec<EntryId> = self.uses.keys().copied().collect();
        self.notebook.touch(&ids, latest)?;
        self.uses.clear();
        self.oldest_use = None;
        Ok(())
    }

    /// The on_exit step: pending uses written, the log folded into the map.
    pub fn close(&mut self) -> Result<()> {
        self.flush_uses()?;
        self.notebook.consolidate()
    }
}

/// Does the entry hold an unnamed `variables` part in `format` (what marimo stored)?
fn has_main_part(index: &NotebookIndex, view: &EntryView<'_>, format: &str) -> bool {
    index
        .part_views(view)
        .any(|p| p.kind == PartKind::Variables && p.label.is_empty() && p.format == format)
}
