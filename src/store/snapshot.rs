//! `.index/`: a binary snapshot of a parsed `map.toml`, named by the map's BLAKE3 hash, so
//! opening a large notebook skips TOML parsing. It is derived data: any stale, foreign or
//! damaged snapshot is ignored, and deleting the folder is always safe. Because the name is
//! the hash of the map it came from, two machines can never write different snapshot files
//! under one name.

use super::fs::{Fs, ItemKind, write_atomic};
use super::map::MapData;
use crate::model::NotebookIndex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bumped whenever the in-memory index layout changes.
const SNAPSHOT_VERSION: u32 = 1;

#[derive(Deserialize)]
struct Snapshot {
    index: NotebookIndex,
    log_pos: BTreeMap<String, u64>,
    merged: BTreeSet<String>,
}

/// The same layout as [`Snapshot`], borrowed, so saving does not copy the index.
#[derive(Serialize)]
struct SnapshotRef<'a> {
    index: &'a NotebookIndex,
    log_pos: &'a BTreeMap<String, u64>,
    merged: &'a BTreeSet<String>,
}

fn file_name(map_hash: &blake3::Hash) -> String {
    format!("map-v{SNAPSHOT_VERSION}-{}.bin", &map_hash.to_hex()[..32])
}

fn path(dir: &Path, map_hash: &blake3::Hash) -> PathBuf {
    dir.join(file_name(map_hash))
}

pub fn load(fs: &dyn Fs, dir: &Path, map_hash: &blake3::Hash) -> Option<MapData> {
    let bytes = fs.read(&path(dir, map_hash)).ok()?;
    let snapshot: Snapshot = postcard::from_bytes(&bytes).ok()?;
    Some(MapData {
        index: snapshot.index,
        log_pos: snapshot.log_pos,
        merged: snapshot.merged,
    })
}

/// Best effort: a failure only costs the next open a TOML parse.
pub fn save(fs: &dyn Fs, dir: &Path, map_hash: &blake3::Hash, data: &MapData) {
    let snapshot = SnapshotRef {
        index: &data.index,
        log_pos: &data.log_pos,
        merged: &data.merged,
    };
    let Ok(bytes) = postcard::to_allocvec(&snapshot) else {
        return;
    };
    if fs.create_dir_all(dir).is_err() {
        return;
    }
    let keep = file_name(map_hash);
    if write_atomic(fs, &dir.join(&keep), &bytes).is_err() {
        return;
    }
    if let Ok(items) = fs.read_dir(dir) {
        for item in items {
            if item.kind == ItemKind::File && item.name.starts_with("map-") && item.name != keep {
                let _ = fs.remove_file(&dir.join(&item.name));
            }
        }
    }
}
