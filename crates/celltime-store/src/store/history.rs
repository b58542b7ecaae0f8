//! The store as a [`History`]: what the CLI, prune and the TUI use on `__marimo__/persist/`.

use super::layout::NOTEBOOK_FILE;
use super::{Locked, Notebook, Store, StoreError};
use crate::model::{
    Applied, BackendKind, CacheTie, Change, ContentRef, Copies, Detail, EntryId, History,
    HistoryError, HistoryResult, IndexSummary, Journal, NotebookInfo, NotebookKey, ParentInfo,
    PartInfo, PartKind, Removal, Row, Timeline,
};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

impl From<StoreError> for HistoryError {
    fn from(e: StoreError) -> HistoryError {
        HistoryError {
            busy: matches!(e, StoreError::Busy { .. }),
            stale: false,
            message: e.to_string(),
        }
    }
}

/// Formats of a whole-namespace variables part that is a byte copy of a file of marimo's
/// cache (what `import` and the marimo plugin write): the tie of docs/FORMAT.md §16.
pub const CACHE_FILE_FORMATS: [&str; 3] = ["pickle", "json", "jsonl"];

/// How many notebooks stay open between calls: a UI works on one at a time, and a listing
/// of a large workspace must not hold them all in memory.
const KEEP_OPEN: usize = 2;

/// The most recently used notebooks stay open between calls; each call first picks up what
/// other processes wrote.
pub struct StoreHistory {
    store: Store,
    /// Most recently used first.
    open: Mutex<Vec<(String, Notebook)>>,
}

impl StoreHistory {
    pub fn new(store: Store) -> StoreHistory {
        StoreHistory {
            store,
            open: Mutex::new(Vec::new()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Does the store have this notebook's folder?
    pub fn has_notebook(&self, notebook: &str) -> HistoryResult<bool> {
        // Whatever kind of file notebook.toml is: a damaged one is the store's to report.
        let exists = |path: std::path::PathBuf| std::fs::symlink_metadata(path).is_ok();
        Ok(match NotebookKey::new(notebook) {
            Ok(key) => exists(self.store.paths(&key).notebook_file()),
            // Not a key: marimo's alone, unless a store folder of that name (damage) exists.
            Err(_) => exists(self.store.persist_dir().join(notebook)),
        })
    }

    /// Runs `f` under the notebook's exclusive lock with its fresh timeline and the cache ties
    /// of its rows (parallel to them): how a removal is checked and made in one step.
    pub fn locked<T>(
        &self,
        notebook: &str,
        f: impl FnOnce(&mut Locked<'_>, Timeline, Vec<Option<CacheTie>>) -> HistoryResult<T>,
    ) -> HistoryResult<T> {
        self.with(notebook, false, |nb| {
            nb.locked(|tx| {
                let timeline = timeline_of(tx.notebook());
                let ties = ties_of(tx.notebook());
                f(tx, timeline, ties).map_err(Failed)
            })
        })
        .map_err(|Failed(e)| e)
    }

    /// The cache ties of a notebook's rows, parallel to its timeline.
    pub fn ties(&self, notebook: &str) -> HistoryResult<Vec<Option<CacheTie>>> {
        self.with(notebook, false, |nb| Ok(ties_of(nb)))
    }

    /// Reverses a change of the store (an undo); see [`History::reverse`].
    pub fn reverse_store(&self, change: &Change, journal: &dyn Journal) -> HistoryResult<usize> {
        match change {
            Change::StoreRemoved { notebook, entries } => {
                self.locked(notebook, |tx, _, _| {
                    let back: Vec<EntryId> = tx
                        .notebook()
                        .restorable(entries)
                        .iter()
                        .map(|e| e.key.id())
                        .collect();
                    journal.record(&Change::StoreAdded {
                        notebook: notebook.clone(),
                        ids: back.clone(),
                    })?;
                    let restored = tx.restore(entries)?;
                    if restored < entries.len() {
                        let missing = entries.len() - restored;
                        let present = entries
                            .iter()
                            .filter(|e| tx.notebook().index().contains(e.key.id()))
                            .count();
                        if present < entries.len() {
                            return Err(HistoryError::new(format!(
                                "{notebook}: {missing} of {} entries could not be put back: their contents were swept by gc",
                                entries.len()
                            )));
                        }
                    }
                    Ok(restored)
                })
            }
            Change::StoreAdded { notebook, ids } => self.locked(notebook, |tx, _, _| {
                let entries: Vec<_> = ids
                    .iter()
                    .filter_map(|id| tx.notebook().index().get(*id))
                    .collect();
                journal.record(&Change::StoreRemoved {
                    notebook: notebook.clone(),
                    entries,
                })?;
                Ok(tx.remove(ids)?)
            }),
            Change::Pinned { notebook, ids } => self.pin_locked(notebook, ids, false, journal),
            Change::Unpinned { notebook, ids } => self.pin_locked(notebook, ids, true, journal),
            Change::Served {
                notebook,
                id,
                previous,
            } => match previous {
                Some(previous) if previous != id => {
                    self.serve_locked(notebook, *previous, journal)
                }
                _ => Ok(0),
            },
            Change::CacheTrashed { .. } | Change::CacheRestored { .. } => Err(HistoryError::new(
                "this change was made in marimo's cache folder, which this command did not open",
            )),
        }
    }

    /// Pins or unpins, recording only the entries whose mark changes.
    fn pin_locked(
        &self,
        notebook: &str,
        ids: &[EntryId],
        pinned: bool,
        journal: &dyn Journal,
    ) -> HistoryResult<usize> {
        self.locked(notebook, |tx, _, _| {
            let index = tx.notebook().index();
            let changing: Vec<EntryId> = ids
                .iter()
                .copied()
                .filter(|id| index.view(*id).is_some_and(|v| v.pinned != pinned))
                .collect();
            let change = if pinned {
                Change::Pinned {
                    notebook: notebook.to_string(),
                    ids: changing.clone(),
                }
            } else {
                Change::Unpinned {
                    notebook: notebook.to_string(),
                    ids: changing.clone(),
                }
            };
            journal.record(&change)?;
            Ok(tx.set_pinned(&changing, pinned)?)
        })
    }

    /// Serves `id` from now on, recording which run was served before so undo can go back.
    fn serve_locked(
        &self,
        notebook: &str,
        id: EntryId,
        journal: &dyn Journal,
    ) -> HistoryResult<usize> {
        self.locked(notebook, |tx, _, _| {
            let Some(view) = tx.notebook().index().view(id) else {
                return Ok(0);
            };
            let (cell, module) = (view.cell.to_string(), view.module.to_string());
            let previous = tx.served(&cell, &module);
            journal.record(&Change::Served {
                notebook: notebook.to_string(),
                id,
                previous,
            })?;
            Ok(tx.serve(&[id])?)
        })
    }

    fn with<T, E: From<StoreError>>(
        &self,
        notebook: &str,
        reload: bool,
        f: impl FnOnce(&mut Notebook) -> Result<T, E>,
    ) -> Result<T, E> {
        // Listings name damaged folders by their path; say what is wrong with the folder.
        let key = NotebookKey::new(notebook).map_err(|e| {
            let file = self.store.persist_dir().join(notebook).join(NOTEBOOK_FILE);
            StoreError::invalid(
                &file,
                None,
                format!("the folder's path is not a notebook key: {}", e.reason),
            )
        })?;
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        match open.iter().position(|(name, _)| name == notebook) {
            Some(at) => {
                let found = open.remove(at);
                open.insert(0, found);
                if reload {
                    open[0].1.reload()?;
                }
            }
            None => {
                open.insert(0, (notebook.to_string(), self.store.notebook(&key)?));
                open.truncate(KEEP_OPEN);
            }
        }
        f(&mut open[0].1)
    }
}

/// A history error carried through the store's locked section.
struct Failed(HistoryError);

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Failed {
        Failed(e.into())
    }
}

impl From<HistoryError> for Failed {
    fn from(e: HistoryError) -> Failed {
        Failed(e)
    }
}

impl History for StoreHistory {
    fn kind(&self) -> BackendKind {
        BackendKind::Store
    }

    fn location(&self) -> String {
        self.store.persist_dir().display().to_string()
    }

    /// Totals from snapshot headers where they are current; a notebook that must be read for
    /// them stays open, so the timeline asked for next is not read twice. A damaged folder is
    /// listed with no entries (its timeline says what is wrong): it never hides the others.
    fn notebooks(&self) -> HistoryResult<Vec<NotebookInfo>> {
        let mut infos = Vec::new();
        for folder in self.store.notebook_folders()? {
            let (notebook, summary) = match folder.key {
                Ok(key) => {
                    let summary = match self.store.quick_summary(&key) {
                        Some(summary) => summary,
                        None => match self.with(key.as_str(), true, |nb| {
                            Ok::<_, HistoryError>(nb.index().summary())
                        }) {
                            Ok(summary) => summary,
                            Err(e) if e.busy => return Err(e),
                            Err(_) => IndexSummary::default(),
                        },
                    };
                    (key.to_string(), summary)
                }
                Err(_) => (folder.name, IndexSummary::default()),
            };
            infos.push(NotebookInfo {
                notebook,
                cells: summary.cells as usize,
                entries: summary.entries as usize,
                bytes: summary.bytes,
            });
        }
        Ok(infos)
    }

    fn timeline(&self, notebook: &str) -> HistoryResult<Timeline> {
        self.with(notebook, true, |nb| Ok(timeline_of(nb)))
    }

    fn detail(&self, notebook: &str, id: EntryId) -> HistoryResult<Detail> {
        self.with(notebook, false, |nb| {
            let entry = nb
                .index()
                .get(id)
                .ok_or_else(|| StoreError::UnknownEntry(id.short()))?;
            let parts = entry
                .parts
                .iter()
                .map(|p| PartInfo {
                    kind: p.kind,
                    label: p.label.clone(),
                    format: p.format.clone(),
                    size: p.size,
                    content: ContentRef::Hash(p.content),
                })
                .collect();
            let parents = entry
                .parents
                .iter()
                .map(|k| ParentInfo {
                    notebook: k.notebook.to_string(),
                    cell: k.cell.to_string(),
                    module: k.module.to_string(),
                    version: k.version.to_string(),
                    created_at: k.created_at,
                    id: k.id(),
                })
                .collect();
            let mut facts = vec![
                ("id".to_string(), id.to_hex()),
                ("notebook".to_string(), entry.key.notebook.to_string()),
                ("cell".to_string(), entry.key.cell.to_string()),
                ("module hash".to_string(), entry.key.module.to_string()),
                ("version".to_string(), entry.key.version.to_string()),
                ("created".to_string(), entry.key.created_at.to_rfc3339()),
                (
                    "last used".to_string(),
                    entry.last_used.map_or("never".into(), |t| t.to_rfc3339()),
                ),
                ("pinned".to_string(), entry.pinned.to_string()),
                ("size".to_string(), entry.size().to_string()),
            ];
            if let Some(key) = &entry.marimo_key {
                facts.push(("marimo key".to_string(), key.to_string()));
            }
            if let Some(served) = entry.served {
                facts.push(("served since".to_string(), served.to_rfc3339()));
            }
            for p in &entry.parts {
                let label = if p.label.is_empty() {
                    p.kind.to_string()
                } else {
                    format!("{} {}", p.kind, p.label)
                };
                facts.push((label, format!("{} ({} bytes)", p.content, p.size)));
            }
            Ok(Detail {
                parts,
                parents,
                facts,
            })
        })
    }

    fn serve(&self, notebook: &str, id: EntryId, journal: &dyn Journal) -> HistoryResult<()> {
        self.serve_locked(notebook, id, journal).map(|_| ())
    }

    fn read(&self, notebook: &str, part: &PartInfo) -> HistoryResult<Vec<u8>> {
        let ContentRef::Hash(hash) = &part.content else {
            return Err(HistoryError::new("not a store content"));
        };
        let reader = self.with(notebook, false, |nb| Ok::<_, HistoryError>(nb.reader()))?;
        Ok(reader.read(*hash, part.size)?)
    }

    fn copy_to(
        &self,
        notebook: &str,
        part: &PartInfo,
        out: &mut dyn std::io::Write,
    ) -> HistoryResult<u64> {
        let ContentRef::Hash(hash) = &part.content else {
            return Err(HistoryError::new("not a store content"));
        };
        let reader = self.with(notebook, false, |nb| Ok::<_, HistoryError>(nb.reader()))?;
        Ok(reader.copy_to(*hash, part.size, out)?)
    }

    fn remove(&self, removal: &Removal<'_>) -> HistoryResult<Applied> {
        let notebook = removal.notebook;
        self.locked(notebook, |tx, timeline, _| {
            (removal.check)(&timeline).map_err(HistoryError::stale)?;
            let index = tx.notebook().index();
            let wanted: HashSet<EntryId> = removal.ids.iter().copied().collect();
            let bytes = index.freed_bytes(&wanted);
            let entries: Vec<_> = removal.ids.iter().filter_map(|id| index.get(*id)).collect();
            removal.journal.record(&Change::StoreRemoved {
                notebook: notebook.to_string(),
                entries,
            })?;
            let removed = tx.remove(removal.ids)?;
            Ok(Applied {
                notebook: notebook.to_string(),
                removed,
                bytes,
                ..Applied::default()
            })
        })
    }

    fn reverse(&self, change: &Change, journal: &dyn Journal) -> HistoryResult<usize> {
        self.reverse_store(change, journal)
    }

    fn ops_dir(&self) -> Option<std::path::PathBuf> {
        Some(self.store.persist_dir().join(crate::ops::OPS_DIR))
    }

    fn reclaim(&self, notebook: &str) -> HistoryResult<u64> {
        let grace = self.store.config().gc_grace;
        self.with(notebook, true, |nb| {
            let report = nb.gc(grace)?;
            Ok(report.object_bytes_freed + report.pack_bytes_dropped)
        })
    }

    fn set_pinned(
        &self,
        notebook: &str,
        ids: &[EntryId],
        pinned: bool,
        journal: &dyn Journal,
    ) -> HistoryResult<usize> {
        self.pin_locked(notebook, ids, pinned, journal)
    }
}

/// Rows of a notebook; strings are shared between rows of one cell or module.
pub fn timeline_of(nb: &Notebook) -> Timeline {
    let index = nb.index();
    // One `Arc` per distinct string, found by the index's own string ids.
    let mut shared: Vec<Option<Arc<str>>> = vec![None; index.string_count()];
    let mut share = |id: u32, text: &str| -> Arc<str> {
        shared[id as usize]
            .get_or_insert_with(|| Arc::from(text))
            .clone()
    };
    let rows = index
        .views_in_order()
        .map(|view| {
            let [cell, module, version] = index.key_string_ids(&view);
            (view, cell, module, version)
        })
        .map(|(view, cell, module, version)| Row {
            id: view.id,
            cell: share(cell, view.cell),
            module: share(module, view.module),
            version: share(version, view.version),
            created_at: view.created_at,
            approximate_time: false,
            last_used: view.last_used,
            pinned: view.pinned,
            size: view.size,
            parts: view.parts,
            contents: index.content_ids(&view),
            copies: Copies::STORE,
            code: index.code_of(&view),
        })
        .collect();
    Timeline {
        notebook: nb.key().to_string(),
        rows,
        content_sizes: index.content_sizes(),
    }
}

/// What ties each row (in [`timeline_of`]'s order) to a file of marimo's cache: a
/// whole-namespace variables part in a cache file format.
pub fn ties_of(nb: &Notebook) -> Vec<Option<CacheTie>> {
    let index = nb.index();
    index
        .views()
        .iter()
        .map(|view| {
            if !view.parts.contains(PartKind::Variables) {
                return None;
            }
            index
                .part_views(view)
                .find(|p| {
                    p.kind == PartKind::Variables
                        && p.label.is_empty()
                        && CACHE_FILE_FORMATS.contains(&p.format)
                })
                .map(|p| CacheTie {
                    hash: view.module.to_string(),
                    format: p.format.to_string(),
                    size: p.size,
                    at: view.created_at,
                })
        })
        .collect()
}
