//! Maintenance: consolidation (log into map), and gc (sweeping unreferenced contents,
//! compacting packs, removing stale temp files).

use super::load::{segment_names, stamp};
use super::{GcReport, Notebook};
use crate::model::ContentHash;
use crate::store::error::{IoContext, Result};
use crate::store::failpoint;
use crate::store::fs::{ItemKind, is_real_dir, write_atomic};
use crate::store::map::{self};
use crate::store::objects;
use crate::store::pack::{self, PACK_SUFFIX};
use crate::store::snapshot::{self, MapStamp};
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Log bytes not yet folded into the map past which [`Notebook::consolidate_if_due`] folds
/// them: every reader re-reads those records on open, and a writer that only appends reads
/// them on every write, so they are kept to what takes a few milliseconds to read.
pub const CONSOLIDATE_AFTER: u64 = 256 << 10;

impl Notebook {
    /// Consolidates once the log records not yet in the map pass [`CONSOLIDATE_AFTER`] bytes
    /// (as of the last read or write): the threshold step of writers that do not consolidate
    /// at exit, such as `celltime put`. Returns whether it consolidated.
    pub fn consolidate_if_due(&mut self) -> Result<bool> {
        if self.state.unfolded_log_bytes() < CONSOLIDATE_AFTER {
            return Ok(false);
        }
        self.consolidate()?;
        Ok(true)
    }

    /// Folds every log record into a new `map.toml` (atomically), then retires this machine's
    /// fully folded segments. The before_sync / on_exit step.
    pub fn consolidate(&mut self) -> Result<()> {
        let _lock = self.ctx.lock_exclusive(&self.paths)?;
        self.refresh_for_write()?;
        let fs = self.ctx.fs.clone();
        let log_dir = self.paths.log_dir();
        let segments = segment_names(&self.ctx, &log_dir)?;
        let data = &mut self.state.data;
        data.index.compact();
        data.log_pos = segments
            .iter()
            .map(|name| {
                (
                    name.clone(),
                    self.state.read_pos.get(name).copied().unwrap_or(0),
                )
            })
            .collect();
        data.merged.extend(self.state.merged_copies.iter().cloned());
        let text = map::render_map(data);
        let map_path = self.paths.map();
        write_atomic(fs.as_ref(), &map_path, text.as_bytes()).at(&map_path)?;
        failpoint::hit("consolidate.after_map");
        let map_hash = blake3::hash(text.as_bytes());
        if let Ok(item) = fs.metadata(&map_path) {
            snapshot::save(
                fs.as_ref(),
                &self.paths.index_dir(),
                &map_hash,
                MapStamp::of(&item),
                data,
            );
        }
        self.state.map_stamp = stamp(&self.ctx, &map_path);

        let mut retired = false;
        // Every record of this machine's segments is now in the map; bytes past a segment's
        // folded offset are a torn tail, never acknowledged, so the whole file can go.
        let retire = is_real_dir(fs.as_ref(), &log_dir);
        for name in segments.iter().filter(|n| retire && self.ctx.owns(n)) {
            let path = log_dir.join(name);
            fs.remove_file(&path).at(&path)?;
            self.state.read_pos.remove(name);
            self.state.data.log_pos.remove(name);
            if self.writer.segment.as_ref() == Some(name) {
                self.writer.segment = None;
            }
            retired = true;
        }
        if retired {
            fs.sync_dir(&log_dir).at(&log_dir)?;
        }
        failpoint::hit("consolidate.after_retire");
        Ok(())
    }

    /// Sweeps contents no entry references and compacts this machine's packs. Contents younger
    /// than `grace` are kept, so a writer re-using one at this moment never loses it; so are
    /// the contents of entries removed by operations younger than `grace` (the operation log),
    /// so those removals stay undoable.
    pub fn gc(&mut self, grace: Duration) -> Result<GcReport> {
        let _lock = self.ctx.lock_exclusive(&self.paths)?;
        self.refresh_for_write()?;
        let cutoff = SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let op_cutoff = crate::legacy::scan::timestamp_of(cutoff);
        let mut referenced: HashSet<ContentHash> =
            self.index().referenced_contents().into_keys().collect();
        referenced.extend(self.retained_by_operations(op_cutoff)?);
        let mut report = GcReport::default();
        self.sweep_objects(&referenced, cutoff, &mut report)?;
        failpoint::hit("gc.after_objects");
        self.compact_packs(&referenced, cutoff, &mut report)?;
        self.sweep_temp_files(cutoff, &mut report)?;
        Ok(report)
    }

    fn retained_by_operations(
        &self,
        cutoff: crate::model::Timestamp,
    ) -> Result<HashSet<ContentHash>> {
        let log = crate::ops::OpLog::in_dir(
            self.ctx.persist_dir().join(crate::ops::OPS_DIR),
            self.ctx.writer.clone(),
            self.ctx.fs.clone(),
        );
        log.retained(self.key.as_str(), cutoff)
    }

    /// Leftovers of interrupted atomic writes (`.tmp-…` files the store names itself, and the
    /// journals SQLite left beside them), once older than the grace period.
    fn sweep_temp_files(&self, cutoff: SystemTime, report: &mut GcReport) -> Result<()> {
        let fs = self.ctx.fs.as_ref();
        for dir in [
            self.paths.dir.clone(),
            self.paths.packs_dir(),
            self.paths.index_dir(),
        ] {
            let Ok(items) = fs.read_dir(&dir) else {
                continue;
            };
            let mut removed = false;
            for item in items {
                let stale = item.modified.is_some_and(|m| m <= cutoff);
                if item.kind == ItemKind::File && item.name.starts_with(".tmp-") && stale {
                    let path = dir.join(&item.name);
                    fs.remove_file(&path).at(&path)?;
                    report.temp_files_removed += 1;
                    removed = true;
                }
            }
            if removed {
                fs.sync_dir(&dir).at(&dir)?;
            }
        }
        Ok(())
    }

    fn sweep_objects(
        &self,
        referenced: &HashSet<ContentHash>,
        cutoff: SystemTime,
        report: &mut GcReport,
    ) -> Result<()> {
        let fs = self.ctx.fs.as_ref();
        let objects_dir = self.paths.objects_dir();
        if !is_real_dir(fs, &objects_dir) {
            if fs.metadata(&objects_dir).is_ok() {
                report.unknown_files.push(objects_dir);
            }
            return Ok(());
        }
        let mut touched = BTreeSet::new();
        let young = |modified: Option<SystemTime>| modified.is_none_or(|m| m > cutoff);
        for object in objects::list(fs, &objects_dir)? {
            if object.temp {
                if !young(object.modified) {
                    fs.remove_file(&object.path).at(&object.path)?;
                    report.temp_files_removed += 1;
                    touched.extend(object.path.parent().map(PathBuf::from));
                }
                continue;
            }
            let Some(hash) = object.hash else {
                report.unknown_files.push(object.path);
                continue;
            };
            if referenced.contains(&hash) {
                continue;
            }
            if young(object.modified) {
                report.young_garbage_kept += 1;
                continue;
            }
            fs.remove_file(&object.path).at(&object.path)?;
            report.swept.push(hash);
            report.objects_removed += 1;
            report.object_bytes_freed += object.len;
            touched.extend(object.path.parent().map(PathBuf::from));
        }
        for dir in touched {
            fs.sync_dir(&dir).at(&dir)?;
        }
        Ok(())
    }

    /// Copies the live rows of this machine's settled packs into one new pack, then deletes
    /// the old ones. Packs of other machines are theirs to compact.
    fn compact_packs(
        &mut self,
        referenced: &HashSet<ContentHash>,
        cutoff: SystemTime,
        report: &mut GcReport,
    ) -> Result<()> {
        let fs = self.ctx.fs.clone();
        let dir = self.paths.packs_dir();
        if !is_real_dir(fs.as_ref(), &dir) {
            if fs.metadata(&dir).is_ok() {
                report.unknown_files.push(dir);
            }
            return Ok(());
        }
        let mut settled = Vec::new();
        for item in fs.read_dir(&dir).unwrap_or_default() {
            let ours = item.kind == ItemKind::File
                && item.name.ends_with(PACK_SUFFIX)
                && self.ctx.owns(&item.name);
            if ours && item.modified.is_some_and(|m| m <= cutoff) {
                settled.push(item.name);
            }
        }
        let mut live: Vec<(ContentHash, Vec<u8>)> = Vec::new();
        let mut kept = HashSet::new();
        let mut garbage = 0;
        for name in &settled {
            let path = dir.join(name);
            pack::for_each_row(&path, u64::MAX, |hash, size, bytes| {
                let bytes = bytes.unwrap_or_default();
                match hash.parse::<ContentHash>() {
                    Ok(h) if referenced.contains(&h) && ContentHash::of(bytes) == h => {
                        if kept.insert(h) {
                            live.push((h, bytes.to_vec()));
                        }
                    }
                    parsed => {
                        report.swept.extend(parsed.ok());
                        garbage += 1;
                        report.pack_rows_dropped += 1;
                        report.pack_bytes_dropped += size;
                    }
                }
                Ok(())
            })?;
        }
        if settled.len() < 2 && garbage == 0 {
            return Ok(());
        }
        if !live.is_empty() {
            let name = format!("{}{PACK_SUFFIX}", self.ctx.new_file_stem());
            let items: Vec<(ContentHash, &[u8])> =
                live.iter().map(|(h, b)| (*h, b.as_slice())).collect();
            pack::insert(fs.as_ref(), &dir.join(name), &items)?;
        }
        failpoint::hit("gc.after_pack_write");
        for name in &settled {
            let path = dir.join(name);
            fs.remove_file(&path).at(&path)?;
        }
        fs.sync_dir(&dir).at(&dir)?;
        failpoint::hit("gc.after_pack_delete");
        report.packs_compacted = settled.len();
        self.writer.pack = None;
        self.writer.pack_writer = None;
        Ok(())
    }
}
