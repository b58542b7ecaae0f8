//! Removing entries from marimo's cache folder, reversibly: whole entries (a lazy manifest
//! WITH its blob folder) move into `<cache>/.celltime-trash/<batch>/`, which records in
//! `manifest.json` what moved from where. Undo moves a batch back; emptying the trash deletes
//! batches. Nothing else in the cache folder is touched and no link is followed: every file
//! is checked, right before it moves, to be the regular file (same size and time) that was
//! listed.

use super::error::{AtPath, LegacyError, Result};
use super::scan::{FileStat, LegacyEntry};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const TRASH_DIR: &str = ".celltime-trash";
const BATCH_MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BatchManifest {
    version: u32,
    /// When the batch was made (RFC 3339 UTC).
    created_at: String,
    /// The cache folder the paths are relative to.
    cache_dir: String,
    entries: Vec<MovedEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct MovedEntry {
    id: String,
    /// The entry file, relative to the cache folder.
    entry: String,
    /// The lazy blob folder moved with it.
    blob_dir: Option<String>,
    size: u64,
}

/// What a move into the trash did.
#[derive(Debug, Clone, Default)]
pub struct Trashed {
    pub batch: PathBuf,
    pub moved: usize,
    /// The ids of the entries moved.
    pub ids: Vec<crate::model::EntryId>,
    pub bytes: u64,
    pub failures: Vec<String>,
}

fn trash_dir(root: &Path) -> PathBuf {
    root.join(TRASH_DIR)
}

/// The trash folder, refused when it is a link or not a folder: entries are never moved
/// (or deleted) through a link to somewhere outside the cache.
fn checked_trash_dir(root: &Path) -> Result<Option<PathBuf>> {
    let trash = trash_dir(root);
    match fs::symlink_metadata(&trash) {
        Ok(meta) if meta.file_type().is_dir() => Ok(Some(trash)),
        Ok(_) => Err(LegacyError::invalid(
            &trash,
            "is a symbolic link or not a folder; celltime never moves or deletes entries through it",
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).at(&trash),
    }
}

/// The name of a new batch: the time (sortable), then the start of the id of the operation
/// that makes it, so the operation log and the trash name each other.
pub fn batch_name(op_id: &str) -> String {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let op: String = op_id.chars().take(12).collect();
    format!("{stamp}-{op}")
}

/// Where batch `name` of the cache folder `root` is.
pub fn batch_path(root: &Path, name: &str) -> PathBuf {
    trash_dir(root).join(name)
}

/// The ids of the entries a batch holds, from its manifest.
pub fn batch_ids(batch: &Path) -> Result<Vec<crate::model::EntryId>> {
    let manifest = read_manifest(batch)?;
    Ok(manifest
        .entries
        .iter()
        .filter_map(|e| e.id.parse().ok())
        .collect())
}

/// A new, empty batch folder called `name` (see [`batch_name`]).
fn new_batch(root: &Path, name: &str) -> Result<PathBuf> {
    let trash = match checked_trash_dir(root)? {
        Some(trash) => trash,
        None => {
            let trash = trash_dir(root);
            fs::create_dir(&trash).at(&trash)?;
            trash
        }
    };
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(LegacyError::invalid(
            &trash,
            format!("{name:?} is not a batch name"),
        ));
    }
    let batch = trash.join(name);
    fs::create_dir(&batch).at(&batch)?;
    Ok(batch)
}

fn write_manifest(batch: &Path, manifest: &BatchManifest) -> Result<()> {
    let path = batch.join(BATCH_MANIFEST);
    let text = serde_json::to_string_pretty(manifest).expect("batch manifest serialises");
    fs::write(&path, text).at(&path)
}

/// A batch manifest lists at most a cache folder's entries: far below this.
const MAX_BATCH_MANIFEST_BYTES: u64 = 64 << 20;

fn read_manifest(batch: &Path) -> Result<BatchManifest> {
    let path = batch.join(BATCH_MANIFEST);
    let bytes = crate::store::fs::read_regular(&path, MAX_BATCH_MANIFEST_BYTES).at(&path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| LegacyError::invalid(&path, format!("not a celltime trash manifest: {e}")))
}

/// Moves `entries` into a new trash batch called `name`. An entry that changed since it was
/// listed (or whose files are not plain files any more) is skipped and reported, never moved.
pub fn move_to_trash(root: &Path, name: &str, entries: &[&LegacyEntry]) -> Result<Trashed> {
    let batch = new_batch(root, name)?;
    let mut manifest = BatchManifest {
        version: 1,
        created_at: crate::model::Timestamp::now().to_rfc3339(),
        cache_dir: root.display().to_string(),
        entries: entries.iter().map(|e| moved_entry(e)).collect(),
    };
    // Written first, so a crash halfway leaves a batch that says what it may hold.
    write_manifest(&batch, &manifest)?;
    let mut outcome = Trashed {
        batch: batch.clone(),
        ..Trashed::default()
    };
    let mut moved = Vec::new();
    for (entry, record) in entries.iter().zip(manifest.entries.drain(..)) {
        match unchanged(root, entry).and_then(|()| move_entry(root, &batch, entry)) {
            Ok(()) => {
                outcome.moved += 1;
                outcome.ids.push(entry.id());
                outcome.bytes += entry.size();
                moved.push(record);
            }
            Err(e) => outcome
                .failures
                .push(format!("{}: not removed: {e}", entry.rel_path)),
        }
    }
    manifest.entries = moved;
    if manifest.entries.is_empty() {
        fs::remove_file(batch.join(BATCH_MANIFEST)).at(&batch)?;
        remove_empty_dirs(&batch);
        remove_empty(&trash_dir(root));
    } else {
        write_manifest(&batch, &manifest)?;
    }
    Ok(outcome)
}

fn moved_entry(entry: &LegacyEntry) -> MovedEntry {
    MovedEntry {
        id: entry.id().to_hex(),
        entry: entry.rel_path.clone(),
        blob_dir: entry.blob_dir.clone(),
        size: entry.size(),
    }
}

/// Is every file of the entry still the regular file that was listed, and nothing added to
/// its blob folder?
fn unchanged(root: &Path, entry: &LegacyEntry) -> Result<()> {
    for file in &entry.files {
        check_file(root, file)?;
    }
    if let Some(dir_rel) = &entry.blob_dir {
        let dir = root.join(dir_rel);
        let meta = fs::symlink_metadata(&dir).at(&dir)?;
        if !meta.is_dir() {
            return Err(LegacyError::invalid(&dir, "no longer a folder"));
        }
        let listed: BTreeSet<String> = entry.blobs().iter().map(|b| b.rel.clone()).collect();
        for item in fs::read_dir(&dir).at(&dir)? {
            let name = item.at(&dir)?.file_name().to_string_lossy().into_owned();
            let rel = format!("{dir_rel}/{name}");
            if !listed.contains(&rel) && !super::names::is_temp_file(&name) {
                return Err(LegacyError::invalid(
                    &dir,
                    format!("{name} appeared since the listing"),
                ));
            }
        }
    }
    Ok(())
}

fn check_file(root: &Path, file: &FileStat) -> Result<()> {
    let path = root.join(&file.rel);
    let meta = fs::symlink_metadata(&path).at(&path)?;
    if !meta.is_file() {
        return Err(LegacyError::invalid(&path, "no longer a regular file"));
    }
    if meta.len() != file.size || meta.modified().ok() != Some(file.mtime) {
        return Err(LegacyError::invalid(&path, "changed since it was listed"));
    }
    Ok(())
}

/// The entry file first (so marimo sees a miss, not half an entry), then the blob folder.
fn move_entry(root: &Path, batch: &Path, entry: &LegacyEntry) -> Result<()> {
    let block_dir = batch.join(&*entry.block);
    fs::create_dir_all(&block_dir).at(&block_dir)?;
    rename(&root.join(&entry.rel_path), &batch.join(&entry.rel_path))?;
    if let Some(dir) = &entry.blob_dir {
        rename(&root.join(dir), &batch.join(dir))?;
    }
    Ok(())
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    if fs::symlink_metadata(to).is_ok() {
        return Err(LegacyError::invalid(
            to,
            "already exists; nothing was overwritten",
        ));
    }
    fs::rename(from, to).at(from)
}

/// What an undo did.
#[derive(Debug, Clone, Default)]
pub struct Restored {
    pub restored: usize,
    pub failures: Vec<String>,
}

/// Moves a batch back where it came from: blob folder first, then the entry file (marimo's
/// own write order). An entry whose place is taken again (marimo rewrote it) stays in the
/// trash and is reported.
pub fn restore(root: &Path, batch: &Path) -> Result<Restored> {
    check_batch_path(root, batch)?;
    let manifest = read_manifest(batch)?;
    let mut outcome = Restored::default();
    let mut left = Vec::new();
    for record in manifest.entries.iter().rev() {
        match restore_entry(root, batch, record) {
            Ok(()) => outcome.restored += 1,
            Err(e) => {
                outcome
                    .failures
                    .push(format!("{}: not restored: {e}", record.entry));
                left.push(record.clone());
            }
        }
    }
    if left.is_empty() {
        fs::remove_file(batch.join(BATCH_MANIFEST)).at(batch)?;
        remove_empty_dirs(batch);
        remove_empty(&trash_dir(root));
    } else if outcome.restored > 0 {
        // Rewritten only when something left it, so a failed undo changes nothing.
        left.reverse();
        write_manifest(
            batch,
            &BatchManifest {
                entries: left,
                ..manifest
            },
        )?;
    }
    Ok(outcome)
}

fn restore_entry(root: &Path, batch: &Path, record: &MovedEntry) -> Result<()> {
    for rel in record.blob_dir.iter().chain([&record.entry]) {
        check_relative(batch, rel)?;
    }
    let block = record.entry.split('/').next().unwrap_or_default();
    let block_dir = root.join(block);
    fs::create_dir_all(&block_dir).at(&block_dir)?;
    // A block folder replaced by a link would take the entry outside the cache.
    if !fs::symlink_metadata(&block_dir).at(&block_dir)?.is_dir() {
        return Err(LegacyError::invalid(
            &block_dir,
            "is a symbolic link or not a folder; links are never followed",
        ));
    }
    if fs::symlink_metadata(root.join(&record.entry)).is_ok() {
        return Err(LegacyError::invalid(
            &root.join(&record.entry),
            "marimo wrote this entry again",
        ));
    }
    if let Some(dir) = &record.blob_dir {
        rename(&batch.join(dir), &root.join(dir))?;
    }
    rename(&batch.join(&record.entry), &root.join(&record.entry))
}

/// Paths in a batch manifest are `<block>/<name>[/…]` with plain components: a damaged
/// manifest cannot move anything from or to elsewhere.
fn check_relative(batch: &Path, rel: &str) -> Result<()> {
    let plain = !rel.is_empty()
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\'));
    if plain && !rel.starts_with(TRASH_DIR) {
        Ok(())
    } else {
        Err(LegacyError::invalid(
            &batch.join(BATCH_MANIFEST),
            format!("refusing path {rel:?}"),
        ))
    }
}

fn check_batch_path(root: &Path, batch: &Path) -> Result<()> {
    if batch.parent() == Some(trash_dir(root).as_path()) {
        Ok(())
    } else {
        Err(LegacyError::invalid(
            batch,
            "not a trash batch of this cache folder",
        ))
    }
}

/// The bytes of the entries a batch holds, from its manifest.
pub fn batch_size(batch: &Path) -> Result<u64> {
    Ok(read_manifest(batch)?.entries.iter().map(|e| e.size).sum())
}

/// The trash batches, oldest first.
pub fn batches(root: &Path) -> Result<Vec<PathBuf>> {
    let Some(trash) = checked_trash_dir(root)? else {
        return Ok(Vec::new());
    };
    let items = fs::read_dir(&trash).at(&trash)?;
    let mut found = Vec::new();
    for item in items {
        let item = item.at(&trash)?;
        if item.file_type().at(&item.path())?.is_dir() && item.path().join(BATCH_MANIFEST).is_file()
        {
            found.push(item.path());
        }
    }
    found.sort();
    Ok(found)
}

/// How long removed entries stay undoable before [`reclaim`] deletes them: the same as the
/// store's default `gc_grace`, so a prune is undoable for a day on either backend.
pub const TRASH_GRACE: Duration = Duration::from_secs(24 * 3600);

/// Deletes every trash batch (and nothing else); returns how many.
pub fn empty_trash(root: &Path) -> Result<usize> {
    Ok(delete_batches(root, Duration::ZERO)?.0)
}

/// Deletes the batches older than `grace` (the store's `gc_grace`, else [`TRASH_GRACE`]);
/// returns the bytes their entries held.
pub fn reclaim(root: &Path, grace: Duration) -> Result<u64> {
    Ok(delete_batches(root, grace)?.1)
}

/// Deletes batches made more than `age` ago: (how many, bytes of their entries).
fn delete_batches(root: &Path, age: Duration) -> Result<(usize, u64)> {
    let now = crate::model::Timestamp::now();
    let (mut count, mut bytes) = (0, 0);
    for batch in batches(root)? {
        let manifest = read_manifest(&batch).ok();
        let made = manifest
            .as_ref()
            .and_then(|m| m.created_at.parse::<crate::model::Timestamp>().ok())
            .unwrap_or(now);
        if now.millis().saturating_sub(made.millis()) < age.as_millis() as i64 {
            continue;
        }
        // remove_dir_all does not follow links; it deletes them.
        fs::remove_dir_all(&batch).at(&batch)?;
        count += 1;
        bytes += manifest.map_or(0, |m| m.entries.iter().map(|e| e.size).sum());
    }
    remove_empty(&trash_dir(root));
    Ok((count, bytes))
}

fn remove_empty(dir: &Path) {
    let _ = fs::remove_dir(dir);
}

/// Removes the (now empty) folders a batch made; a folder that still holds anything stays.
fn remove_empty_dirs(batch: &Path) {
    if let Ok(items) = fs::read_dir(batch) {
        for item in items.flatten() {
            if item.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty(&item.path());
            }
        }
    }
    remove_empty(batch);
}
