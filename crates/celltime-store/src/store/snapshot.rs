//! `.index/`: a binary snapshot of a parsed `map.toml`, so opening a large notebook skips TOML
//! parsing. It is derived data: any stale, foreign or damaged snapshot is ignored, and deleting
//! the folder is always safe.
//!
//! A snapshot is named by the BLAKE3 hash of the map it came from, so two machines never write
//! different snapshots under one name. Its header also carries the map's file stamp (length,
//! modification time, inode) as this machine saw it, and the notebook's totals: while the stamp
//! still matches, neither the map nor the snapshot body needs reading to list the notebook.
//! Between header and body, the sorted ids of the map's entries let a writer that only adds
//! entries check its keys without reading the body.

use super::Context;
use super::fs::{DirItem, Fs, ItemKind, is_real_dir, write_atomic};
use super::map::MapData;
use crate::model::{EntryId, IndexSummary, NotebookIndex};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Bumped whenever the snapshot layout changes; older snapshots are then ignored.
const SNAPSHOT_VERSION: u32 = 5;
/// An id in the id section: 16 bytes, big-endian.
const ID_BYTES: usize = 16;
const MAGIC: &[u8; 8] = b"CTINDEX\0";
/// Enough for the header of any realistic notebook (the log positions dominate).
const HEAD_READ: usize = 64 * 1024;

/// How the map file looked when the snapshot was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapStamp {
    len: u64,
    modified_ns: u128,
    inode: u64,
}

impl MapStamp {
    pub fn of(item: &DirItem) -> MapStamp {
        MapStamp {
            len: item.len,
            modified_ns: item
                .modified
                .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos()),
            inode: item.inode,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    version: u32,
    pub stamp: MapStamp,
    pub log_pos: BTreeMap<String, u64>,
    pub summary: IndexSummary,
    /// How many ids the id section holds.
    ids: u64,
}

fn file_name(map_hash: &blake3::Hash) -> String {
    format!("map-{}.bin", &map_hash.to_hex()[..32])
}

/// Splits a snapshot file into its header and the offset of its id section.
fn parse_header(bytes: &[u8]) -> Option<(Header, usize)> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    let header: Header = postcard::from_bytes(rest.get(4..4 + len)?).ok()?;
    (header.version == SNAPSHOT_VERSION).then_some((header, MAGIC.len() + 4 + len))
}

/// The byte length of a header's id section.
fn ids_len(header: &Header) -> Option<usize> {
    usize::try_from(header.ids).ok()?.checked_mul(ID_BYTES)
}

fn snapshot_files(fs: &dyn Fs, dir: &Path) -> Vec<PathBuf> {
    fs.read_dir(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|i| {
            i.kind == ItemKind::File && i.name.starts_with("map-") && i.name.ends_with(".bin")
        })
        .map(|i| dir.join(i.name))
        .collect()
}

/// Does the folder hold any snapshot?
pub fn any(fs: &dyn Fs, dir: &Path) -> bool {
    !snapshot_files(fs, dir).is_empty()
}

/// The header of a snapshot whose stamp matches the map as it is now.
pub fn header_for(fs: &dyn Fs, dir: &Path, stamp: MapStamp) -> Option<(PathBuf, Header)> {
    snapshot_files(fs, dir).into_iter().find_map(|path| {
        let head = fs.read_head(&path, HEAD_READ).ok()?;
        let (header, _) = parse_header(&head)?;
        (header.stamp == stamp).then_some((path, header))
    })
}

fn read_body(fs: &dyn Fs, path: &Path) -> Option<(Header, MapData)> {
    let head = fs.read_head(path, HEAD_READ).ok()?;
    let (header, ids_at) = parse_header(&head)?;
    let body_at = ids_at.checked_add(ids_len(&header)?)?;
    // Decoded as it is read: a snapshot is never held whole beside the index it becomes.
    let mut reader = std::io::BufReader::with_capacity(256 << 10, fs.open(path).ok()?);
    std::io::copy(
        &mut (&mut reader).take(body_at as u64),
        &mut std::io::sink(),
    )
    .ok()?;
    let index = NotebookIndex::read_from(&mut reader)?;
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).ok()?;
    let mut rest = rest.as_slice();
    let mut merged = BTreeSet::new();
    for _ in 0..take_u32(&mut rest)? {
        let len = take_u32(&mut rest)? as usize;
        let (text, after) = rest.split_at_checked(len)?;
        merged.insert(std::str::from_utf8(text).ok()?.to_string());
        rest = after;
    }
    let data = MapData {
        index,
        log_pos: header.log_pos.clone(),
        merged,
    };
    rest.is_empty().then_some((header, data))
}

fn take_u32(bytes: &mut &[u8]) -> Option<u32> {
    let (head, rest) = bytes.split_at_checked(4)?;
    *bytes = rest;
    Some(u32::from_le_bytes(head.try_into().ok()?))
}

/// The snapshot of the map as it is now, found by stamp without reading the map.
pub fn load_by_stamp(fs: &dyn Fs, dir: &Path, stamp: MapStamp) -> Option<MapData> {
    let (path, _) = header_for(fs, dir, stamp)?;
    read_body(fs, &path).map(|(_, data)| data)
}

/// The sorted ids of a map's entries as the snapshot stores them: 16 bytes each, big-endian,
/// so byte order is numeric order and they are searched where they lie, never decoded.
#[derive(Debug, Clone)]
pub struct MapIds(Vec<u8>);

impl MapIds {
    fn ids(&self) -> &[[u8; ID_BYTES]] {
        self.0.as_chunks().0
    }

    pub fn contains(&self, id: EntryId) -> bool {
        self.ids().binary_search(&id.0.to_be_bytes()).is_ok()
    }
}

/// The header and sorted entry ids of the snapshot of the map as it is now (found by stamp),
/// without its body.
pub fn ids_by_stamp(fs: &dyn Fs, dir: &Path, stamp: MapStamp) -> Option<(Header, MapIds)> {
    let (path, header) = header_for(fs, dir, stamp)?;
    let head = fs.read_head(&path, HEAD_READ).ok()?;
    let (_, ids_at) = parse_header(&head)?;
    let len = ids_len(&header)?;
    let ids = MapIds(fs.read_range(&path, ids_at as u64, len).ok()?);
    (ids.0.len() == len && ids.ids().is_sorted()).then_some((header, ids))
}

/// The snapshot of a map with these contents (the map was read and hashed). A snapshot made
/// from the same contents under another stamp (a copy, a checkout) is re-stamped for next time.
pub fn load_by_hash(
    fs: &dyn Fs,
    dir: &Path,
    map_hash: &blake3::Hash,
    stamp: MapStamp,
) -> Option<MapData> {
    let (header, data) = read_body(fs, &dir.join(file_name(map_hash)))?;
    if header.stamp != stamp {
        save(fs, dir, map_hash, stamp, &data);
    }
    Some(data)
}

/// Best effort: a failure only costs the next open a TOML parse.
pub fn save(fs: &dyn Fs, dir: &Path, map_hash: &blake3::Hash, stamp: MapStamp, data: &MapData) {
    if let Some(bytes) = encode(stamp, data) {
        write(fs, dir, map_hash, &bytes);
    }
}

/// Like [`save`], but a large snapshot is written on a thread of its own (it is encoded
/// here): a command that had to read a map does not also wait for the snapshot to reach the
/// disk. The store waits for such writes before it goes away (`Context`'s drop).
pub fn save_soon(
    ctx: &Context,
    dir: &Path,
    map_hash: &blake3::Hash,
    stamp: MapStamp,
    data: &MapData,
) {
    const IN_BACKGROUND: usize = 1 << 20;
    let Some(bytes) = encode(stamp, data) else {
        return;
    };
    if bytes.len() < IN_BACKGROUND {
        return write(ctx.fs.as_ref(), dir, map_hash, &bytes);
    }
    let (fs, dir, map_hash) = (ctx.fs.clone(), dir.to_path_buf(), *map_hash);
    ctx.in_background(std::thread::spawn(move || {
        write(fs.as_ref(), &dir, &map_hash, &bytes);
    }));
}

fn encode(stamp: MapStamp, data: &MapData) -> Option<Vec<u8>> {
    let mut ids: Vec<EntryId> = data.index.ids().collect();
    ids.sort_unstable();
    let header = Header {
        version: SNAPSHOT_VERSION,
        stamp,
        log_pos: data.log_pos.clone(),
        summary: data.index.summary(),
        ids: ids.len() as u64,
    };
    let head = postcard::to_allocvec(&header).ok()?;
    let mut bytes = Vec::with_capacity(MAGIC.len() + 4 + head.len() + ids.len() * ID_BYTES);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(head.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&head);
    for id in &ids {
        bytes.extend_from_slice(&id.0.to_be_bytes());
    }
    drop(ids);
    data.index.encode(&mut bytes);
    bytes.extend_from_slice(&(data.merged.len() as u32).to_le_bytes());
    for copy in &data.merged {
        bytes.extend_from_slice(&(copy.len() as u32).to_le_bytes());
        bytes.extend_from_slice(copy.as_bytes());
    }
    Some(bytes)
}

/// Writes a snapshot and deletes the folder's older ones.
fn write(fs: &dyn Fs, dir: &Path, map_hash: &blake3::Hash, bytes: &[u8]) {
    if fs.create_dir_all(dir).is_err() {
        return;
    }
    let keep = dir.join(file_name(map_hash));
    if !is_real_dir(fs, dir) || write_atomic(fs, &keep, bytes).is_err() {
        return;
    }
    for old in snapshot_files(fs, dir) {
        if old != keep {
            let _ = fs.remove_file(&old);
        }
    }
}
