//! Two histories seen as one (celltime's store and marimo's cache folder, when a workspace
//! has both): notebooks are the union, timelines hold the rows of both, and every other call
//! goes to the backend that owns the entry or content. Pure dispatch: no state of its own
//! beyond which backend listed which id.

use super::history::{
    Applied, BackendKind, ContentRef, Detail, History, HistoryError, HistoryResult, NotebookInfo,
    PartInfo, Timeline, UndoToken,
};
use super::keys::EntryId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

pub struct CombinedHistory {
    /// The store first, then the legacy cache.
    backends: [Box<dyn History>; 2],
    /// Which backend listed an id (filled by `timeline`).
    owners: Mutex<HashMap<EntryId, usize>>,
}

impl CombinedHistory {
    pub fn new(store: Box<dyn History>, legacy: Box<dyn History>) -> CombinedHistory {
        CombinedHistory {
            backends: [store, legacy],
            owners: Mutex::new(HashMap::new()),
        }
    }

    fn owners(&self) -> std::sync::MutexGuard<'_, HashMap<EntryId, usize>> {
        self.owners.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The backend that listed `id`, asking both when it was not listed yet.
    fn owner(&self, notebook: &str, id: EntryId) -> HistoryResult<usize> {
        if let Some(at) = self.owners().get(&id) {
            return Ok(*at);
        }
        for at in 0..2 {
            if self
                .timeline_of(at, notebook)?
                .rows
                .iter()
                .any(|r| r.id == id)
            {
                return Ok(at);
            }
        }
        Err(HistoryError::new(format!(
            "no entry {} in notebook {notebook:?}",
            id.short()
        )))
    }

    /// A backend's timeline, empty where it does not have the notebook.
    fn timeline_of(&self, at: usize, notebook: &str) -> HistoryResult<Timeline> {
        let backend = &self.backends[at];
        if !backend.notebooks()?.iter().any(|n| n.notebook == notebook) {
            return Ok(Timeline::default());
        }
        let timeline = backend.timeline(notebook)?;
        self.owners()
            .extend(timeline.rows.iter().map(|r| (r.id, at)));
        Ok(timeline)
    }
}

impl History for CombinedHistory {
    fn kind(&self) -> BackendKind {
        BackendKind::Store
    }

    fn location(&self) -> String {
        format!(
            "{} + {}",
            self.backends[0].location(),
            self.backends[1].location()
        )
    }

    fn notebooks(&self) -> HistoryResult<Vec<NotebookInfo>> {
        let mut merged: BTreeMap<String, NotebookInfo> = BTreeMap::new();
        let mut in_both = Vec::new();
        for backend in &self.backends {
            for info in backend.notebooks()? {
                match merged.get_mut(&info.notebook) {
                    Some(m) => {
                        m.entries += info.entries;
                        m.bytes += info.bytes;
                        in_both.push(info.notebook);
                    }
                    None => {
                        merged.insert(info.notebook.clone(), info);
                    }
                }
            }
        }
        // A cell both backends hold (an imported block, say) is one cell.
        for notebook in in_both {
            let timeline = self.timeline(&notebook)?;
            let cells: BTreeSet<&str> = timeline.rows.iter().map(|r| &*r.cell).collect();
            if let Some(m) = merged.get_mut(&notebook) {
                m.cells = cells.len();
            }
        }
        Ok(merged.into_values().collect())
    }

    fn timeline(&self, notebook: &str) -> HistoryResult<Timeline> {
        let mut combined = Timeline {
            notebook: notebook.to_string(),
            ..Timeline::default()
        };
        for at in 0..2 {
            let timeline = self.timeline_of(at, notebook)?;
            let offset = combined.content_sizes.len() as u32;
            combined.content_sizes.extend(timeline.content_sizes);
            combined
                .rows
                .extend(timeline.rows.into_iter().map(|mut row| {
                    row.contents.iter_mut().for_each(|c| *c += offset);
                    row
                }));
        }
        Ok(combined)
    }

    fn detail(&self, notebook: &str, id: EntryId) -> HistoryResult<Detail> {
        self.backends[self.owner(notebook, id)?].detail(notebook, id)
    }

    fn read(&self, notebook: &str, part: &PartInfo) -> HistoryResult<Vec<u8>> {
        self.backends[backend_of(part)].read(notebook, part)
    }

    fn copy_to(
        &self,
        notebook: &str,
        part: &PartInfo,
        out: &mut dyn std::io::Write,
    ) -> HistoryResult<u64> {
        self.backends[backend_of(part)].copy_to(notebook, part, out)
    }

    fn remove(&self, notebook: &str, ids: &[EntryId]) -> HistoryResult<Applied> {
        let mut split: [Vec<EntryId>; 2] = [Vec::new(), Vec::new()];
        for id in ids {
            split[self.owner(notebook, *id)?].push(*id);
        }
        let mut applied = Vec::new();
        for (at, ids) in split.iter().enumerate() {
            if !ids.is_empty() {
                applied.push(self.backends[at].remove(notebook, ids)?);
            }
        }
        Ok(match applied.len() {
            1 => applied.remove(0),
            _ => Applied {
                notebook: notebook.to_string(),
                removed: applied.iter().map(|a| a.removed).sum(),
                bytes: applied.iter().map(|a| a.bytes).sum(),
                failures: applied.iter().flat_map(|a| a.failures.clone()).collect(),
                undo: UndoToken::Many(applied),
            },
        })
    }

    fn undo(&self, applied: &Applied) -> HistoryResult<usize> {
        match &applied.undo {
            UndoToken::Store(_) => self.backends[0].undo(applied),
            UndoToken::Legacy(_) => self.backends[1].undo(applied),
            UndoToken::Many(parts) => parts.iter().map(|a| self.undo(a)).sum(),
        }
    }

    fn reclaim(&self, notebook: &str) -> HistoryResult<u64> {
        let mut freed = 0;
        for backend in &self.backends {
            if backend.notebooks()?.iter().any(|n| n.notebook == notebook) {
                freed += backend.reclaim(notebook)?;
            }
        }
        Ok(freed)
    }

    fn set_pinned(&self, notebook: &str, ids: &[EntryId], pinned: bool) -> HistoryResult<usize> {
        let mut changed = 0;
        for id in ids {
            changed +=
                self.backends[self.owner(notebook, *id)?].set_pinned(notebook, &[*id], pinned)?;
        }
        Ok(changed)
    }
}

/// Which backend holds a part: hashes are the store's, files marimo's cache.
fn backend_of(part: &PartInfo) -> usize {
    match part.content {
        ContentRef::Hash(_) => 0,
        ContentRef::File { .. } => 1,
    }
}
