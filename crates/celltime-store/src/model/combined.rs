//! One run, one row: how a run held by both backends — celltime's store and marimo's cache
//! folder — is recognised as one (docs/FORMAT.md §16), and the merged timeline. Pure: the
//! backends say what ties each of their rows to a cache file; this decides and merges.

use super::history::{Copies, Row, Timeline};
use super::keys::EntryId;
use super::time::Timestamp;
use std::collections::HashMap;

/// A store entry may be written a little after marimo wrote the file (its `created_at` is
/// when the run started, the file time when marimo finished), and file times can lag the
/// clock by a few milliseconds or, on coarse file systems, two seconds.
pub const LINK_TOLERANCE_MS: i64 = 2_000;

/// What ties a row to a file of marimo's cache: the cache key's hash (the entry's module
/// hash), the file's format (`pickle`, `json`, `jsonl`) and size, and a time — the file time
/// for a cache row, `created_at` for a store row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheTie {
    pub hash: String,
    pub format: String,
    pub size: u64,
    pub at: Timestamp,
}

/// Which copies a merged row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Owner {
    pub store: Option<EntryId>,
    pub cache: Option<EntryId>,
}

/// A merged timeline and, parallel to its rows, the copies behind each.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    pub timeline: Timeline,
    pub owners: Vec<Owner>,
}

/// Pairs cache rows with the store rows that are copies of the same run: same hash, format
/// and size, and of those the newest store row created no later than the file was written
/// (plus [`LINK_TOLERANCE_MS`]). Each row pairs at most once. Returns (store row, cache row).
fn pairs(store: &[Option<CacheTie>], cache: &[Option<CacheTie>]) -> Vec<(usize, usize)> {
    let mut by_key: HashMap<(&str, &str, u64), Vec<usize>> = HashMap::new();
    for (at, tie) in store.iter().enumerate() {
        if let Some(t) = tie {
            by_key
                .entry((&t.hash, &t.format, t.size))
                .or_default()
                .push(at);
        }
    }
    let mut taken = vec![false; store.len()];
    let mut out = Vec::new();
    for (c, tie) in cache.iter().enumerate() {
        let Some(t) = tie else { continue };
        let Some(candidates) = by_key.get(&(&t.hash, &t.format, t.size)) else {
            continue;
        };
        let limit = t.at.0.saturating_add(LINK_TOLERANCE_MS);
        let best = candidates
            .iter()
            .copied()
            .filter(|&s| !taken[s])
            .filter_map(|s| store[s].as_ref().map(|st| (st.at, s)))
            .filter(|(at, _)| at.0 <= limit)
            .max();
        if let Some((_, s)) = best {
            taken[s] = true;
            out.push((s, c));
        }
    }
    out
}

/// The rows of both backends, a run held by both as one row: the store's row (its id, key,
/// exact time, pin and uses) with the parts, size and contents of both copies.
pub fn merge(
    store: Timeline,
    store_ties: &[Option<CacheTie>],
    cache: Timeline,
    cache_ties: &[Option<CacheTie>],
) -> Merged {
    let paired = pairs(store_ties, cache_ties);
    let mut partner_of_store = vec![None; store.rows.len()];
    let mut cache_paired = vec![false; cache.rows.len()];
    for (s, c) in paired {
        partner_of_store[s] = Some(c);
        cache_paired[c] = true;
    }
    let offset = store.content_sizes.len() as u32;
    let mut merged = Merged {
        timeline: Timeline {
            notebook: if store.notebook.is_empty() {
                cache.notebook.clone()
            } else {
                store.notebook.clone()
            },
            rows: Vec::with_capacity(store.rows.len() + cache.rows.len()),
            content_sizes: store.content_sizes,
        },
        owners: Vec::new(),
    };
    merged
        .timeline
        .content_sizes
        .extend_from_slice(&cache.content_sizes);
    let shift = |row: &Row| {
        row.contents
            .iter()
            .map(|c| c + offset)
            .collect::<Vec<u32>>()
    };
    for (s, mut row) in store.rows.into_iter().enumerate() {
        let mut owner = Owner {
            store: Some(row.id),
            cache: None,
        };
        row.copies = Copies::STORE;
        if let Some(c) = partner_of_store[s] {
            let twin = &cache.rows[c];
            owner.cache = Some(twin.id);
            row.copies.cache = true;
            row.parts = super::entry::PartMask(row.parts.0 | twin.parts.0);
            row.size += twin.size;
            row.contents.extend(shift(twin));
        }
        merged.timeline.rows.push(row);
        merged.owners.push(owner);
    }
    for (c, row) in cache.rows.iter().enumerate() {
        if cache_paired[c] {
            continue;
        }
        let mut row = row.clone();
        row.contents = shift(&row);
        row.copies = Copies::CACHE;
        merged.owners.push(Owner {
            store: None,
            cache: Some(row.id),
        });
        merged.timeline.rows.push(row);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PartMask;
    use std::sync::Arc;

    fn row(id: u128, module: &str, t: i64, content: u32) -> Row {
        Row {
            id: EntryId(id),
            cell: Arc::from("c"),
            module: Arc::from(module),
            version: Arc::from("0"),
            created_at: Timestamp(t),
            approximate_time: false,
            last_used: None,
            pinned: false,
            size: 10,
            parts: PartMask(1),
            contents: vec![content],
            copies: Copies::default(),
            code: None,
        }
    }

    fn tie(hash: &str, size: u64, at: i64) -> Option<CacheTie> {
        Some(CacheTie {
            hash: hash.into(),
            format: "pickle".into(),
            size,
            at: Timestamp(at),
        })
    }

    fn timeline(rows: Vec<Row>) -> Timeline {
        Timeline {
            notebook: "nb".into(),
            content_sizes: vec![10; rows.len()],
            rows,
        }
    }

    #[test]
    fn a_run_in_both_backends_is_one_row_with_both_copies() {
        let store = timeline(vec![row(1, "h1", 1000, 0), row(2, "h2", 2000, 1)]);
        let cache = timeline(vec![row(11, "h1", 1000, 0), row(12, "h3", 3000, 1)]);
        let m = merge(
            store,
            &[tie("h1", 5, 1000), tie("h2", 5, 2000)],
            cache,
            &[tie("h1", 5, 1000), tie("h3", 5, 3000)],
        );
        let ids: Vec<u128> = m.timeline.rows.iter().map(|r| r.id.0).collect();
        assert_eq!(ids, [1, 2, 12]);
        assert_eq!(
            m.timeline.rows[0].copies,
            Copies {
                store: true,
                cache: true
            }
        );
        assert_eq!(m.timeline.rows[0].size, 20);
        assert_eq!(m.timeline.rows[0].contents, [0, 2]);
        assert_eq!(m.owners[0].cache, Some(EntryId(11)));
        assert_eq!(m.timeline.rows[2].copies, Copies::CACHE);
        assert_eq!(m.timeline.rows[2].contents, [3]);
    }

    #[test]
    fn the_file_pairs_with_the_newest_store_run_written_before_it() {
        // Two imports of one cache key (marimo rewrote it), a run recorded later by the
        // plugin, and a file size that differs.
        let store = timeline(vec![
            row(1, "h", 1000, 0),
            row(2, "h", 5000, 1),
            row(3, "h", 9000, 2),
        ]);
        let cache = timeline(vec![row(11, "h", 6000, 0)]);
        let m = merge(
            store.clone(),
            &[tie("h", 5, 1000), tie("h", 5, 5000), tie("h", 5, 9000)],
            cache.clone(),
            &[tie("h", 5, 6000)],
        );
        assert_eq!(m.owners[1].cache, Some(EntryId(11)));
        assert_eq!(m.timeline.rows.len(), 3);
        let other_size = merge(
            store,
            &[tie("h", 6, 5000), None, None],
            cache,
            &[tie("h", 5, 6000)],
        );
        assert_eq!(
            other_size.timeline.rows.len(),
            4,
            "a different file is another run"
        );
    }
}
