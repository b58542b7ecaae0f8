//! Loading a notebook folder: the map (and its conflicted copies), then the log records after
//! the positions the map records; refreshing that state when other processes write.

use super::{Issue, Severity, State};
use crate::model::{NotebookIndex, NotebookKey, Timestamp};
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
    let copies = ctx.fs.read_dir(&paths.dir).ok()?;
    if copies
        .iter()
        .any(|i| i.name != MAP_FILE && i.name.starts_with("map") && i.name.ends_with(".toml"))
    {
        return None;
    }
    Some(header.summary)
}

/// Segment file names in the log folder (regular files only).
pub(super) fn segment_names(ctx: &Context, log_dir: &std::path::Path) -> Result<Vec<String>> {
    match ctx.fs.read_dir(log_dir) {
        Ok(items) => Ok(items
            .into_iter()
            .filter(|i| {
                i.kind == ItemKind::File
                    && i.name.ends_with(SEGMENT_SUFFIX)
                    && !i.name.starts_with('.')
            })
            .map(|i| i.name)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).at(log_dir),
    }
}

/// Applies one record to the index.
pub(super) fn apply(
    index: &mut NotebookIndex,
    notebook: &NotebookKey,
    record: Record,
) -> Option<String> {
    match record {
        Record::Put { entry, .. } => match (*entry).into_entry(notebook) {
            Ok(entry) => {
                index.insert(&entry);
                None
            }
            Err(e) => Some(format!("invalid put record: {e}")),
        },
        Record::Remove { ids, .. } => {
            ids.iter().for_each(|id| {
                index.remove(*id);
            });
            None
        }
        Record::Pin { ids, .. } => {
            ids.iter().for_each(|id| {
                index.set_pinned(*id, true);
            });
            None
        }
        Record::Unpin { ids, .. } => {
            ids.iter().for_each(|id| {
                index.set_pinned(*id, false);
            });
            None
        }
        Record::Used { ids, used_at, .. } => {
            ids.iter().for_each(|id| {
                index.touch(*id, used_at);
            });
            None
        }
        Record::Serve { ids, at } => {
            ids.iter().for_each(|id| {
                index.set_served(*id, at);
            });
            None
        }
    }
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
    };
    let start: BTreeMap<String, u64> = state.data.log_pos.clone();
    apply_segments(ctx, key, paths, &mut state, &start)?;
    Ok(state)
}

/// The map's state: from the snapshot that matches its stamp, else from the snapshot of its
/// contents, else by parsing it (and saving a snapshot for next time).
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
    let bytes = fs.read(&map_path).at(&map_path)?;
    let hash = blake3::hash(&bytes);
    if let Some(data) = snapshot::load_by_hash(fs, &index_dir, &hash, stamp).filter(valid) {
        return Ok(data);
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| StoreError::invalid(&map_path, None, "not UTF-8 text"))?;
    let (data, conflicted) = map::parse_map(&map_path, &text, key)?;
    if conflicted {
        issues.push(Issue::new(Severity::Warning, &map_path, None, "git conflict markers: both sides were read and merged; `celltime consolidate` writes a clean map"));
    } else {
        snapshot::save(fs, &index_dir, &hash, stamp, &data);
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
        let is_copy = item.kind == ItemKind::File
            && item.name != MAP_FILE
            && item.name.starts_with("map")
            && item.name.ends_with(".toml");
        if !is_copy {
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
    let mut pending: Vec<(Timestamp, String, u64, Record)> = Vec::new();
    for name in segment_names(ctx, &log_dir)? {
        let path = log_dir.join(&name);
        let start = from.get(&name).copied().unwrap_or(0);
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
            (clock, name.clone(), offset, r)
        }));
    }
    pending.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
    if let Some((last, ..)) = pending.last() {
        state.latest_at = state.latest_at.max(*last);
    }
    for (_, name, _, record) in pending {
        if let Some(message) = apply(&mut state.data.index, key, record) {
            state.issues.push(Issue::new(
                Severity::Error,
                &log_dir.join(name),
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

/// Brings `state` up to date: a replaced map means a full reload; otherwise only records
/// appended since the last read are applied.
pub(super) fn refresh(
    ctx: &Context,
    key: &NotebookKey,
    paths: &NotebookPaths,
    state: &mut State,
) -> Result<()> {
    if stamp(ctx, &paths.map()) != state.map_stamp {
        *state = load_state(ctx, key, paths)?;
        return Ok(());
    }
    let from: BTreeMap<String, u64> = segment_names(ctx, &paths.log_dir())?
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
