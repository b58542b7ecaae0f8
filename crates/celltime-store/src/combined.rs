//! celltime's store and marimo's cache folder seen as one history, a run held by both (an
//! imported entry, or a lazy or whole-cell run the marimo plugin recorded while marimo also
//! wrote it) as one row with the store's id (the rule: `model::merge`, docs/FORMAT.md §16).
//! Removing a run removes every copy, each through its own safe path (the store's `remove`
//! record, the cache's trash), or none.

use crate::legacy::LegacyHistory;
use crate::model::{
    Applied, BackendKind, Change, ContentRef, Detail, EntryId, History, HistoryError,
    HistoryResult, Journal, Merged, NotebookInfo, Owner, PartInfo, Removal, Timeline, merge,
};
use crate::store::history::StoreHistory;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

pub struct CombinedHistory {
    store: StoreHistory,
    legacy: LegacyHistory,
    /// The copies behind each row id, as the last timeline listed them.
    owners: Mutex<HashMap<EntryId, Owner>>,
}

impl CombinedHistory {
    pub fn new(store: StoreHistory, legacy: LegacyHistory) -> CombinedHistory {
        CombinedHistory {
            store,
            legacy,
            owners: Mutex::new(HashMap::new()),
        }
    }

    fn owners(&self) -> std::sync::MutexGuard<'_, HashMap<EntryId, Owner>> {
        self.owners.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, merged: &Merged) {
        let mut owners = self.owners();
        for (row, owner) in merged.timeline.rows.iter().zip(&merged.owners) {
            owners.insert(row.id, *owner);
            // The cache copy's own id (what an older listing or a script may hold) still finds
            // the run.
            if let Some(cache) = owner.cache {
                owners.insert(cache, *owner);
            }
        }
    }

    /// The merged timeline of a notebook from what both backends hold now.
    fn merged(&self, notebook: &str) -> HistoryResult<Merged> {
        let loaded = self.legacy.load()?;
        let (cache, cache_ties) = LegacyHistory::timeline_of(&loaded, notebook);
        let (store, store_ties) = if self.store.has_notebook(notebook)? {
            (self.store.timeline(notebook)?, self.store.ties(notebook)?)
        } else {
            (Timeline::default(), Vec::new())
        };
        let merged = merge(store, &store_ties, cache, &cache_ties);
        self.remember(&merged);
        Ok(merged)
    }

    fn owner(&self, notebook: &str, id: EntryId) -> HistoryResult<Owner> {
        if let Some(owner) = self.owners().get(&id) {
            return Ok(*owner);
        }
        self.merged(notebook)?;
        self.owners().get(&id).copied().ok_or_else(|| {
            HistoryError::new(format!("no entry {} in notebook {notebook:?}", id.short()))
        })
    }

    /// Removes runs that have a store copy: under the store's lock, checks the plan against
    /// the fresh merged timeline, records both changes, moves the cache copies to the trash,
    /// then removes the store copies of the runs whose cache copy moved (or had none).
    fn remove_with_store(&self, removal: &Removal<'_>) -> HistoryResult<Applied> {
        let notebook = removal.notebook;
        self.store.locked(notebook, |tx, store, store_ties| {
            let loaded = self.legacy.fresh()?;
            let (cache, cache_ties) = LegacyHistory::timeline_of(&loaded, notebook);
            let merged = merge(store, &store_ties, cache, &cache_ties);
            (removal.check)(&merged.timeline).map_err(HistoryError::stale)?;
            self.remember(&merged);
            let by_id: HashMap<EntryId, (usize, Owner)> = merged
                .timeline
                .rows
                .iter()
                .zip(&merged.owners)
                .enumerate()
                .map(|(at, (row, owner))| (row.id, (at, *owner)))
                .collect();
            let mut applied = Applied {
                notebook: notebook.to_string(),
                ..Applied::default()
            };
            let mut runs = Vec::new();
            for id in removal.ids {
                match by_id.get(id) {
                    Some(found) => runs.push(*found),
                    None => applied
                        .failures
                        .push(format!("no entry {} in notebook {notebook:?}", id.short())),
                }
            }
            let cache_ids: Vec<EntryId> = runs.iter().filter_map(|(_, o)| o.cache).collect();
            let index = tx.notebook().index();
            let store_entries = runs
                .iter()
                .filter_map(|(_, o)| o.store.and_then(|id| index.get(id)))
                .collect();
            removal.journal.record(&Change::StoreRemoved {
                notebook: notebook.to_string(),
                entries: store_entries,
            })?;
            let trashed = self
                .legacy
                .trash(&loaded, notebook, &cache_ids, removal.journal)?;
            applied.failures.extend(trashed.failures);
            applied.cache_bytes = trashed.bytes;
            // Every copy or none: a run whose cache copy did not move keeps its store copy.
            let mut store_ids = Vec::new();
            let mut gone = Vec::new();
            for (at, owner) in &runs {
                if owner.cache.is_none_or(|c| trashed.ids.contains(&c)) {
                    store_ids.extend(owner.store);
                    gone.push(*at);
                }
            }
            let removed_store = tx.remove(&store_ids)?;
            let cache_only = runs
                .iter()
                .filter(|(_, o)| {
                    o.store.is_none() && o.cache.is_some_and(|c| trashed.ids.contains(&c))
                })
                .count();
            applied.removed = removed_store + cache_only;
            applied.bytes = freed_bytes(&merged.timeline, &gone);
            Ok(applied)
        })
    }
}

/// Bytes of contents only the rows `gone` reference.
fn freed_bytes(timeline: &Timeline, gone: &[usize]) -> u64 {
    let mut refs = vec![0u32; timeline.content_sizes.len()];
    for row in &timeline.rows {
        for &c in &row.contents {
            refs[c as usize] += 1;
        }
    }
    for &at in gone {
        for &c in &timeline.rows[at].contents {
            refs[c as usize] -= 1;
        }
    }
    let mut freed: Vec<u32> = gone
        .iter()
        .flat_map(|&at| timeline.rows[at].contents.iter().copied())
        .filter(|&c| refs[c as usize] == 0)
        .collect();
    freed.sort_unstable();
    freed.dedup();
    freed
        .iter()
        .map(|&c| timeline.content_sizes[c as usize])
        .sum()
}

impl History for CombinedHistory {
    fn kind(&self) -> BackendKind {
        BackendKind::Store
    }

    fn location(&self) -> String {
        format!("{} + {}", self.store.location(), self.legacy.location())
    }

    fn notebooks(&self) -> HistoryResult<Vec<NotebookInfo>> {
        let mut merged: BTreeMap<String, NotebookInfo> = BTreeMap::new();
        let mut in_both = Vec::new();
        for backend in [&self.store as &dyn History, &self.legacy] {
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
        // A notebook both backends hold counts its runs, and its cells, once.
        for notebook in in_both {
            let timeline = self.merged(&notebook)?.timeline;
            let cells: std::collections::BTreeSet<&str> =
                timeline.rows.iter().map(|r| &*r.cell).collect();
            if let Some(m) = merged.get_mut(&notebook) {
                m.cells = cells.len();
                m.entries = timeline.rows.len();
            }
        }
        Ok(merged.into_values().collect())
    }

    fn timeline(&self, notebook: &str) -> HistoryResult<Timeline> {
        Ok(self.merged(notebook)?.timeline)
    }

    fn detail(&self, notebook: &str, id: EntryId) -> HistoryResult<Detail> {
        let owner = self.owner(notebook, id)?;
        match (owner.store, owner.cache) {
            (Some(store), cache) => {
                let mut detail = self.store.detail(notebook, store)?;
                detail.facts.push((
                    "copies".to_string(),
                    if cache.is_some() {
                        "store+cache".to_string()
                    } else {
                        "store".to_string()
                    },
                ));
                if let Some(cache) = cache {
                    let twin = self.legacy.detail(notebook, cache)?;
                    detail.facts.extend(
                        twin.facts
                            .into_iter()
                            .filter(|(k, _)| {
                                matches!(k.as_str(), "file" | "cache folder" | "block")
                            })
                            .map(|(k, v)| (format!("cache copy: {k}"), v)),
                    );
                }
                Ok(detail)
            }
            (None, Some(cache)) => self.legacy.detail(notebook, cache),
            (None, None) => Err(HistoryError::new(format!(
                "no entry {} in notebook {notebook:?}",
                id.short()
            ))),
        }
    }

    fn read(&self, notebook: &str, part: &PartInfo) -> HistoryResult<Vec<u8>> {
        match part.content {
            ContentRef::Hash(_) => self.store.read(notebook, part),
            ContentRef::File { .. } => self.legacy.read(notebook, part),
        }
    }

    fn copy_to(
        &self,
        notebook: &str,
        part: &PartInfo,
        out: &mut dyn std::io::Write,
    ) -> HistoryResult<u64> {
        match part.content {
            ContentRef::Hash(_) => self.store.copy_to(notebook, part, out),
            ContentRef::File { .. } => self.legacy.copy_to(notebook, part, out),
        }
    }

    fn remove(&self, removal: &Removal<'_>) -> HistoryResult<Applied> {
        if self.store.has_notebook(removal.notebook)? {
            self.remove_with_store(removal)
        } else {
            self.legacy.remove(removal)
        }
    }

    fn reverse(&self, change: &Change, journal: &dyn Journal) -> HistoryResult<usize> {
        let result = match change {
            Change::CacheTrashed { .. } | Change::CacheRestored { .. } => {
                self.legacy.reverse(change, journal)
            }
            _ => self.store.reverse(change, journal),
        };
        self.owners().clear();
        result
    }

    fn ops_dir(&self) -> Option<std::path::PathBuf> {
        self.store.ops_dir()
    }

    fn reclaim(&self, notebook: &str) -> HistoryResult<u64> {
        let mut freed = self.legacy.reclaim(notebook)?;
        if self.store.has_notebook(notebook)? {
            freed += self.store.reclaim(notebook)?;
        }
        Ok(freed)
    }

    fn serve(&self, notebook: &str, id: EntryId, journal: &dyn Journal) -> HistoryResult<()> {
        match self.owner(notebook, id)?.store {
            Some(store) => self.store.serve(notebook, store, journal),
            None => self.legacy.serve(notebook, id, journal),
        }
    }

    fn set_pinned(
        &self,
        notebook: &str,
        ids: &[EntryId],
        pinned: bool,
        journal: &dyn Journal,
    ) -> HistoryResult<usize> {
        // Every id is resolved before anything changes.
        let mut store_ids = Vec::new();
        for id in ids {
            match self.owner(notebook, *id)?.store {
                Some(store) => store_ids.push(store),
                None => return self.legacy.set_pinned(notebook, &[*id], pinned, journal),
            }
        }
        self.store.set_pinned(notebook, &store_ids, pinned, journal)
    }
}
