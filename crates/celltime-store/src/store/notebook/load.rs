//! Loading a notebook folder: the map (and its conflicted copies), then the log records after
//! the positions the map records; refreshing that state when other processes write.

use super::{Issue, Severity, State};
use crate::model::{Entry, EntryId, NotebookIndex, NotebookKey, Timestamp};
use crate::parallel;
use crate::store::Context;
use crate::store::error::{IoContext, Result, StoreError};
use crate::store::fs::{DirItem, ItemKind};
use crate::store::layout::{MAP_FILE, NotebookPaths};
use crate::store::log::{self, Record, SEGMENT_SUFFIX};
use crate::store::map::{self, MapData};
use crate::store::snapshot::{self, MapStamp};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn stamp(ctx: &Context, path: &std::path::Path) -> Option<MapStamp> {
    ctx.fs.metadata(path).ok().map(|m| MapStamp::of(&m))
}

/// A notebook's totals straight from its snapshot header, when the snapshot matches the map
/// and no log record or conflicted copy is waiting to be folded; `None` means "open it".
pub(in crate::store) fn quick_summary(
    ctx: &Context,
    paths: &NotebookPaths,
) -> Option<crate::model::IndexSummary> {
    let map = ctx.fs.metadata(&paths.map()).ok()?;
    let (_, header) =
        snapshot::header_for(ctx.fs.as_ref(), &paths.index_dir(), MapStamp::of(&map))?;
    let log_dir = paths.log_dir();
    for name in segment_names(ctx, &log_dir).ok()? {
        let len = ctx.fs.metadata(&log_dir.join(&name)).ok()?.len;
        if len > header.log_pos.get(&name).copied().unwrap_or(0) {
            return None;
        }
    }
    if has_conflicted_copies(ctx, paths)? {
        return None;
    }
    Some(header.summary)
}

/// Does the folder hold conflicted copies of the map (which must be merged on read)?
pub(super) fn has_conflicted_copies(ctx: &Context, paths: &NotebookPaths) -> Option<bool> {
    let items = ctx.fs.read_dir(&paths.dir).ok()?;
    Some(items.iter().any(|i| is_conflicted_copy(&i.name)))
}

fn is_conflicted_copy(name: &str) -> bool {
    name != MAP_FILE && name.starts_with("map") && name.ends_with(".toml")
}

/// Segment file names in the log folder (regular files only).
pub(super) fn segment_names(ctx: &Context, log_dir: &std::path::Path) -> Result<Vec<String>> {
    match ctx.fs.read_dir(log_dir) {
        Ok(items) => {
            let mut names: Vec<String> = items
                .into_iter()
                .filter(|i| {
                    i.kind == ItemKind::File
                        && i.name.ends_with(SEGMENT_SUFFIX)
                        && !i.name.starts_with('.')
                })
                .map(|i| i.name)
                .collect();
            names.sort();
            Ok(names)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).at(log_dir),
    }
}

/// A record ready to apply: a put already validated into an entry with its id. Validation
/// does not depend on the index, so it runs on all cores before records are applied in order.
pub(super) enum Ready {
    Put(Box<Entry>, EntryId),
    Invalid(String),
    Other(Record),
}

impl Ready {
    pub(super) fn of(notebook: &NotebookKey, record: Record) -> Ready {
        match record {
            Record::Put { entry, .. } => match (*entry).into_entry(notebook) {
                Ok(entry) => {
                    let id = entry.key.id();
                    Ready::Put(Box::new(entry), id)
                }
                Err(e) => Ready::Invalid(format!("invalid put record: {e}")),
            },
            other => Ready::Other(other),
        }
    }
}

/// Applies one record to the index; returns why it could not be applied, if it could not.
pub(super) fn apply(index: &mut NotebookIndex, record: Ready) -> Option<String> {
    match record {
        Ready::Put(entry, id) => {
            index.insert_with_id(&entry, id);
        }
        Ready::Invalid(message) => return Some(message),
        Ready::Other(Record::Put { .. }) => unreachable!("puts are made ready"),
        Ready::Other(Record::Remove { ids, .. }) => ids.iter().for_each(|id| {
            index.remove(*id);
        }),
        Ready::Other(Record::Pin { ids, .. }) => ids.iter().for_each(|id| {
            index.set_pinned(*id, true);
        }),
        Ready::Other(Record::Unpin { ids, .. }) => ids.iter().for_each(|id| {
            index.set_pinned(*id, false);
        }),
        Ready::Other(Record::Used { ids, used_at, .. }) => ids.iter().for_each(|id| {
            index.touch(*id, used_at);
        }),
        Ready::Other(Record::Serve { ids, at }) => ids.iter().for_each(|id| {
            index.set_served(*id, at);
        }),
    }
    None
}

/// Reads the map (through its snapshot when one matches), merges conflicted copies, and
/// applies every log record after the map's positions.
pub(super) fn load_state(ctx: &Context, key: &NotebookKey, paths: &NotebookPaths) -> Result<State> {
    let fs = ctx.fs.as_ref();
    let map_path = paths.map();
    let mut issues = Vec::new();
    let mut data = match fs.metadata(&map_path) {
        Ok(item) => read_map(ctx, key, paths, &item, &mut issues)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => MapData::empty(key.clone()),
        Err(e) => return Err(e).at(&map_path),
    };
    let merged_copies = merge_conflicted_copies(ctx, key, paths, &mut data, &mut issues)?;
    let mut state = State {
        map_stamp: stamp(ctx, &map_path),
        read_pos: BTreeMap::new(),
        merged_copies,
        issues,
        data,
        latest_at: Timestamp(i64::MIN),
        map_ids: None,
    };
    let start: BTreeMap<String, u64> = state.data.log_pos.clone();
    apply_segments(ctx, key, paths, &mut state, &start)?;
    Ok(state)
}

/// The state a writer that only adds entries needs: the map's entries by id alone, from the
/// snapshot that matches the map, and the log records after the map's positions in full.
/// Without such a snapshot, or with conflicted copies to merge, this is [`load_state`].
pub(super) fn load_for_append(
    ctx: &Context,
    key: &NotebookKey,
    paths: &NotebookPaths,
) -> Result<State> {
    let fs = ctx.fs.as_ref();
    let Some(map_stamp) = stamp(ctx, &paths.map()) else {
        return load_state(ctx, key, paths);
    };
    let Some((header, ids)) = snapshot::ids_by_stamp(fs, &paths.index_dir(), map_stamp) else {
        return load_state(ctx, key, paths);
    };
    if has_conflicted_copies(ctx, paths) != Some(false) {
        return load_state(ctx, key, paths);
    }
    let mut state = State {
        data: MapData {
            index: NotebookIndex::new(key.clone()),
            log_pos: header.log_pos,
            merged: BTreeSet::new(),
        },
        map_stamp: Some(map_stamp),
        read_pos: BTreeMap::new(),
        merged_copies: BTreeSet::new(),
        issues: Vec::new(),
        latest_at: Timestamp(i64::MIN),
        map_ids: Some(ids),
    };
    let start: BTreeMap<String, u64> = state.data.log_pos.clone();
    apply_segments(ctx, key, paths, &mut state, &start)?;
    Ok(state)
}

/// The map's state: from the snapshot that matches its stamp, else from the snapshot of its
/// contents, else by reading it (and saving a snapshot for next time).
fn read_map(
    ctx: &Context,
    key: &NotebookKey,
    paths: &NotebookPaths,
    item: &DirItem,
    issues: &mut Vec<Issue>,
) -> Result<MapData> {
    let fs = ctx.fs.as_ref();
    let stamp = MapStamp::of(item);
    let index_dir = paths.index_dir();
    let valid = |data: &MapData| data.index.notebook() == key;
    if let Some(data) = snapshot::load_by_stamp(fs, &index_dir, stamp).filter(valid) {
        return Ok(data);
    }
    let map_path = paths.map();
    // A snapshot of the same contents under another stamp (a copy, a checkout) is found by
    // the map's hash; without snapshots (a fresh clone) there is nothing to look for.
    if snapshot::any(fs, &index_dir) {
        let (hash, _) = fs.hash_file(&map_path, u64::MAX).at(&map_path)?;
        if let Some(data) = snapshot::load_by_hash(fs, &index_dir, &hash, stamp).filter(valid) {
            return Ok(data);
        }
    }
    // The layout celltime writes is read block by block; anything else is read whole.
    if let Some((data, hash)) = map::read_canonical_file(fs, &map_path, key)?
        && self::stamp(ctx, &map_path) == Some(stamp)
    {
        snapshot::save_soon(ctx, &index_dir, &hash, stamp, &data);
        return Ok(data);
    }
    let bytes = fs.read(&map_path).at(&map_path)?;
    let hash = blake3::hash(&bytes);
    let text = String::from_utf8(bytes)
        .map_err(|_| StoreError::invalid(&map_path, None, "not UTF-8 text"))?;
    let (data, conflicted) = map::parse_map(&map_path, &text, key)?;
    drop(text);
    if conflicted {
        issues.push(Issue::new(Severity::Warning, &map_path, None, "git conflict markers: both sides were read and merged; `celltime consolidate` writes a clean map"));
    } else {
        snapshot::save_soon(ctx, &index_dir, &hash, stamp, &data);
    }
    Ok(data)
}

/// Sync tools keep both versions of a file edited on two machines (`map (… conflicted copy
/// …).toml`, `map.sync-conflict-….toml`): read them all, never delete them.
fn merge_conflicted_copies(
    ctx: &Context,
    key: &NotebookKey,
    paths: &NotebookPaths,
    data: &mut MapData,
    issues: &mut Vec<Issue>,
) -> Result<BTreeSet<String>> {
    let mut merged = BTreeSet::new();
    let items = ctx.fs.read_dir(&paths.dir).unwrap_or_default();
    for item in items {
        if item.kind != ItemKind::File || !is_conflicted_copy(&item.name) {
            continue;
        }
        let path = paths.dir.join(&item.name);
        let bytes = ctx.fs.read(&path).at(&path)?;
        let hash = blake3::hash(&bytes).to_hex().to_string();
        if data.merged.contains(&hash) {
            issues.push(Issue::new(
                Severity::Info,
                &path,
                None,
                "conflicted copy already merged into map.toml; you may delete it",
            ));
            continue;
        }
        let parsed = String::from_utf8(bytes)
            .map_err(|_| StoreError::invalid(&path, None, "not UTF-8 text"))
            .and_then(|text| map::parse_map(&path, &text, key));
        match parsed {
            Ok((copy, _)) => {
                data.merge(copy);
                merged.insert(hash);
                issues.push(Issue::new(Severity::Warning, &path, None, "conflicted copy of the map from a sync tool: merged; it is kept until you delete it"));
            }
            Err(e) => issues.push(Issue::new(
                Severity::Warning,
                &path,
                None,
                format!("conflicted copy of the map could not be read and was ignored: {e}"),
            )),
        }
    }
    Ok(merged)
}

/// Reads every segment from its position in `from` (0 when absent) and applies the records
/// in time order.
fn apply_segments(
    ctx: &Context,
    key: &NotebookKey,
    paths: &NotebookPaths,
    state: &mut State,
    from: &BTreeMap<String, u64>,
) -> Result<()> {
    let log_dir = paths.log_dir();
    let names = segment_names(ctx, &log_dir)?;
    let mut pending: Vec<(Timestamp, usize, u64, Record)> = Vec::new();
    for (segment, name) in names.iter().enumerate() {
        let path = log_dir.join(name);
        let start = from.get(name).copied().unwrap_or(0);
        let len = ctx.fs.metadata(&path).at(&path)?.len;
        if len < start {
            state.issues.push(Issue::new(Severity::Error, &path, None, format!("segment is shorter ({len} bytes) than the map says was folded ({start}); it was truncated or replaced")));
            continue;
        }
        let read = log::read_segment(ctx.fs.as_ref(), &path, start)?;
        if read.torn_bytes > 0 {
            state.issues.push(Issue::new(
                Severity::Warning,
                &path,
                None,
                format!(
                    "incomplete last record ({} bytes) ignored: an interrupted write",
                    read.torn_bytes
                ),
            ));
        }
        if let Some((line, reason)) = read.corrupt {
            let line = if start == 0 {
                Some(line)
            } else {
                line_in_file(ctx, &path, start, line)
            };
            state.issues.push(Issue::new(
                Severity::Error,
                &path,
                line,
                format!("{reason}; records after it are not applied"),
            ));
        }
        state.read_pos.insert(name.clone(), read.valid_end);
        // A segment's records keep their order even if its writer's clock went backwards:
        // each is placed at the latest time seen so far in its segment.
        let mut clock = Timestamp(i64::MIN);
        pending.extend(read.records.into_iter().map(|(offset, r)| {
            clock = clock.max(r.at());
            (clock, segment, offset, r)
        }));
    }
    // Segment names are sorted, so their positions order records as their names would.
    pending.sort_by_key(|(at, segment, offset, _)| (*at, *segment, *offset));
    if let Some((last, ..)) = pending.last() {
        state.latest_at = state.latest_at.max(*last);
    }
    let ready = parallel::map_owned_shares(pending, |share| {
        share
            .into_iter()
            .map(|(_, segment, _, record)| (segment, Ready::of(key, record)))
            .collect::<Vec<_>>()
    });
    for (segment, record) in ready.into_iter().flatten() {
        if let Some(message) = apply(&mut state.data.index, record) {
            state.issues.push(Issue::new(
                Severity::Error,
                &log_dir.join(&names[segment]),
                None,
                message,
            ));
        }
    }
    Ok(())
}

/// The 1-based line in the whole file of line `relative` counted from byte `start`.
fn line_in_file(
    ctx: &Context,
    path: &std::path::Path,
    start: u64,
    relative: usize,
) -> Option<usize> {
    let bytes = ctx.fs.read(path).ok()?;
    let before = bytes
        .get(..start as usize)?
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    Some(before + relative)
}

/// Brings `state` up to date: a replaced map means a reload (as deep as the state was);
/// otherwise only records appended since the last read are applied.
pub(super) fn refresh(
    ctx: &Context,
    key: &NotebookKey,
    paths: &NotebookPaths,
    state: &mut State,
) -> Result<()> {
    let names = segment_names(ctx, &paths.log_dir())?;
    // A replaced map, or a segment gone whose records were applied (moved out to repair it),
    // cannot be caught up with record by record.
    let vanished = state.read_pos.keys().any(|name| !names.contains(name));
    if stamp(ctx, &paths.map()) != state.map_stamp || vanished {
        *state = match state.map_ids {
            Some(_) => load_for_append(ctx, key, paths)?,
            None => load_state(ctx, key, paths)?,
        };
        return Ok(());
    }
    let from: BTreeMap<String, u64> = names
        .into_iter()
        .map(|name| {
            let pos = state
                .read_pos
                .get(&name)
                .or_else(|| state.data.log_pos.get(&name))
                .copied()
                .unwrap_or(0);
            (name, pos)
        })
        .collect();
    state
        .issues
        .retain(|i| !i.at.path.starts_with(paths.log_dir()));
    apply_segments(ctx, key, paths, state, &from)
}
