//! What the UI derives from a [`Timeline`]: cells with their rows newest first, code-change
//! separators, sibling versions, run times; and the marks with what deleting them frees.
//! Built on workers (a timeline may hold 100,000 rows), read on the UI thread.

use celltime_store::model::{EntryId, Row, Timeline, Timestamp, previous_code_version};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Where a row sits among the versions of one module hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sibling {
    /// The only version in its run of one module hash.
    Alone,
    Mid,
    Last,
}

/// One line of a cell's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// The code (by text, [`Row::code`]) differs between the rows above and below.
    Separator,
    Row {
        row: u32,
        sibling: Sibling,
    },
}

impl Item {
    pub fn row(self) -> Option<usize> {
        match self {
            Item::Row { row, .. } => Some(row as usize),
            Item::Separator => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CellView {
    pub name: Arc<str>,
    /// Newest first.
    pub items: Vec<Item>,
    pub runs: usize,
    pub bytes: u64,
    pub pinned: usize,
    pub newest: Timestamp,
}

impl CellView {
    /// Row indices (into the notebook's rows), newest first.
    pub fn rows(&self) -> impl DoubleEndedIterator<Item = usize> + '_ {
        self.items.iter().filter_map(|i| i.row())
    }
}

#[derive(Debug, Clone, Default)]
pub struct NotebookView {
    /// As the history returned it (the policy planner reads it directly).
    pub timeline: Timeline,
    /// Sorted by name.
    pub cells: Vec<CellView>,
    /// Distinct run times, oldest first: the stops of the time machine.
    pub run_times: Vec<Timestamp>,
    /// References to each content across all rows.
    pub refcounts: Vec<u32>,
    /// Bytes of distinct contents.
    pub bytes: u64,
    positions: HashMap<EntryId, (u32, u32)>,
}

impl NotebookView {
    pub fn new(timeline: Timeline) -> NotebookView {
        let (rows, content_sizes) = (&timeline.rows, &timeline.content_sizes);
        let mut by_cell: BTreeMap<Arc<str>, Vec<u32>> = BTreeMap::new();
        let mut refcounts = vec![0u32; content_sizes.len()];
        for (i, row) in rows.iter().enumerate() {
            by_cell.entry(row.cell.clone()).or_default().push(i as u32);
            for &c in &row.contents {
                if let Some(n) = refcounts.get_mut(c as usize) {
                    *n += 1;
                }
            }
        }
        let cells: Vec<CellView> = by_cell
            .into_iter()
            .map(|(name, ids)| cell_view(name, ids, rows))
            .collect();
        let mut positions = HashMap::with_capacity(rows.len());
        for (ci, cell) in cells.iter().enumerate() {
            for (ii, item) in cell.items.iter().enumerate() {
                if let Some(r) = item.row() {
                    positions.insert(rows[r].id, (ci as u32, ii as u32));
                }
            }
        }
        let mut run_times: Vec<Timestamp> = rows.iter().map(|r| r.created_at).collect();
        run_times.sort_unstable();
        run_times.dedup();
        let bytes = content_sizes.iter().sum();
        NotebookView {
            timeline,
            cells,
            run_times,
            refcounts,
            bytes,
            positions,
        }
    }

    pub fn name(&self) -> &str {
        &self.timeline.notebook
    }

    pub fn rows(&self) -> &[Row] {
        &self.timeline.rows
    }

    pub fn content_sizes(&self) -> &[u64] {
        &self.timeline.content_sizes
    }

    /// (cell index, item index) of an entry.
    pub fn position(&self, id: EntryId) -> Option<(usize, usize)> {
        self.positions
            .get(&id)
            .map(|&(c, i)| (c as usize, i as usize))
    }

    pub fn row(&self, id: EntryId) -> Option<&Row> {
        let (c, i) = self.position(id)?;
        Some(&self.rows()[self.cells[c].items[i].row()?])
    }

    pub fn cell_index(&self, name: &str) -> Option<usize> {
        self.cells
            .binary_search_by(|c| c.name.as_ref().cmp(name))
            .ok()
    }

    /// The newest row of each cell created at or before `at`.
    pub fn as_of(&self, at: Timestamp) -> Vec<&Row> {
        self.cells
            .iter()
            .filter_map(|cell| {
                cell.rows()
                    .map(|r| &self.rows()[r])
                    .find(|row| row.created_at <= at)
            })
            .collect()
    }

    /// The previous code version of a run ([`previous_code_version`]).
    pub fn previous_code(&self, id: EntryId) -> Option<&Row> {
        let (c, i) = self.position(id)?;
        let this = &self.rows()[self.cells[c].items[i].row()?];
        let older = || {
            self.cells[c].items[i + 1..]
                .iter()
                .filter_map(|item| item.row())
                .map(|r| &self.rows()[r])
        };
        let at = previous_code_version(this, older())?;
        older().nth(at)
    }

    /// The newest run of each version of the entry's module hash, the entry's own first.
    pub fn versions_of(&self, id: EntryId) -> Vec<&Row> {
        let Some((c, _)) = self.position(id) else {
            return Vec::new();
        };
        let Some(this) = self.row(id) else {
            return Vec::new();
        };
        let mut seen = HashSet::from([this.version.clone()]);
        let mut out = vec![this];
        for r in self.cells[c].rows() {
            let row = &self.rows()[r];
            if row.module == this.module && seen.insert(row.version.clone()) {
                out.push(row);
            }
        }
        out
    }
}

fn cell_view(name: Arc<str>, mut ids: Vec<u32>, rows: &[Row]) -> CellView {
    ids.sort_by(|&a, &b| {
        let (ra, rb) = (&rows[a as usize], &rows[b as usize]);
        (rb.created_at, &rb.version).cmp(&(ra.created_at, &ra.version))
    });
    let mut items = Vec::with_capacity(ids.len() + 8);
    let mut start = 0;
    while start < ids.len() {
        let first = &rows[ids[start] as usize];
        let end = ids[start..]
            .iter()
            .map(|&r| &rows[r as usize])
            .position(|r| r.module != first.module || r.code != first.code)
            .map_or(ids.len(), |n| start + n);
        let group = &ids[start..end];
        let first_version = &rows[group[0] as usize].version;
        let versions = group
            .iter()
            .any(|&r| &rows[r as usize].version != first_version);
        if start > 0 && rows[ids[start - 1] as usize].code != first.code {
            items.push(Item::Separator);
        }
        for (k, &row) in group.iter().enumerate() {
            let sibling = match (versions, k + 1 == group.len()) {
                (false, _) => Sibling::Alone,
                (true, false) => Sibling::Mid,
                (true, true) => Sibling::Last,
            };
            items.push(Item::Row { row, sibling });
        }
        start = end;
    }
    let members = || ids.iter().map(|&r| &rows[r as usize]);
    CellView {
        runs: ids.len(),
        bytes: members().map(|r| r.size).sum(),
        pinned: members().filter(|r| r.pinned).count(),
        newest: members().map(|r| r.created_at).max().unwrap_or_default(),
        items,
        name,
    }
}

/// Marked entries of one notebook and the bytes removing them would free: a content counts
/// once its last reference is marked.
#[derive(Debug, Clone, Default)]
pub struct NotebookMarks {
    pub ids: HashSet<EntryId>,
    /// Unmarked references per content.
    unmarked: Vec<u32>,
    pub freed: u64,
}

impl NotebookMarks {
    fn new(view: &NotebookView) -> NotebookMarks {
        NotebookMarks {
            ids: HashSet::new(),
            unmarked: view.refcounts.clone(),
            freed: 0,
        }
    }

    fn mark(&mut self, view: &NotebookView, row: &Row) -> bool {
        if !self.ids.insert(row.id) {
            return false;
        }
        for &c in &row.contents {
            let n = &mut self.unmarked[c as usize];
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.freed += view.content_sizes()[c as usize];
            }
        }
        true
    }

    fn unmark(&mut self, view: &NotebookView, row: &Row) -> bool {
        if !self.ids.remove(&row.id) {
            return false;
        }
        for &c in &row.contents {
            let n = &mut self.unmarked[c as usize];
            if *n == 0 {
                self.freed -= view.content_sizes()[c as usize];
            }
            *n += 1;
        }
        true
    }
}

/// Delete marks across notebooks, keyed by entry id so they survive reloads and filters.
#[derive(Debug, Clone, Default)]
pub struct Marks {
    pub by_notebook: BTreeMap<String, NotebookMarks>,
    /// Bumped on every change, so derived lists know when to rebuild.
    pub version: u64,
}

impl Marks {
    pub fn count(&self) -> usize {
        self.by_notebook.values().map(|m| m.ids.len()).sum()
    }

    pub fn freed(&self) -> u64 {
        self.by_notebook.values().map(|m| m.freed).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    pub fn contains(&self, notebook: &str, id: EntryId) -> bool {
        self.by_notebook
            .get(notebook)
            .is_some_and(|m| m.ids.contains(&id))
    }

    /// Marks or unmarks rows; returns how many changed.
    pub fn set(&mut self, view: &NotebookView, rows: &[usize], on: bool) -> usize {
        let marks = self
            .by_notebook
            .entry(view.name().to_string())
            .or_insert_with(|| NotebookMarks::new(view));
        self.version += 1;
        let changed = rows
            .iter()
            .filter(|&&r| {
                let row = &view.rows()[r];
                if on {
                    marks.mark(view, row)
                } else {
                    marks.unmark(view, row)
                }
            })
            .count();
        if marks.ids.is_empty() {
            self.by_notebook.remove(view.name());
        }
        changed
    }

    pub fn clear(&mut self) {
        self.version += 1;
        self.by_notebook.clear();
    }

    /// After a reload: keep the marks whose entries still exist, recount the bytes. Returns
    /// how many marks were dropped because their entries vanished.
    pub fn rebase(&mut self, view: &NotebookView) -> usize {
        let Some(old) = self.by_notebook.remove(view.name()) else {
            return 0;
        };
        self.version += 1;
        let rows: Vec<usize> = old
            .ids
            .iter()
            .filter_map(|&id| {
                let (c, i) = view.position(id)?;
                view.cells[c].items[i].row()
            })
            .collect();
        self.set(view, &rows, true);
        old.ids.len() - rows.len()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use celltime_store::model::{ContentHash, PartMask};

    pub fn row(cell: &str, module: &str, version: &str, t: i64, contents: &[u32]) -> Row {
        Row {
            id: EntryId::of("nb", cell, module, version, Timestamp(t)),
            cell: cell.into(),
            module: module.into(),
            version: version.into(),
            created_at: Timestamp(t),
            approximate_time: false,
            last_used: None,
            pinned: false,
            size: 10 * contents.len() as u64,
            parts: PartMask(1),
            contents: contents.to_vec(),
            copies: celltime_store::model::Copies::STORE,
            // Each module hash stands for its own code here.
            code: Some(ContentHash::of(module.as_bytes())),
        }
    }

    pub fn view(rows: Vec<Row>, contents: usize) -> NotebookView {
        NotebookView::new(Timeline {
            notebook: "nb".into(),
            rows,
            content_sizes: vec![10; contents],
        })
    }

    #[test]
    fn cells_are_newest_first_with_separators_and_siblings() {
        let v = view(
            vec![
                row("a", "m1", "0", 1, &[0]),
                row("a", "m1", "0", 2, &[1]),
                row("a", "m2", "0", 3, &[2]),
                row("a", "m2", "1", 4, &[3]),
                row("b", "m9", "0", 5, &[4]),
            ],
            5,
        );
        assert_eq!(v.cells.len(), 2);
        let a = &v.cells[0];
        let shape: Vec<String> = a
            .items
            .iter()
            .map(|i| match i {
                Item::Separator => "--".into(),
                Item::Row { row, sibling } => {
                    format!("{}{:?}", v.rows()[*row as usize].created_at.0, sibling)
                }
            })
            .collect();
        assert_eq!(shape, ["4Mid", "3Last", "--", "2Alone", "1Alone"]);
        assert_eq!(v.run_times.len(), 5);
        let newest_a = v.rows()[3].id;
        assert_eq!(v.previous_code(newest_a).unwrap().created_at, Timestamp(2));
        assert_eq!(v.versions_of(newest_a).len(), 2);
        let as_of: Vec<i64> = v
            .as_of(Timestamp(3))
            .iter()
            .map(|r| r.created_at.0)
            .collect();
        assert_eq!(as_of, [3]);
    }

    #[test]
    fn shared_contents_count_once_their_last_reference_is_marked() {
        let v = view(
            vec![
                row("a", "m", "0", 1, &[0, 1]),
                row("a", "m", "0", 2, &[0, 2]),
            ],
            3,
        );
        let mut marks = Marks::default();
        assert_eq!(marks.set(&v, &[0], true), 1);
        assert_eq!(
            marks.freed(),
            10,
            "content 0 is still used by the other row"
        );
        marks.set(&v, &[1], true);
        assert_eq!(marks.freed(), 30);
        marks.set(&v, &[0], false);
        assert_eq!(marks.freed(), 10);
        assert_eq!(marks.count(), 1);
        marks.set(&v, &[1], false);
        assert!(marks.is_empty());
        assert!(marks.by_notebook.is_empty());
    }

    #[test]
    fn rebase_drops_marks_of_vanished_entries() {
        let rows = vec![row("a", "m", "0", 1, &[0]), row("a", "m", "0", 2, &[1])];
        let v = view(rows.clone(), 2);
        let mut marks = Marks::default();
        marks.set(&v, &[0, 1], true);
        let smaller = view(vec![rows[1].clone()], 2);
        marks.rebase(&smaller);
        assert_eq!(marks.count(), 1);
        assert!(marks.contains("nb", rows[1].id));
        assert_eq!(marks.freed(), 10);
    }
}
