//! The in-memory state of one notebook: every live entry, compactly.
//!
//! Strings (cells, module hashes, versions, labels) are interned and contents are kept in
//! one table, so a million entries stay small; rows keep the order of execution keys.
//! Lookup tables are built on first use, so loading a snapshot does no hashing.

use super::entry::{Entry, PartKind, PartMask, PartRef};
use super::keys::{
    CellKey, ContentHash, EntryId, ExecKey, MarimoKey, ModuleHash, NotebookKey, Version,
};
use super::time::Timestamp;
use crate::parallel;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

mod codec;

/// Lookup tables of the index are filled by the hundred thousand while a map or log is read:
/// foldhash is several times faster than the standard SipHash there, and still seeded per
/// process, so crafted keys cannot aim at one bucket.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Below this many listed contents a bulk load's contents are shared on one thread.
const PARALLEL_CONTENTS: usize = 1 << 16;

/// The positions of `contents` grouped by the first byte of their hash (a counting sort, so
/// each group keeps listing order), and where each of the 256 groups starts and ends.
fn by_first_byte(contents: &[(ContentHash, u64)]) -> (Vec<u32>, [usize; 257]) {
    let mut starts = [0usize; 257];
    for (hash, _) in contents {
        starts[hash.0[0] as usize + 1] += 1;
    }
    for b in 0..256 {
        starts[b + 1] += starts[b];
    }
    let mut next = starts;
    let mut order = vec![0u32; contents.len()];
    for (i, (hash, _)) in contents.iter().enumerate() {
        let slot = &mut next[hash.0[0] as usize];
        order[*slot] = i as u32;
        *slot += 1;
    }
    (order, starts)
}

#[derive(Debug, Clone, Default)]
struct Interner {
    strings: Vec<Box<str>>,
    lookup: Option<FastMap<Box<str>, u32>>,
    /// For each role a string plays (a cell, a module, an outputs label, …), the last one
    /// interned in it: consecutive runs repeat their cell, module, labels and formats, and
    /// one comparison is cheaper than a lookup.
    last: [u32; ROLES],
}

/// Roles: cell, module, version, parent keys, then a label and a format for each part kind.
const ROLES: usize = 4 + 2 * PartKind::ALL.len();
const CELL: usize = 0;
const MODULE: usize = 1;
const VERSION: usize = 2;
const PARENT: usize = 3;

fn label_role(kind: PartKind) -> usize {
    4 + 2 * kind as usize
}

fn format_role(kind: PartKind) -> usize {
    label_role(kind) + 1
}

impl Interner {
    /// The id of `text`, which plays `role` (see [`ROLES`]).
    fn intern_as(&mut self, role: usize, text: &str) -> u32 {
        let last = self.last[role];
        if self
            .strings
            .get(last as usize)
            .is_some_and(|s| **s == *text)
        {
            return last;
        }
        let id = self.intern(text);
        self.last[role] = id;
        id
    }

    fn intern(&mut self, text: &str) -> u32 {
        if let Some(id) = self.find(text) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(text.into());
        if let Some(lookup) = &mut self.lookup {
            lookup.insert(text.into(), id);
        }
        id
    }

    fn get(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    /// The id of a string already interned, without interning it.
    fn find(&mut self, text: &str) -> Option<u32> {
        self.intern_lookup().get(text).copied()
    }

    fn intern_lookup(&mut self) -> &FastMap<Box<str>, u32> {
        let strings = &self.strings;
        self.lookup.get_or_insert_with(|| {
            strings
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), i as u32))
                .collect()
        })
    }
}

/// A row's retention and serving marks; merging keeps the pin and the latest times.
#[derive(Debug, Clone, Copy)]
struct Marks {
    pinned: bool,
    last_used: i64,
    served: i64,
}

impl Marks {
    fn of(entry: &Entry) -> Marks {
        Marks {
            pinned: entry.pinned,
            last_used: entry.last_used.map_or(NEVER, |t| t.0),
            served: entry.served.map_or(NEVER, |t| t.0),
        }
    }

    fn of_row(row: &Row) -> Marks {
        Marks {
            pinned: row.pinned,
            last_used: row.last_used,
            served: row.served,
        }
    }
}

impl Row {
    fn merge(&mut self, marks: Marks) {
        self.pinned |= marks.pinned;
        self.last_used = self.last_used.max(marks.last_used);
        self.served = self.served.max(marks.served);
    }
}

#[derive(Debug, Clone, Copy)]
struct Row {
    id: EntryId,
    cell: u32,
    module: u32,
    version: u32,
    created_at: i64,
    /// Milliseconds, or `i64::MIN` when never used.
    last_used: i64,
    /// Milliseconds of the last `serve` choice, or `i64::MIN`.
    served: i64,
    /// Interned marimo cache key, or [`NO_STRING`].
    marimo_key: u32,
    size: u64,
    parts_start: u32,
    parts_len: u16,
    parents_len: u16,
    parents_start: u32,
    pinned: bool,
    alive: bool,
}

#[derive(Debug, Clone, Copy)]
struct PartRow {
    kind: PartKind,
    label: u32,
    format: u32,
    content: u32,
}

#[derive(Debug, Clone, Copy)]
struct ParentRow {
    notebook: u32,
    cell: u32,
    module: u32,
    version: u32,
    created_at: i64,
}

const NEVER: i64 = i64::MIN;
const NO_STRING: u32 = u32::MAX;

fn time_of(millis: i64) -> Option<Timestamp> {
    (millis != NEVER).then_some(Timestamp(millis))
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    New,
    /// The same key with the same parts was already there.
    Unchanged,
    /// The same key existed with different parts; they were replaced.
    Replaced,
}

/// A borrowed view of one entry, enough for listing without touching contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryView<'a> {
    pub id: EntryId,
    pub cell: &'a str,
    pub module: &'a str,
    pub version: &'a str,
    pub created_at: Timestamp,
    pub last_used: Option<Timestamp>,
    pub pinned: bool,
    pub size: u64,
    pub parts: PartMask,
    pub served: Option<Timestamp>,
    pub marimo_key: Option<&'a str>,
    pub(crate) row: u32,
}

impl EntryView<'_> {
    /// When this run last became the one served: its creation, or a later explicit choice.
    pub fn standing(&self) -> Timestamp {
        self.served
            .map_or(self.created_at, |s| s.max(self.created_at))
    }
}

/// Totals of a notebook: what `ls --notebooks` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IndexSummary {
    pub cells: u64,
    pub entries: u64,
    pub bytes: u64,
    pub pinned: u64,
}

/// A part of an entry, borrowed from the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartView<'a> {
    pub kind: PartKind,
    pub label: &'a str,
    pub format: &'a str,
    pub content: ContentHash,
    pub size: u64,
}

impl PartView<'_> {
    /// The order parts are kept in: that of [`PartRef`].
    fn order_key(&self) -> (PartKind, &str, &str, ContentHash, u64) {
        (self.kind, self.label, self.format, self.content, self.size)
    }
}

impl PartRef {
    pub fn view(&self) -> PartView<'_> {
        PartView {
            kind: self.kind,
            label: &self.label,
            format: &self.format,
            content: self.content,
            size: self.size,
        }
    }
}

/// The cell, module and version of a key as the strings of one index
/// ([`NotebookIndex::intern_key`]): a map's runs of one module share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InternedKey {
    cell: u32,
    module: u32,
    version: u32,
}

/// An entry described by borrowed text, for [`NotebookIndex::push`]. Its strings are
/// validated keys and labels, `key` comes from the index it is pushed to, and `id` is the id
/// of its key.
#[derive(Debug, Clone)]
pub struct BorrowedEntry<'a, 'p> {
    pub id: EntryId,
    pub key: InternedKey,
    pub created_at: Timestamp,
    pub pinned: bool,
    pub last_used: Option<Timestamp>,
    pub served: Option<Timestamp>,
    pub marimo_key: Option<&'a str>,
    pub parts: Vec<PartView<'a>>,
    pub parents: &'p [ParentView<'a>],
}

/// A parent key of an entry, borrowed from the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParentView<'a> {
    pub notebook: &'a str,
    pub cell: &'a str,
    pub module: &'a str,
    pub version: &'a str,
    pub created_at: Timestamp,
}

/// Per-cell totals for listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellSummary {
    pub cell: String,
    pub entries: usize,
    pub bytes: u64,
    pub newest: Timestamp,
    pub pinned: usize,
}

/// The entries of one notebook. Snapshots store it with [`NotebookIndex::encode`].
#[derive(Debug, Clone)]
pub struct NotebookIndex {
    notebook: NotebookKey,
    strings: Interner,
    contents: Vec<(ContentHash, u64)>,
    rows: Vec<Row>,
    parts: Vec<PartRow>,
    parents: Vec<ParentRow>,
    /// Rows are in execution-key order (true after a load or a sort).
    sorted: bool,
    /// Built on the first lookup by id, also through `&self`: a listing that never looks an
    /// id up never pays for it, and a thousand lookups never scan the rows a thousand times.
    by_id: OnceLock<FastMap<EntryId, u32>>,
    content_ix: Option<FastMap<ContentHash, u32>>,
    /// While a map is read in bulk, contents are listed once per part and shared only at the
    /// end ([`NotebookIndex::finish_bulk`]): one pass over them then, instead of a lookup in
    /// a large table for every part.
    bulk: bool,
    /// (cell, module) → rows, built on the first lookup of alternatives.
    by_module: Option<FastMap<(u32, u32), Vec<u32>>>,
}

impl NotebookIndex {
    /// An empty index to fill in bulk with [`NotebookIndex::push`] and
    /// [`NotebookIndex::append`], then [`NotebookIndex::finish_bulk`]; nothing else may be
    /// asked of it in between.
    pub fn new_bulk(notebook: NotebookKey) -> NotebookIndex {
        NotebookIndex {
            bulk: true,
            ..NotebookIndex::new(notebook)
        }
    }

    /// Shares the contents a bulk load listed once per part: they are dealt into buckets by
    /// their first byte (hashes are uniform), each bucket deduplicated on its own with a
    /// table small enough to stay in cache, the buckets of a large load on all cores.
    pub fn finish_bulk(&mut self) {
        if !self.bulk {
            return;
        }
        self.bulk = false;
        self.content_ix = None;
        let (order, starts) = by_first_byte(&self.contents);
        let buckets: Vec<&[u32]> = starts.windows(2).map(|w| &order[w[0]..w[1]]).collect();
        let contents = &self.contents;
        let dedup_share = |share: &[&[u32]]| -> Vec<(Vec<u32>, Vec<u32>)> {
            let mut first: FastMap<ContentHash, u32> = FastMap::default();
            share
                .iter()
                .map(|bucket| {
                    first.clear();
                    let mut distinct = Vec::new();
                    let places = bucket
                        .iter()
                        .map(|&i| {
                            *first.entry(contents[i as usize].0).or_insert_with(|| {
                                distinct.push(i);
                                distinct.len() as u32 - 1
                            })
                        })
                        .collect();
                    (distinct, places)
                })
                .collect()
        };
        // Per bucket: its distinct contents, and for each listed one its place among them.
        let shared: Vec<(Vec<u32>, Vec<u32>)> = if contents.len() < PARALLEL_CONTENTS {
            dedup_share(&buckets)
        } else {
            parallel::map_shares(&buckets, dedup_share)
                .into_iter()
                .flatten()
                .collect()
        };
        let mut renumbered = vec![0u32; self.contents.len()];
        let mut deduplicated = Vec::with_capacity(self.contents.len());
        for (bucket, (distinct, places)) in buckets.iter().zip(&shared) {
            let offset = deduplicated.len() as u32;
            deduplicated.extend(distinct.iter().map(|&i| self.contents[i as usize]));
            for (&listed, &place) in bucket.iter().zip(places) {
                renumbered[listed as usize] = offset + place;
            }
        }
        for part in &mut self.parts {
            part.content = renumbered[part.content as usize];
        }
        self.contents = deduplicated;
    }

    pub fn new(notebook: NotebookKey) -> NotebookIndex {
        NotebookIndex {
            notebook,
            strings: Interner::default(),
            contents: Vec::new(),
            rows: Vec::new(),
            parts: Vec::new(),
            parents: Vec::new(),
            sorted: true,
            by_id: OnceLock::new(),
            content_ix: None,
            bulk: false,
            by_module: None,
        }
    }

    pub fn notebook(&self) -> &NotebookKey {
        &self.notebook
    }

    pub fn len(&self) -> usize {
        self.rows.iter().filter(|r| r.alive).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn id_index(&self) -> &FastMap<EntryId, u32> {
        self.by_id.get_or_init(|| {
            self.rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.alive)
                .map(|(i, r)| (r.id, i as u32))
                .collect()
        })
    }

    fn by_id(&mut self) -> &mut FastMap<EntryId, u32> {
        self.id_index();
        self.by_id.get_mut().expect("built just above")
    }

    fn row_of(&self, id: EntryId) -> Option<u32> {
        self.id_index().get(&id).copied()
    }

    pub fn contains(&self, id: EntryId) -> bool {
        self.row_of(id).is_some()
    }

    fn content_index(&mut self, hash: ContentHash, size: u64) -> u32 {
        if self.bulk {
            self.contents.push((hash, size));
            return self.contents.len() as u32 - 1;
        }
        let contents = &self.contents;
        let index = self.content_ix.get_or_insert_with(|| {
            contents
                .iter()
                .enumerate()
                .map(|(i, (h, _))| (*h, i as u32))
                .collect()
        });
        match index.entry(hash) {
            std::collections::hash_map::Entry::Occupied(found) => *found.get(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let i = self.contents.len() as u32;
                self.contents.push((hash, size));
                slot.insert(i);
                i
            }
        }
    }

    /// Adds or replaces an entry. Pins and use times of a replaced entry are kept.
    pub fn insert(&mut self, entry: &Entry) -> InsertOutcome {
        self.insert_with_id(entry, entry.key.id())
    }

    /// [`NotebookIndex::insert`] when the caller already knows the id (`entry.key.id()`).
    pub fn insert_with_id(&mut self, entry: &Entry, id: EntryId) -> InsertOutcome {
        debug_assert_eq!(entry.key.notebook, self.notebook);
        debug_assert_eq!(entry.key.id(), id);
        let existing = self.by_id().get(&id).copied();
        if let Some(row) = existing {
            let current = self.entry_at(row);
            let marks = Marks::of(entry);
            let parts: Vec<PartRef> = sorted_parts(&entry.parts).into_iter().cloned().collect();
            if current.parts == parts
                && current.parents == entry.parents
                && current.marimo_key == entry.marimo_key
            {
                self.rows[row as usize].merge(marks);
                return InsertOutcome::Unchanged;
            }
            let mut old = self.rows[row as usize];
            self.rows[row as usize].alive = false;
            old.merge(marks);
            self.push_row(entry, id, Marks::of_row(&old));
            return InsertOutcome::Replaced;
        }
        self.push_row(entry, id, Marks::of(entry));
        InsertOutcome::New
    }

    fn push_row(&mut self, entry: &Entry, id: EntryId, marks: Marks) {
        let key = &entry.key;
        let parents: Vec<ParentView<'_>> = entry
            .parents
            .iter()
            .map(|p| ParentView {
                notebook: p.notebook.as_str(),
                cell: p.cell.as_str(),
                module: p.module.as_str(),
                version: p.version.as_str(),
                created_at: p.created_at,
            })
            .collect();
        let interned =
            self.intern_key(key.cell.as_str(), key.module.as_str(), key.version.as_str());
        self.push(&BorrowedEntry {
            id,
            key: interned,
            created_at: key.created_at,
            pinned: marks.pinned,
            last_used: time_of(marks.last_used),
            served: time_of(marks.served),
            marimo_key: entry.marimo_key.as_ref().map(MarimoKey::as_str),
            parts: entry.parts.iter().map(PartRef::view).collect(),
            parents: &parents,
        });
    }

    /// The strings of a key, interned once for every run that shares them.
    pub fn intern_key(&mut self, cell: &str, module: &str, version: &str) -> InternedKey {
        InternedKey {
            cell: self.strings.intern_as(CELL, cell),
            module: self.strings.intern_as(MODULE, module),
            version: self.strings.intern_as(VERSION, version),
        }
    }

    /// Room for about `entries` more entries before a bulk load (a map's `entries` count).
    pub fn reserve_entries(&mut self, entries: usize) {
        self.rows.reserve(entries);
        self.parts.reserve(entries * 4);
        self.reserve_contents(entries * 3);
    }

    /// Appends an entry the index does not hold (the caller knows: a map read in key order
    /// cannot repeat one), from borrowed text: reading a large map builds no owned entries.
    pub fn push(&mut self, entry: &BorrowedEntry<'_, '_>) {
        let parts_start = self.parts.len() as u32;
        let mut parts = entry.parts.clone();
        parts.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        for part in &parts {
            let label = self.strings.intern_as(label_role(part.kind), part.label);
            let format = self.strings.intern_as(format_role(part.kind), part.format);
            let content = self.content_index(part.content, part.size);
            self.parts.push(PartRow {
                kind: part.kind,
                label,
                format,
                content,
            });
        }
        let parents_start = self.parents.len() as u32;
        for parent in entry.parents {
            let row = ParentRow {
                notebook: self.strings.intern_as(PARENT, parent.notebook),
                cell: self.strings.intern(parent.cell),
                module: self.strings.intern(parent.module),
                version: self.strings.intern_as(VERSION, parent.version),
                created_at: parent.created_at.0,
            };
            self.parents.push(row);
        }
        let marimo_key = entry
            .marimo_key
            .map_or(NO_STRING, |k| self.strings.intern(k));
        let row = Row {
            id: entry.id,
            cell: entry.key.cell,
            module: entry.key.module,
            version: entry.key.version,
            created_at: entry.created_at.0,
            last_used: entry.last_used.map_or(NEVER, |t| t.0),
            served: entry.served.map_or(NEVER, |t| t.0),
            marimo_key,
            size: parts.iter().map(|p| p.size).sum(),
            parts_start,
            parts_len: (self.parts.len() as u32 - parts_start) as u16,
            parents_start,
            parents_len: entry.parents.len() as u16,
            pinned: entry.pinned,
            alive: true,
        };
        if let Some(last) = self.rows.iter().rev().find(|r| r.alive)
            && self.row_order(last, &row).is_gt()
        {
            self.sorted = false;
        }
        let index = self.rows.len() as u32;
        self.rows.push(row);
        if let Some(by_id) = self.by_id.get_mut() {
            by_id.insert(row.id, index);
        }
        if let Some(by_module) = &mut self.by_module {
            by_module
                .entry((row.cell, row.module))
                .or_default()
                .push(index);
        }
    }

    /// Makes room for about `contents` more distinct contents before a bulk load.
    pub fn reserve_contents(&mut self, contents: usize) {
        self.contents.reserve(contents);
        if self.bulk {
            return;
        }
        let known = &self.contents;
        self.content_ix
            .get_or_insert_with(|| {
                known
                    .iter()
                    .enumerate()
                    .map(|(i, (h, _))| (*h, i as u32))
                    .collect()
            })
            .reserve(contents);
    }

    /// Frees the lookup tables a bulk load filled (they are rebuilt if needed) and spare
    /// capacity: what a reader keeps is only the rows.
    pub fn trim(&mut self) {
        self.content_ix = None;
        self.strings.lookup = None;
        self.rows.shrink_to_fit();
        self.parts.shrink_to_fit();
        self.parents.shrink_to_fit();
        self.contents.shrink_to_fit();
    }

    /// Appends every entry of `other`, an index of the same notebook holding none of this
    /// one's ids: how the pieces of a map read on several threads become one index.
    pub fn append(&mut self, other: NotebookIndex) {
        debug_assert_eq!(self.notebook, other.notebook);
        let strings: Vec<u32> = other
            .strings
            .strings
            .iter()
            .map(|s| self.strings.intern(s))
            .collect();
        debug_assert_eq!(self.bulk, other.bulk);
        if let Some(lookup) = &mut self.content_ix {
            lookup.reserve(other.contents.len());
        }
        self.contents.reserve(other.contents.len());
        let contents: Vec<u32> = other
            .contents
            .iter()
            .map(|(hash, size)| self.content_index(*hash, *size))
            .collect();
        let (parts_offset, parents_offset) = (self.parts.len() as u32, self.parents.len() as u32);
        self.parts.extend(other.parts.iter().map(|p| PartRow {
            kind: p.kind,
            label: strings[p.label as usize],
            format: strings[p.format as usize],
            content: contents[p.content as usize],
        }));
        self.parents.extend(other.parents.iter().map(|p| ParentRow {
            notebook: strings[p.notebook as usize],
            cell: strings[p.cell as usize],
            module: strings[p.module as usize],
            version: strings[p.version as usize],
            created_at: p.created_at,
        }));
        let first_new = self.rows.len();
        let ordered = match (
            self.rows.iter().rev().find(|r| r.alive),
            other.rows.iter().find(|r| r.alive),
        ) {
            (Some(last), Some(first)) => self.row_order_key(last) <= other.row_order_key(first),
            _ => true,
        };
        self.sorted &= other.sorted && ordered;
        self.rows.extend(other.rows.iter().map(|r| {
            Row {
                cell: strings[r.cell as usize],
                module: strings[r.module as usize],
                version: strings[r.version as usize],
                marimo_key: strings
                    .get(r.marimo_key as usize)
                    .copied()
                    .unwrap_or(NO_STRING),
                parts_start: r.parts_start + parts_offset,
                parents_start: r.parents_start + parents_offset,
                ..*r
            }
        }));
        self.by_module = None;
        if let Some(by_id) = self.by_id.get_mut() {
            for (i, row) in self.rows.iter().enumerate().skip(first_new) {
                if row.alive {
                    by_id.insert(row.id, i as u32);
                }
            }
        }
    }

    fn row_order_key(&self, row: &Row) -> (&str, &str, &str, i64) {
        (
            self.strings.get(row.cell),
            self.strings.get(row.module),
            self.strings.get(row.version),
            row.created_at,
        )
    }

    /// The key order of two rows of this index: equal string ids are equal strings, so
    /// consecutive runs of one module compare without reading their strings.
    fn row_order(&self, a: &Row, b: &Row) -> std::cmp::Ordering {
        let text = |x: u32, y: u32| match x == y {
            true => std::cmp::Ordering::Equal,
            false => self.strings.get(x).cmp(self.strings.get(y)),
        };
        text(a.cell, b.cell)
            .then_with(|| text(a.module, b.module))
            .then_with(|| text(a.version, b.version))
            .then(a.created_at.cmp(&b.created_at))
    }

    pub fn remove(&mut self, id: EntryId) -> bool {
        match self.by_id().remove(&id) {
            Some(row) => {
                self.rows[row as usize].alive = false;
                true
            }
            None => false,
        }
    }

    pub fn set_pinned(&mut self, id: EntryId, pinned: bool) -> bool {
        match self.by_id().get(&id).copied() {
            Some(row) => {
                self.rows[row as usize].pinned = pinned;
                true
            }
            None => false,
        }
    }

    pub fn touch(&mut self, id: EntryId, at: Timestamp) -> bool {
        match self.by_id().get(&id).copied() {
            Some(row) => {
                let r = &mut self.rows[row as usize];
                r.last_used = r.last_used.max(at.0);
                true
            }
            None => false,
        }
    }

    /// Records a `serve` choice made at `at` (the latest choice wins).
    pub fn set_served(&mut self, id: EntryId, at: Timestamp) -> bool {
        match self.by_id().get(&id).copied() {
            Some(row) => {
                let r = &mut self.rows[row as usize];
                r.served = r.served.max(at.0);
                true
            }
            None => false,
        }
    }

    /// Every live run of one module of one cell (the alternatives `serve` chooses among), in
    /// no particular order.
    pub fn alternatives(&mut self, cell: &str, module: &str) -> Vec<EntryId> {
        if self.by_module.is_none() {
            let mut map: FastMap<(u32, u32), Vec<u32>> = FastMap::default();
            for (i, row) in self.rows.iter().enumerate() {
                map.entry((row.cell, row.module))
                    .or_default()
                    .push(i as u32);
            }
            self.by_module = Some(map);
        }
        let (Some(cell), Some(module)) = (self.strings.find(cell), self.strings.find(module))
        else {
            return Vec::new();
        };
        let rows = self
            .by_module
            .as_ref()
            .and_then(|m| m.get(&(cell, module)))
            .cloned()
            .unwrap_or_default();
        rows.into_iter()
            .map(|i| self.rows[i as usize])
            .filter(|r| r.alive)
            .map(|r| r.id)
            .collect()
    }

    /// Drops dead rows and unreferenced contents, and restores key order.
    pub fn compact(&mut self) {
        if self.sorted
            && self.rows.iter().all(|r| r.alive)
            && self.live_contents().iter().all(|l| *l)
        {
            return;
        }
        let mut live: Vec<Row> = self.rows.iter().filter(|r| r.alive).copied().collect();
        if !self.sorted {
            live.sort_by(|a, b| self.row_order(a, b));
        }
        // Rows keep their interned strings; parts, parents and contents are copied in row
        // order with contents renumbered, so nothing is re-hashed or re-allocated per entry.
        let mut contents = Vec::new();
        let mut renumbered = vec![u32::MAX; self.contents.len()];
        let mut parts = Vec::with_capacity(self.parts.len());
        let mut parents = Vec::with_capacity(self.parents.len());
        for row in &mut live {
            let start = parts.len() as u32;
            for part in self.parts_of(row) {
                let slot = &mut renumbered[part.content as usize];
                if *slot == u32::MAX {
                    *slot = contents.len() as u32;
                    contents.push(self.contents[part.content as usize]);
                }
                parts.push(PartRow {
                    content: *slot,
                    ..*part
                });
            }
            row.parts_start = start;
            let parents_start = parents.len() as u32;
            parents.extend_from_slice(
                &self.parents[row.parents_start as usize
                    ..row.parents_start as usize + row.parents_len as usize],
            );
            row.parents_start = parents_start;
        }
        self.rows = live;
        self.parts = parts;
        self.parents = parents;
        self.contents = contents;
        self.sorted = true;
        self.by_id = OnceLock::new();
        self.content_ix = None;
        self.by_module = None;
    }

    /// The interned ids of an entry's cell, module and version (below
    /// [`NotebookIndex::string_count`]): equal ids, equal strings.
    pub fn key_string_ids(&self, view: &EntryView<'_>) -> [u32; 3] {
        let row = &self.rows[view.row as usize];
        [row.cell, row.module, row.version]
    }

    /// How many distinct strings the index holds.
    pub fn string_count(&self) -> usize {
        self.strings.strings.len()
    }

    /// An entry's parts, borrowed: for writing them out without building an [`Entry`].
    pub fn part_views(&self, view: &EntryView<'_>) -> impl Iterator<Item = PartView<'_>> {
        self.parts_of(&self.rows[view.row as usize])
            .iter()
            .map(|p| {
                let (content, size) = self.contents[p.content as usize];
                PartView {
                    kind: p.kind,
                    label: self.strings.get(p.label),
                    format: self.strings.get(p.format),
                    content,
                    size,
                }
            })
    }

    /// An entry's parents, borrowed.
    pub fn parent_views(&self, view: &EntryView<'_>) -> impl Iterator<Item = ParentView<'_>> {
        let row = &self.rows[view.row as usize];
        self.parents
            [row.parents_start as usize..row.parents_start as usize + row.parents_len as usize]
            .iter()
            .map(|p| ParentView {
                notebook: self.strings.get(p.notebook),
                cell: self.strings.get(p.cell),
                module: self.strings.get(p.module),
                version: self.strings.get(p.version),
                created_at: Timestamp(p.created_at),
            })
    }

    fn materialise(&self, row: &Row) -> Entry {
        let parts = self.parts
            [row.parts_start as usize..row.parts_start as usize + row.parts_len as usize]
            .iter()
            .map(|p| {
                let (content, size) = self.contents[p.content as usize];
                PartRef {
                    kind: p.kind,
                    label: self.strings.get(p.label).to_string(),
                    format: self.strings.get(p.format).to_string(),
                    content,
                    size,
                }
            })
            .collect();
        let parents = self.parents
            [row.parents_start as usize..row.parents_start as usize + row.parents_len as usize]
            .iter()
            .filter_map(|p| {
                Some(ExecKey {
                    notebook: NotebookKey::new(self.strings.get(p.notebook)).ok()?,
                    cell: CellKey::new(self.strings.get(p.cell)).ok()?,
                    module: ModuleHash::new(self.strings.get(p.module)).ok()?,
                    version: Version::new(self.strings.get(p.version)).ok()?,
                    created_at: Timestamp(p.created_at),
                })
            })
            .collect();
        Entry {
            key: self.key_of(row),
            parts,
            parents,
            pinned: row.pinned,
            last_used: time_of(row.last_used),
            marimo_key: self.marimo_key_of(row).and_then(|k| MarimoKey::new(k).ok()),
            served: time_of(row.served),
        }
    }

    fn marimo_key_of(&self, row: &Row) -> Option<&str> {
        (row.marimo_key != NO_STRING).then(|| self.strings.get(row.marimo_key))
    }

    fn key_of(&self, row: &Row) -> ExecKey {
        // Strings were validated when they entered the index, so re-validation cannot fail.
        ExecKey {
            notebook: self.notebook.clone(),
            cell: CellKey::new(self.strings.get(row.cell)).expect("validated cell key"),
            module: ModuleHash::new(self.strings.get(row.module)).expect("validated module hash"),
            version: Version::new(self.strings.get(row.version)).expect("validated version"),
            created_at: Timestamp(row.created_at),
        }
    }

    fn entry_at(&self, row: u32) -> Entry {
        self.materialise(&self.rows[row as usize])
    }

    pub fn get(&self, id: EntryId) -> Option<Entry> {
        self.row_of(id).map(|row| self.entry_at(row))
    }

    fn view_of(&self, index: u32) -> EntryView<'_> {
        let row = &self.rows[index as usize];
        let mask = self.parts
            [row.parts_start as usize..row.parts_start as usize + row.parts_len as usize]
            .iter()
            .fold(PartMask::default(), |m, p| m.with(p.kind));
        EntryView {
            id: row.id,
            cell: self.strings.get(row.cell),
            module: self.strings.get(row.module),
            version: self.strings.get(row.version),
            created_at: Timestamp(row.created_at),
            last_used: time_of(row.last_used),
            pinned: row.pinned,
            size: row.size,
            parts: mask,
            served: time_of(row.served),
            marimo_key: self.marimo_key_of(row),
            row: index,
        }
    }

    pub fn view(&self, id: EntryId) -> Option<EntryView<'_>> {
        self.row_of(id).map(|row| self.view_of(row))
    }

    /// Live entries in execution-key order.
    pub fn views(&self) -> Vec<EntryView<'_>> {
        self.views_in_order().collect()
    }

    /// Live entries in execution-key order, one at a time (a listing of a large notebook
    /// never holds them all as views).
    pub fn views_in_order(&self) -> impl Iterator<Item = EntryView<'_>> {
        let mut order: Vec<u32> = (0..self.rows.len() as u32)
            .filter(|&i| self.rows[i as usize].alive)
            .collect();
        if !self.sorted {
            order.sort_by(|&a, &b| {
                let (a, b) = (&self.rows[a as usize], &self.rows[b as usize]);
                self.row_order(a, b)
            });
        }
        order.into_iter().map(|i| self.view_of(i))
    }

    /// Ids of live entries, in row order.
    pub fn ids(&self) -> impl Iterator<Item = EntryId> + '_ {
        self.rows.iter().filter(|r| r.alive).map(|r| r.id)
    }

    /// Live entries as full values, in execution-key order.
    pub fn entries(&self) -> Vec<Entry> {
        self.views().iter().map(|v| self.entry_at(v.row)).collect()
    }

    /// Contents of a live entry as (hash, size) pairs, without materialising labels.
    pub fn contents_of(&self, view: &EntryView<'_>) -> Vec<(ContentHash, u64)> {
        self.parts_of(&self.rows[view.row as usize])
            .iter()
            .map(|p| self.contents[p.content as usize])
            .collect()
    }

    /// Which contents live entries reference, by content index.
    fn live_contents(&self) -> Vec<bool> {
        let mut live = vec![false; self.contents.len()];
        for row in self.rows.iter().filter(|r| r.alive) {
            for p in self.parts_of(row) {
                live[p.content as usize] = true;
            }
        }
        live
    }

    fn parts_of(&self, row: &Row) -> &[PartRow] {
        &self.parts[row.parts_start as usize..row.parts_start as usize + row.parts_len as usize]
    }

    /// Every content referenced by a live entry, with its size.
    pub fn referenced_contents(&self) -> HashMap<ContentHash, u64> {
        self.live_contents()
            .iter()
            .zip(&self.contents)
            .filter(|(live, _)| **live)
            .map(|(_, content)| *content)
            .collect()
    }

    /// Indices of an entry's contents into [`NotebookIndex::content_sizes`]; entries that
    /// share a content share its index.
    pub fn content_ids(&self, view: &EntryView<'_>) -> Vec<u32> {
        self.parts_of(&self.rows[view.row as usize])
            .iter()
            .map(|p| p.content)
            .collect()
    }

    /// The content hash of an entry's code snapshot, if it has one.
    pub fn code_of(&self, view: &EntryView<'_>) -> Option<ContentHash> {
        self.parts_of(&self.rows[view.row as usize])
            .iter()
            .find(|p| p.kind == PartKind::Code)
            .map(|p| self.contents[p.content as usize].0)
    }

    /// Sizes of all contents by index (some may belong only to removed entries until compaction).
    pub fn content_sizes(&self) -> Vec<u64> {
        self.contents.iter().map(|(_, size)| *size).collect()
    }

    /// The newest entry of (cell, module, version) created at or before `at` (or the newest).
    pub fn latest(
        &self,
        cell: &str,
        module: &str,
        version: &str,
        at: Option<Timestamp>,
    ) -> Option<EntryId> {
        self.rows
            .iter()
            .filter(|r| {
                r.alive
                    && self.strings.get(r.cell) == cell
                    && self.strings.get(r.module) == module
                    && self.strings.get(r.version) == version
                    && at.is_none_or(|t| r.created_at <= t.0)
            })
            .max_by_key(|r| r.created_at)
            .map(|r| r.id)
    }

    pub fn cells(&self) -> Vec<CellSummary> {
        let mut by_cell: HashMap<u32, CellSummary> = HashMap::new();
        for row in self.rows.iter().filter(|r| r.alive) {
            let summary = by_cell.entry(row.cell).or_insert_with(|| CellSummary {
                cell: self.strings.get(row.cell).to_string(),
                entries: 0,
                bytes: 0,
                newest: Timestamp(row.created_at),
                pinned: 0,
            });
            summary.entries += 1;
            summary.bytes += row.size;
            summary.newest = summary.newest.max(Timestamp(row.created_at));
            summary.pinned += usize::from(row.pinned);
        }
        let mut cells: Vec<CellSummary> = by_cell.into_values().collect();
        cells.sort_by(|a, b| a.cell.cmp(&b.cell));
        cells
    }

    /// Ids of live entries whose hex form starts with `prefix`.
    pub fn ids_with_prefix(&self, prefix: &str) -> Vec<EntryId> {
        self.rows
            .iter()
            .filter(|r| r.alive && r.id.has_prefix(prefix))
            .map(|r| r.id)
            .collect()
    }

    /// Bytes that removing `ids` would free: contents whose every reference is among them.
    pub fn freed_bytes(&self, ids: &std::collections::HashSet<EntryId>) -> u64 {
        let mut kept = std::collections::HashSet::new();
        let mut removed: HashMap<u32, u64> = HashMap::new();
        for row in self.rows.iter().filter(|r| r.alive) {
            let parts = &self.parts
                [row.parts_start as usize..row.parts_start as usize + row.parts_len as usize];
            for p in parts {
                if ids.contains(&row.id) {
                    removed.insert(p.content, self.contents[p.content as usize].1);
                } else {
                    kept.insert(p.content);
                }
            }
        }
        removed
            .into_iter()
            .filter(|(c, _)| !kept.contains(c))
            .map(|(_, size)| size)
            .sum()
    }

    /// Total bytes of distinct contents referenced by live entries.
    pub fn stored_bytes(&self) -> u64 {
        self.live_contents()
            .iter()
            .zip(&self.contents)
            .filter(|(live, _)| **live)
            .map(|(_, (_, size))| size)
            .sum()
    }

    /// Totals for listings.
    pub fn summary(&self) -> IndexSummary {
        let cells = self.cells();
        IndexSummary {
            cells: cells.len() as u64,
            entries: cells.iter().map(|c| c.entries as u64).sum(),
            bytes: self.stored_bytes(),
            pinned: cells.iter().map(|c| c.pinned as u64).sum(),
        }
    }
}

fn sorted_parts(parts: &[PartRef]) -> Vec<&PartRef> {
    let mut sorted: Vec<&PartRef> = parts.iter().collect();
    sorted.sort();
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cell: &str, created: i64, text: &str) -> Entry {
        let content = ContentHash::of(text.as_bytes());
        Entry {
            key: ExecKey {
                notebook: NotebookKey::new("nb").unwrap(),
                cell: CellKey::new(cell).unwrap(),
                module: ModuleHash::new("m1").unwrap(),
                version: Version::default(),
                created_at: Timestamp(created),
            },
            parts: vec![PartRef {
                kind: PartKind::Code,
                label: String::new(),
                format: String::new(),
                content,
                size: text.len() as u64,
            }],
            parents: vec![],
            pinned: false,
            last_used: None,
            marimo_key: None,
            served: None,
        }
    }

    #[test]
    fn a_large_bulk_load_shares_contents_as_inserting_one_by_one_does() {
        // Past PARALLEL_CONTENTS, so the buckets are deduplicated on all cores; every text
        // is listed by two runs.
        let count = PARALLEL_CONTENTS + 1001;
        let entries: Vec<Entry> = (0..count)
            .map(|i| entry("c", i as i64, &format!("text {}", i / 2)))
            .collect();
        let notebook = NotebookKey::new("nb").unwrap();
        let mut bulk = NotebookIndex::new_bulk(notebook.clone());
        let mut one_by_one = NotebookIndex::new(notebook);
        for e in &entries {
            bulk.push_row(e, e.key.id(), Marks::of(e));
            one_by_one.insert(e);
        }
        bulk.finish_bulk();
        assert_eq!(bulk.contents.len(), count.div_ceil(2));
        assert_eq!(bulk.entries(), one_by_one.entries());
        let sorted = |mut sizes: Vec<u64>| {
            sizes.sort_unstable();
            sizes
        };
        assert_eq!(
            sorted(bulk.content_sizes()),
            sorted(one_by_one.content_sizes())
        );
    }

    #[test]
    fn insert_remove_and_order() {
        let mut index = NotebookIndex::new(NotebookKey::new("nb").unwrap());
        let b = entry("b", 2, "x = 2");
        let a = entry("a", 1, "x = 1");
        assert_eq!(index.insert(&b), InsertOutcome::New);
        assert_eq!(index.insert(&a), InsertOutcome::New);
        assert_eq!(index.insert(&a), InsertOutcome::Unchanged);
        let cells: Vec<&str> = index.views().iter().map(|v| v.cell).collect();
        assert_eq!(cells, ["a", "b"]);
        assert!(index.remove(a.key.id()));
        assert!(!index.remove(a.key.id()));
        assert_eq!(index.len(), 1);
        index.compact();
        assert_eq!(index.get(b.key.id()).unwrap(), b);
        assert_eq!(index.referenced_contents().len(), 1);
    }

    #[test]
    fn latest_respects_the_time_bound() {
        let mut index = NotebookIndex::new(NotebookKey::new("nb").unwrap());
        for t in [10, 20, 30] {
            index.insert(&entry("c", t, &format!("run {t}")));
        }
        let at_25 = index.latest("c", "m1", "0", Some(Timestamp(25))).unwrap();
        assert_eq!(index.view(at_25).unwrap().created_at, Timestamp(20));
        let newest = index.latest("c", "m1", "0", None).unwrap();
        assert_eq!(index.view(newest).unwrap().created_at, Timestamp(30));
        assert!(index.latest("c", "m1", "0", Some(Timestamp(5))).is_none());
    }

    #[test]
    fn replaced_entries_keep_their_pin() {
        let mut index = NotebookIndex::new(NotebookKey::new("nb").unwrap());
        let first = entry("c", 1, "a");
        index.insert(&first);
        index.set_pinned(first.key.id(), true);
        let second = entry("c", 1, "b");
        assert_eq!(index.insert(&second), InsertOutcome::Replaced);
        assert!(index.get(first.key.id()).unwrap().pinned);
        assert_eq!(index.len(), 1);
    }
}
