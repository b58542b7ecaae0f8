//! Finding the cache folder and listing its entries, without reading any entry.
//!
//! Layout (docs/MARIMO-CACHE.md §2): `<root>/<block>/<P>_<hash>.<ext>`, and for lazy entries the blob
//! folder `<root>/<block>/<hash>/`. A lazy manifest and its blob folder are ONE entry. Nothing
//! here follows a symbolic link: links are reported and left alone.

use super::error::{AtPath, LegacyError, Result};
use super::names::{self, EntryName, Loader};
use crate::model::{EntryId, Timestamp};
use std::collections::HashSet;
use std::fs::{self, Metadata};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// The cache folder of a workspace: `--cache-dir` when given, else `__marimo__/cache`.
pub fn cache_root(workspace: &Path, cache_dir: Option<&Path>) -> PathBuf {
    match cache_dir {
        Some(dir) if dir.is_absolute() => dir.to_path_buf(),
        Some(dir) => std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
        None => crate::store::Workspace::at(workspace).legacy_cache_dir(),
    }
}

/// One file of an entry, as it was when listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    /// Relative to the cache root, with `/` separators.
    pub rel: String,
    pub size: u64,
    pub mtime: SystemTime,
}

impl FileStat {
    fn of(rel: String, meta: &Metadata) -> FileStat {
        FileStat {
            rel,
            size: meta.len(),
            mtime: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }
}

/// One cache entry: an entry file, plus its blob folder for a lazy entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyEntry {
    /// Shared by the block's entries.
    pub block: Arc<str>,
    pub name: EntryName,
    /// `<block>/<file name>`.
    pub rel_path: String,
    /// `<block>/<hash>` when the entry is lazy and the folder exists.
    pub blob_dir: Option<String>,
    /// The entry file first, then the blobs by name.
    pub files: Vec<FileStat>,
    /// `entry_id(rel_path)`, worked out once.
    id: EntryId,
}

impl LegacyEntry {
    /// Stable across runs and file times: derived from the relative path alone.
    pub fn id(&self) -> EntryId {
        self.id
    }

    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// The entry file's modification time: marimo writes a lazy manifest last, so this is
    /// when the entry became complete.
    pub fn mtime(&self) -> SystemTime {
        self.files[0].mtime
    }

    /// An approximate `created_at` (file times are all marimo leaves).
    pub fn created_at(&self) -> Timestamp {
        timestamp_of(self.mtime())
    }

    /// The blob files of a lazy entry.
    pub fn blobs(&self) -> &[FileStat] {
        &self.files[1..]
    }

    /// The entry file's stem (`C_<hash>`), as marimo's notebook manifest lists it.
    pub fn stem(&self) -> &str {
        let file = &self.rel_path[self.block.len() + 1..];
        file.split_once('.').map_or(file, |(stem, _)| stem)
    }
}

pub fn entry_id(rel_path: &str) -> EntryId {
    const DOMAIN: &[u8] = b"celltime-legacy-entry-v1\0";
    // One call on one buffer (on the stack for any path marimo writes): setting up a
    // `blake3::Hasher` costs more than these bytes.
    let mut on_stack = [0u8; 256];
    let len = DOMAIN.len() + rel_path.len();
    let digest = if len <= on_stack.len() {
        on_stack[..DOMAIN.len()].copy_from_slice(DOMAIN);
        on_stack[DOMAIN.len()..len].copy_from_slice(rel_path.as_bytes());
        blake3::hash(&on_stack[..len])
    } else {
        blake3::hash(&[DOMAIN, rel_path.as_bytes()].concat())
    };
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest.as_bytes()[..16]);
    EntryId(u128::from_be_bytes(first))
}

pub fn timestamp_of(time: SystemTime) -> Timestamp {
    let millis = match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    };
    Timestamp(millis)
}

/// Everything a listing found.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub root: PathBuf,
    /// Sorted by relative path.
    pub entries: Vec<LegacyEntry>,
    /// Blob folders without a manifest: marimo writes blobs first, so a write was interrupted
    /// (or is in progress). Relative paths.
    pub incomplete: Vec<String>,
    /// Things that are neither entries nor marimo's own files, with the reason (symlinks,
    /// stray files). Never touched.
    pub skipped: Vec<(String, String)>,
    /// marimo's per-notebook manifests at the root (relative paths).
    pub notebook_manifests: Vec<String>,
    /// Folder times when listed: unchanged times mean an unchanged listing.
    stamps: Vec<(PathBuf, SystemTime)>,
}

impl Scan {
    /// True when no listed folder changed since the scan (entries are added, replaced and
    /// removed by renames, which touch the folder).
    /// The listing of a cache folder that does not exist (yet).
    pub fn empty(root: &Path) -> Scan {
        Scan {
            root: root.to_path_buf(),
            ..Scan::default()
        }
    }

    pub fn is_current(&self) -> bool {
        !self.stamps.is_empty()
            && self
                .stamps
                .iter()
                .all(|(dir, time)| dir_time(dir).is_some_and(|t| t == *time))
    }

    pub fn find(&self, id: EntryId) -> Option<&LegacyEntry> {
        self.entries.iter().find(|e| e.id == id)
    }
}

fn dir_time(dir: &Path) -> Option<SystemTime> {
    fs::symlink_metadata(dir).ok()?.modified().ok()
}

/// Lists the cache at `root`.
pub fn scan(root: &Path) -> Result<Scan> {
    let meta = match fs::symlink_metadata(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LegacyError::NoCache {
                path: root.to_path_buf(),
            });
        }
        other => other.at(root)?,
    };
    if !meta.is_dir() {
        return Err(LegacyError::invalid(
            root,
            "not a folder (symbolic links are not followed)",
        ));
    }
    let mut scan = Scan {
        root: root.to_path_buf(),
        ..Scan::default()
    };
    scan.stamps
        .push((root.to_path_buf(), meta.modified().at(root)?));
    let mut blocks = Vec::new();
    for item in read_dir(root)? {
        let name = item.name;
        match item.kind {
            Kind::Dir if names::is_block_name(&name) => blocks.push(name),
            Kind::Dir => {}
            Kind::File if names::is_notebook_manifest(&name) => scan.notebook_manifests.push(name),
            Kind::File => {}
            Kind::Link => scan
                .skipped
                .push((name, "symbolic link (not followed)".into())),
        }
    }
    blocks.sort();
    let listings = crate::parallel::map_in_turns(&blocks, |block| list_block(root, block))
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    let parts = stat_entries(root, &listings)?;
    scan.entries
        .reserve_exact(parts.iter().map(|p| p.entries.len()).sum());
    for part in parts {
        scan.entries.extend(part.entries);
        scan.skipped.extend(part.skipped);
    }
    // In path order, which is the order of "<block>/<name>".
    scan.entries
        .sort_unstable_by(|a, b| a.rel_path.cmp(&b.rel_path));
    for listing in &listings {
        scan.stamps
            .push((root.join(&*listing.block), listing.stamp));
    }
    scan.incomplete = claim_blob_dirs(&mut scan.entries, &listings);
    debug_assert!(scan.entries.is_sorted_by(|a, b| a.rel_path < b.rel_path));
    scan.incomplete.sort();
    scan.skipped.sort();
    // Two lazy entries of one hash read the same blob folder; it is reported once.
    scan.skipped.dedup();
    scan.notebook_manifests.sort();
    Ok(scan)
}

/// One block folder's items, read but not yet stat'ed.
struct BlockListing {
    block: Arc<str>,
    stamp: SystemTime,
    items: Vec<Item>,
    /// The names of its folders: the blob folders of lazy entries.
    blob_dirs: HashSet<String>,
}

fn list_block(root: &Path, block: &str) -> Result<BlockListing> {
    let dir = root.join(block);
    let stamp = dir_time(&dir).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut items = read_dir(&dir)?;
    let mut blob_dirs = HashSet::new();
    items.retain_mut(|item| {
        let is_dir = item.kind == Kind::Dir;
        if is_dir {
            blob_dirs.insert(std::mem::take(&mut item.name));
        }
        !is_dir
    });
    Ok(BlockListing {
        block: Arc::from(block),
        stamp,
        items,
        blob_dirs,
    })
}

/// Items stat'ed by one worker at a time: small enough that workers finish together, large
/// enough that taking one costs nothing.
const ITEMS_PER_TURN: usize = 64;

/// Every block's items stat'ed on every worker, a few dozen at a time taken in turn: a listing
/// is mostly waiting on `stat`, a cache often has a few blocks of thousands of entries, and
/// lazy entries (a folder each) cost more than others. Entries come back unsorted.
fn stat_entries(root: &Path, listings: &[BlockListing]) -> Result<Vec<Scan>> {
    let turns: Vec<(&BlockListing, &[Item])> = listings
        .iter()
        .flat_map(|listing| {
            listing
                .items
                .chunks(ITEMS_PER_TURN)
                .map(move |items| (listing, items))
        })
        .collect();
    crate::parallel::map_in_turns(&turns, |(listing, items)| {
        let mut part = Scan::empty(root);
        for item in *items {
            stat_item(&mut part, listing, item)?;
        }
        Ok(part)
    })
    .into_iter()
    .collect()
}

/// One non-folder item of a block: an entry (with its blobs), a stray, or a temp file.
fn stat_item(part: &mut Scan, listing: &BlockListing, item: &Item) -> Result<()> {
    let block = &*listing.block;
    let rel = join_rel(block, &item.name);
    if item.kind == Kind::Link {
        part.skipped
            .push((rel, "symbolic link (not followed)".into()));
        return Ok(());
    }
    if names::is_temp_file(&item.name) {
        return Ok(());
    }
    let Some(name) = names::parse_entry_name(&item.name) else {
        part.skipped.push((rel, "not a marimo cache entry".into()));
        return Ok(());
    };
    let Some(meta) = item.metadata()? else {
        return Ok(());
    };
    let mut files = vec![FileStat::of(rel.clone(), &meta)];
    let mut blob_dir = None;
    if name.loader == Loader::Lazy && listing.blob_dirs.contains(&name.hash) {
        let dir_rel = join_rel(block, &name.hash);
        files.extend(blob_files(part, &dir_rel)?);
        blob_dir = Some(dir_rel);
    }
    part.entries.push(LegacyEntry {
        block: listing.block.clone(),
        name,
        id: entry_id(&rel),
        rel_path: rel,
        blob_dir,
        files,
    });
    Ok(())
}

/// Gives each blob folder to the first lazy entry of its hash in path order (marimo writes
/// one; a second is left without blobs, so pruning it never takes the first one's), and
/// returns the folders no entry has: interrupted writes.
fn claim_blob_dirs(entries: &mut [LegacyEntry], listings: &[BlockListing]) -> Vec<String> {
    let mut claimed = HashSet::new();
    for entry in entries.iter_mut() {
        if let Some(dir) = &entry.blob_dir
            && !claimed.insert(dir.clone())
        {
            entry.blob_dir = None;
            entry.files.truncate(1);
        }
    }
    listings
        .iter()
        .flat_map(|listing| {
            listing
                .blob_dirs
                .iter()
                .map(|dir| join_rel(&listing.block, dir))
        })
        .filter(|dir| !claimed.contains(dir))
        .collect()
}

/// `<dir>/<name>`, relative to the cache root.
fn join_rel(dir: &str, name: &str) -> String {
    let mut rel = String::with_capacity(dir.len() + 1 + name.len());
    rel.push_str(dir);
    rel.push('/');
    rel.push_str(name);
    rel
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    File,
    Dir,
    Link,
}

struct Item {
    name: String,
    kind: Kind,
    entry: fs::DirEntry,
}

impl Item {
    /// Stats relative to the open folder (cheaper than a full path); links not followed.
    /// `None` when the file vanished meanwhile.
    fn metadata(&self) -> Result<Option<Metadata>> {
        match self.entry.metadata() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            other => other.map(Some).at(&self.entry.path()),
        }
    }
}

/// Names and kinds in a folder, links not followed; names that are not UTF-8 are skipped
/// (marimo never writes them). Unsorted: listings are sorted once, at the end.
fn read_dir(dir: &Path) -> Result<Vec<Item>> {
    let mut items = Vec::with_capacity(64);
    for entry in fs::read_dir(dir).at(dir)? {
        let entry = entry.at(dir)?;
        let file_type = entry.file_type().at(&entry.path())?;
        let kind = if file_type.is_symlink() {
            Kind::Link
        } else if file_type.is_dir() {
            Kind::Dir
        } else {
            Kind::File
        };
        if let Ok(name) = entry.file_name().into_string() {
            items.push(Item { name, kind, entry });
        }
    }
    Ok(items)
}

/// The blobs of a lazy entry. Its folder's time is not watched: marimo fills it before the
/// manifest appears, and the manifest's arrival changes the block folder's time.
fn blob_files(scan: &mut Scan, dir_rel: &str) -> Result<Vec<FileStat>> {
    let dir = scan.root.join(dir_rel);
    let mut files = Vec::new();
    for item in read_dir(&dir)? {
        let rel = join_rel(dir_rel, &item.name);
        match item.kind {
            Kind::File if names::is_temp_file(&item.name) => {}
            Kind::File => files.extend(item.metadata()?.map(|m| FileStat::of(rel, &m))),
            Kind::Dir => scan
                .skipped
                .push((rel, "folder inside a blob folder".into())),
            Kind::Link => scan
                .skipped
                .push((rel, "symbolic link (not followed)".into())),
        }
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(files)
}
