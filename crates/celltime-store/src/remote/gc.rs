//! `gc --remote`: delete remote contents no map references, in two phases a grace period
//! apart, so that no machine's push can lose a content it relies on (docs/FORMAT.md §17.7).
//!
//! 1. Mark: bundles older than the grace period whose every content is dead (or has a copy
//!    in another bundle) are listed in a new mark; mostly dead bundles are first repacked.
//! 2. Sweep: a bundle a mark condemned at least the grace period ago is deleted if, against
//!    the roots present now, it still holds nothing live without a copy elsewhere.
//!
//! Live means referenced by this machine's maps, by each writer's newest roots file, or by
//! any roots file younger than the grace period. All times are the remote's clock.

use super::bundle::BundleBuilder;
use super::catalog::{Bundle, Catalog, Listed};
use super::records::{MARK_SCHEMA, Mark, decode_roots};
use super::{BUNDLE_SUFFIX, CONCURRENCY, Core, LOG, MARK_SUFFIX, PACKS, Remote, Result};
use crate::model::{ContentHash, NotebookKey};
use crate::store::{Notebook, Store};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct RemoteGcOptions {
    /// Nothing younger than this is condemned, and a mark is swept only this long after it
    /// was written.
    pub grace: Duration,
    /// Notebook globs; all notebooks of the local store when empty.
    pub notebooks: Vec<String>,
}

/// What `gc --remote` did to one notebook's remote folder.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NotebookGc {
    pub notebook: String,
    /// Bundles condemned by this run's mark (deleted by a run a grace period later).
    pub bundles_condemned: usize,
    /// Mostly dead bundles whose live contents were copied into a new bundle first.
    pub bundles_repacked: usize,
    pub bundles_deleted: usize,
    pub freed_bytes: u64,
    /// Condemned bundles kept because a push re-used one of their contents.
    pub bundles_rescued: usize,
    /// Condemned bundles whose mark is younger than the grace period.
    pub bundles_waiting: usize,
    /// Unreferenced bundles younger than the grace period.
    pub young_kept: usize,
    pub roots_deleted: usize,
    pub marks_deleted: usize,
    /// Objects of the folder celltime does not know (never deleted).
    pub unknown: Vec<String>,
}

/// What `gc --remote` did (the CLI prints it as `celltime.remote-gc.v1`).
#[derive(Debug, Clone, Serialize)]
pub struct RemoteGcReport {
    pub remote: String,
    pub url: String,
    pub notebooks: Vec<NotebookGc>,
    pub bundles_deleted: usize,
    pub freed_bytes: u64,
}

impl Remote {
    pub fn gc(&self, store: &Store, options: &RemoteGcOptions) -> Result<RemoteGcReport> {
        if !self.check_marker()? {
            return Err(self.object_error(
                &self.path([super::MARKER]),
                "not a celltime remote (no marker): nothing is deleted",
            ));
        }
        let mut report = RemoteGcReport {
            remote: self.name().to_string(),
            url: self.url().to_string(),
            notebooks: Vec::new(),
            bundles_deleted: 0,
            freed_bytes: 0,
        };
        let grace = chrono::Duration::from_std(options.grace).unwrap_or(chrono::Duration::MAX);
        for key in self.select(store, &options.notebooks)? {
            let mut notebook = store.notebook(&key)?;
            let mut done = NotebookGc {
                notebook: key.to_string(),
                ..NotebookGc::default()
            };
            self.mark(&mut notebook, grace, &mut done)?;
            self.sweep(&mut notebook, grace, &mut done)?;
            report.bundles_deleted += done.bundles_deleted;
            report.freed_bytes += done.freed_bytes;
            report.notebooks.push(done);
        }
        Ok(report)
    }

    fn mark(
        &self,
        notebook: &mut Notebook,
        grace: chrono::Duration,
        done: &mut NotebookGc,
    ) -> Result<()> {
        let key = notebook.key().clone();
        let cutoff = self.block_on(self.server_now(&key))? - grace;
        let catalog = self.block_on(self.catalog(&key))?;
        notebook.reload()?;
        let live = self.block_on(self.live(notebook, &catalog, cutoff))?;
        done.unknown = catalog
            .unknown
            .iter()
            .filter(|l| !l.name.ends_with(".clock"))
            .map(|l| self.describe_path(&l.path))
            .collect();
        let mut condemned: HashSet<&str> = HashSet::new();
        let mut repack = BundleBuilder::default();
        let mut repacked: HashSet<ContentHash> = HashSet::new();
        let mut oldest_first: Vec<&Bundle> = catalog.bundles.iter().collect();
        oldest_first.sort_by_key(|b| b.listed.modified);
        for bundle in oldest_first {
            let name = bundle.listed.name.as_str();
            if catalog.is_condemned(name) {
                continue;
            }
            let table = match &bundle.table {
                Ok(table) if bundle.listed.modified <= cutoff => table,
                Err(_) if bundle.listed.modified <= cutoff => {
                    condemned.insert(name);
                    continue;
                }
                _ => {
                    done.young_kept += usize::from(bundle.table.is_ok());
                    continue;
                }
            };
            let alive: Vec<_> = table
                .rows
                .iter()
                .filter(|(hash, _)| {
                    live.contains(hash)
                        && !repacked.contains(hash)
                        && !copy_elsewhere(&catalog, *hash, name, &condemned)
                })
                .collect();
            if alive.is_empty() {
                condemned.insert(name);
                continue;
            }
            let alive_bytes: u64 = alive.iter().map(|(_, r)| r.end - r.start).sum();
            let all_bytes: u64 = table.rows.iter().map(|(_, r)| r.end - r.start).sum();
            if alive_bytes * 2 < all_bytes && alive_bytes < super::push::SOLO_FROM {
                let ranges: Vec<_> = alive.iter().map(|(_, r)| r.clone()).collect();
                let parts = self.block_on(self.get_ranges(&bundle.listed.path, &ranges))?;
                for ((hash, _), bytes) in alive.iter().zip(parts) {
                    if ContentHash::of(&bytes) != *hash {
                        return Err(self.tampered(&bundle.listed.path, *hash));
                    }
                    repacked.insert(*hash);
                    repack.push(*hash, &bytes);
                }
                condemned.insert(name);
                done.bundles_repacked += 1;
                if repack.size() >= super::push::BUNDLE_TARGET {
                    self.upload_repack(&key, std::mem::take(&mut repack))?;
                }
            }
        }
        // The copies are written before the mark that condemns their old bundles.
        if !repack.is_empty() {
            self.upload_repack(&key, repack)?;
        }
        if condemned.is_empty() {
            return Ok(());
        }
        let mut bundles: Vec<String> = condemned.iter().map(|s| s.to_string()).collect();
        bundles.sort();
        done.bundles_condemned = bundles.len();
        let mark = Mark {
            schema: MARK_SCHEMA.to_string(),
            notebook: key.to_string(),
            bundles,
        };
        let path = self.notebook_path(&key, LOG, &format!("{}{MARK_SUFFIX}", self.new_stem()));
        let text = serde_json::to_vec_pretty(&mark).expect("a mark serialises");
        self.block_on(self.put_object(&path, text))
    }

    fn upload_repack(&self, key: &NotebookKey, repack: BundleBuilder) -> Result<()> {
        let name = format!("{}{BUNDLE_SUFFIX}", self.new_stem());
        let path = self.notebook_path(key, PACKS, &name);
        let (bytes, _) = repack.finish();
        self.block_on(self.put_object(&path, bytes))
    }

    fn sweep(
        &self,
        notebook: &mut Notebook,
        grace: chrono::Duration,
        done: &mut NotebookGc,
    ) -> Result<()> {
        let key = notebook.key().clone();
        let cutoff = self.block_on(self.server_now(&key))? - grace;
        // A fresh listing: roots written since the mark protect what they reference.
        let catalog = self.block_on(self.catalog(&key))?;
        notebook.reload()?;
        let live = self.block_on(self.live(notebook, &catalog, cutoff))?;
        let bundles: HashMap<&str, &Bundle> = catalog
            .bundles
            .iter()
            .map(|b| (b.listed.name.as_str(), b))
            .collect();
        for (listed, mark) in &catalog.marks {
            let due = listed.modified <= cutoff;
            let mut remaining = 0;
            for name in &mark.bundles {
                let Some(bundle) = bundles.get(name.as_str()) else {
                    continue;
                };
                if !due {
                    done.bundles_waiting += 1;
                    remaining += 1;
                    continue;
                }
                let needed = bundle.table.as_ref().is_ok_and(|table| {
                    table.rows.iter().any(|(hash, _)| {
                        live.contains(hash)
                            && !copy_elsewhere(&catalog, *hash, name, &HashSet::new())
                    })
                });
                if needed {
                    done.bundles_rescued += 1;
                    remaining += 1;
                    continue;
                }
                self.block_on(self.delete_object(&bundle.listed.path))?;
                done.bundles_deleted += 1;
                done.freed_bytes += bundle.listed.size;
            }
            if due && remaining == 0 {
                self.block_on(self.delete_object(&listed.path))?;
                done.marks_deleted += 1;
            }
        }
        let live_roots: HashSet<&str> = live_roots(&catalog, cutoff)
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        for roots in &catalog.roots {
            if !live_roots.contains(roots.name.as_str()) {
                self.block_on(self.delete_object(&roots.path))?;
                done.roots_deleted += 1;
            }
        }
        for stale in catalog
            .unknown
            .iter()
            .filter(|l| l.name.ends_with(".clock") && l.modified <= cutoff)
        {
            self.block_on(self.delete_object(&stale.path))?;
        }
        Ok(())
    }
}

impl Core {
    /// Every content a live root or this machine's maps reference.
    async fn live(
        &self,
        notebook: &Notebook,
        catalog: &Catalog,
        cutoff: DateTime<Utc>,
    ) -> Result<HashSet<ContentHash>> {
        let mut live: HashSet<ContentHash> =
            notebook.index().referenced_contents().into_keys().collect();
        let roots = live_roots(catalog, cutoff);
        let read: Vec<Vec<ContentHash>> =
            futures::stream::iter(roots.into_iter().map(|listed| async move {
                let bytes = self.get_range(&listed.path, 0..listed.size).await?;
                decode_roots(&bytes).map_err(|why| self.object_error(&listed.path, why))
            }))
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        live.extend(read.into_iter().flatten());
        Ok(live)
    }
}

/// The roots that count: each writer's newest (by the time in its name), and every one
/// younger than the grace period.
fn live_roots(catalog: &Catalog, cutoff: DateTime<Utc>) -> Vec<&Listed> {
    let mut newest: HashMap<&str, &Listed> = HashMap::new();
    for roots in &catalog.roots {
        let slot = newest.entry(roots.writer()).or_insert(roots);
        if (roots.named_time(), roots.modified) > (slot.named_time(), slot.modified) {
            *slot = roots;
        }
    }
    catalog
        .roots
        .iter()
        .filter(|r| r.modified > cutoff || newest.get(r.writer()).is_some_and(|n| n.name == r.name))
        .collect()
}

/// Is `hash` also in a usable bundle other than `bundle`, one no mark (nor this run) condemns?
fn copy_elsewhere(
    catalog: &Catalog,
    hash: ContentHash,
    bundle: &str,
    condemned: &HashSet<&str>,
) -> bool {
    catalog.locations(hash).iter().any(|(other, _)| {
        let name = other.listed.name.as_str();
        name != bundle && !catalog.is_condemned(name) && !condemned.contains(name)
    })
}
