//! Finding the cache folder and listing its entries, without reading any entry.
//!
//! Layout (reference §2): `<root>/<block>/<P>_<hash>.<ext>`, and for lazy entries the blob
//! folder `<root>/<block>/<hash>/`. A lazy manifest and its blob folder are ONE entry. Nothing
//! here follows a symbolic link: links are reported and left alone.

use super::error::{AtPath, LegacyError, Result};
use super::names::{self, EntryName, Loader};
use crate::model::{EntryId, Timestamp};
use std::fs::{self, Metadata};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The cache folder of a workspace: `--cache-dir` when given, else `__marimo__/cache`.
pub fn cache_root(workspace: &Path, cache_dir: Option<&Path>) -> PathBuf {
    match cache_dir {
        Some(dir) if dir.is_absolute() => dir.to_path_buf(),
        Some(dir) => std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
        None => workspace.join("__marimo__").join("cache"),
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
    pub block: String,
    pub name: EntryName,
    /// `<block>/<file name>`.
    pub rel_path: String,
    /// `<block>/<hash>` when the entry is lazy and the folder exists.
    pub blob_dir: Option<String>,
    /// The entry file first, then the blobs by name.
    pub files: Vec<FileStat>,
}

impl LegacyEntry {
    /// Stable across runs and file times: derived from the relative path alone.
    pub fn id(&self) -> EntryId {
        entry_id(&self.rel_path)
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
    pub fn stem(&self) -> String {
        format!("{}_{}", self.name.prefix, self.name.hash)
    }
}

pub fn entry_id(rel_path: &str) -> EntryId {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"celltime-legacy-entry-v1\0");
    hasher.update(rel_path.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
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
    pub fn is_current(&self) -> bool {
        !self.stamps.is_empty()
            && self
                .stamps
                .iter()
                .all(|(dir, time)| dir_time(dir).is_some_and(|t| t == *time))
    }

    pub fn find(&self, id: EntryId) -> Option<&LegacyEntry> {
        self.entries.iter().find(|e| e.id() == id)
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
    for (name, kind) in read_dir(root)? {
        match kind {
            Kind::Dir if names::is_block_name(&name) => scan_block(&mut scan, &name)?,
            Kind::Dir => {}
            Kind::File if names::is_notebook_manifest(&name) => scan.notebook_manifests.push(name),
            Kind::File => {}
            Kind::Link => scan
                .skipped
                .push((name, "symbolic link (not followed)".into())),
        }
    }
    scan.entries.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    scan.incomplete.sort();
    scan.notebook_manifests.sort();
    Ok(scan)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    File,
    Dir,
    Link,
}

/// Names and kinds in a folder, links not followed; names that are not UTF-8 are skipped
/// (marimo never writes them).
fn read_dir(dir: &Path) -> Result<Vec<(String, Kind)>> {
    let mut items = Vec::new();
    for item in fs::read_dir(dir).at(dir)? {
        let item = item.at(dir)?;
        let file_type = item.file_type().at(&item.path())?;
        let kind = if file_type.is_symlink() {
            Kind::Link
        } else if file_type.is_dir() {
            Kind::Dir
        } else {
            Kind::File
        };
        if let Ok(name) = item.file_name().into_string() {
            items.push((name, kind));
        }
    }
    items.sort();
    Ok(items)
}

fn scan_block(scan: &mut Scan, block: &str) -> Result<()> {
    let dir = scan.root.join(block);
    let stamp = dir_time(&dir).unwrap_or(SystemTime::UNIX_EPOCH);
    scan.stamps.push((dir.clone(), stamp));
    let items = read_dir(&dir)?;
    let mut blob_dirs: Vec<String> = items
        .iter()
        .filter(|(_, k)| *k == Kind::Dir)
        .map(|(n, _)| n.clone())
        .collect();
    for (name, kind) in &items {
        let rel = format!("{block}/{name}");
        match kind {
            Kind::Link => scan
                .skipped
                .push((rel, "symbolic link (not followed)".into())),
            Kind::Dir => {}
            Kind::File if names::is_temp_file(name) => {}
            Kind::File => match names::parse_entry_name(name) {
                Some(entry_name) => {
                    let entry = read_entry(scan, block, entry_name, rel, &mut blob_dirs)?;
                    scan.entries.extend(entry);
                }
                None => scan.skipped.push((rel, "not a marimo cache entry".into())),
            },
        }
    }
    scan.incomplete
        .extend(blob_dirs.into_iter().map(|d| format!("{block}/{d}")));
    Ok(())
}

/// An entry file and, for a lazy entry, its blob folder (taken out of `blob_dirs`).
/// A file that vanished since the folder was read is no entry.
fn read_entry(
    scan: &mut Scan,
    block: &str,
    name: EntryName,
    rel: String,
    blob_dirs: &mut Vec<String>,
) -> Result<Option<LegacyEntry>> {
    let path = scan.root.join(&rel);
    let meta = match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        other => other.at(&path)?,
    };
    let mut files = vec![FileStat::of(rel.clone(), &meta)];
    let mut blob_dir = None;
    if name.loader == Loader::Lazy
        && let Some(at) = blob_dirs.iter().position(|d| *d == name.hash)
    {
        blob_dirs.remove(at);
        let dir_rel = format!("{block}/{}", name.hash);
        files.extend(blob_files(scan, &dir_rel)?);
        blob_dir = Some(dir_rel);
    }
    Ok(Some(LegacyEntry {
        block: block.to_string(),
        name,
        rel_path: rel,
        blob_dir,
        files,
    }))
}

fn blob_files(scan: &mut Scan, dir_rel: &str) -> Result<Vec<FileStat>> {
    let dir = scan.root.join(dir_rel);
    scan.stamps.push((
        dir.clone(),
        dir_time(&dir).unwrap_or(SystemTime::UNIX_EPOCH),
    ));
    let mut files = Vec::new();
    for (name, kind) in read_dir(&dir)? {
        let rel = format!("{dir_rel}/{name}");
        match kind {
            Kind::File if names::is_temp_file(&name) => {}
            Kind::File => {
                let path = dir.join(&name);
                match fs::symlink_metadata(&path) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    other => files.push(FileStat::of(rel, &other.at(&path)?)),
                }
            }
            Kind::Dir => scan
                .skipped
                .push((rel, "folder inside a blob folder".into())),
            Kind::Link => scan
                .skipped
                .push((rel, "symbolic link (not followed)".into())),
        }
    }
    Ok(files)
}
