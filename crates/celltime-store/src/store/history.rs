//! The store as a [`History`]: what the CLI, prune and the TUI use on `__marimo__/persist/`.

use super::{Notebook, Store, StoreError};
use crate::model::{
    Applied, BackendKind, ContentRef, Detail, EntryId, History, HistoryError, HistoryResult,
    NotebookInfo, NotebookKey, ParentInfo, PartInfo, Row, Timeline, UndoToken,
};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

impl From<StoreError> for HistoryError {
    fn from(e: StoreError) -> HistoryError {
        HistoryError {
            busy: matches!(e, StoreError::Busy { .. }),
            message: e.to_string(),
        }
    }
}

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

    fn with<T>(
        &self,
        notebook: &str,
        reload: bool,
        f: impl FnOnce(&mut Notebook) -> Result<T, StoreError>,
    ) -> HistoryResult<T> {
        let key = NotebookKey::new(notebook).map_err(StoreError::from)?;
        let mut open = self
            .open
            .lock()
            .map_err(|_| HistoryError::new("store lock poisoned"))?;
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
        Ok(f(&mut open[0].1)?)
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
    /// them stays open, so the timeline asked for next is not read twice.
    fn notebooks(&self) -> HistoryResult<Vec<NotebookInfo>> {
        self.store
            .notebook_keys()?
            .into_iter()
            .map(|key| {
                let summary = match self.store.quick_summary(&key) {
                    Some(summary) => summary,
                    None => self.with(key.as_str(), true, |nb| Ok(nb.index().summary()))?,
                };
                Ok(NotebookInfo {
                    notebook: key.to_string(),
                    cells: summary.cells as usize,
                    entries: summary.entries as usize,
                    bytes: summary.bytes,
                })
            })
            .collect()
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

    fn read(&self, notebook: &str, part: &PartInfo) -> HistoryResult<Vec<u8>> {
        let ContentRef::Hash(hash) = &part.content else {
            return Err(HistoryError::new("not a store content"));
        };
        let reader = self.with(notebook, false, |nb| Ok(nb.reader()))?;
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
        let reader = self.with(notebook, false, |nb| Ok(nb.reader()))?;
        Ok(reader.copy_to(*hash, part.size, out)?)
    }

    fn remove(&self, notebook: &str, ids: &[EntryId]) -> HistoryResult<Applied> {
        self.with(notebook, true, |nb| {
            let wanted: HashSet<EntryId> = ids.iter().copied().collect();
            let bytes = nb.index().freed_bytes(&wanted);
            let entries: Vec<_> = ids.iter().filter_map(|id| nb.index().get(*id)).collect();
            let removed = nb.remove(ids)?;
            nb.consolidate()?;
            Ok(Applied {
                notebook: notebook.to_string(),
                removed,
                bytes,
                undo: UndoToken::Store(entries),
                failures: Vec::new(),
            })
        })
    }

    fn undo(&self, applied: &Applied) -> HistoryResult<usize> {
        let UndoToken::Store(entries) = &applied.undo else {
            return Err(HistoryError::new("this apply was not made on the store"));
        };
        self.with(&applied.notebook, true, |nb| {
            let restored = nb.restore(entries)?;
            nb.consolidate()?;
            Ok(restored)
        })
    }

    fn reclaim(&self, notebook: &str) -> HistoryResult<u64> {
        let grace = self.store.config().gc_grace;
        self.with(notebook, true, |nb| {
            let report = nb.gc(grace)?;
            Ok(report.object_bytes_freed + report.pack_bytes_dropped)
        })
    }

    fn set_pinned(&self, notebook: &str, ids: &[EntryId], pinned: bool) -> HistoryResult<usize> {
        self.with(notebook, true, |nb| {
            let changed = if pinned { nb.pin(ids)? } else { nb.unpin(ids)? };
            nb.consolidate()?;
            Ok(changed)
        })
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
        })
        .collect();
    Timeline {
        notebook: nb.key().to_string(),
        rows,
        content_sizes: index.content_sizes(),
    }
}
