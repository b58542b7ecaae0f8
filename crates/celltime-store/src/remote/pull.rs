//! `pull`: download the contents the local maps reference that this machine lacks, each
//! checked against its BLAKE3 address before it is stored.

use super::catalog::Catalog;
use super::push::SOLO_FROM;
use super::{
    CONCURRENCY, Core, NotebookTransfer, Phase, Progress, Remote, RemoteError, Result,
    TransferReport,
};
use crate::model::ContentHash;
use crate::store::{Importer, Notebook, Store};
use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Notebook globs (`analysis/*`); all notebooks when empty.
    pub notebooks: Vec<String>,
    /// Only the runs of these cells; all cells when empty.
    pub cells: Vec<String>,
}

/// Small contents are stored in batches of about this many bytes (one pack transaction each).
const STORE_BATCH: u64 = 8 * 1024 * 1024;

enum Got {
    Bytes(ContentHash, bytes::Bytes),
    /// Streamed into its object file already: its size.
    Stored(u64),
    Failed(ContentHash, RemoteError),
}

impl Remote {
    /// Downloads what the selected notebooks (and cells) reference and this machine lacks.
    /// Idempotent, and resumable: what an interrupted pull stored is not fetched again.
    pub fn pull(
        &self,
        store: &Store,
        options: &PullOptions,
        progress: Arc<dyn Progress>,
    ) -> Result<TransferReport> {
        let started = Instant::now();
        let mut report = TransferReport::new(self);
        let mut marker_checked = false;
        for key in self.select(store, &options.notebooks)? {
            let notebook = store.notebook(&key)?;
            let wanted = wanted_contents(&notebook, &options.cells);
            let held = notebook.held_contents()?;
            let need: HashMap<ContentHash, u64> = wanted
                .iter()
                .filter(|(h, _)| !held.contains(h))
                .map(|(h, s)| (*h, *s))
                .collect();
            let mut transfer = NotebookTransfer {
                notebook: key.to_string(),
                already_there: (wanted.len() - need.len()) as u64,
                ..NotebookTransfer::default()
            };
            if !need.is_empty() {
                if !marker_checked && !self.check_marker()? {
                    return Err(self.object_error(
                        &self.path([super::MARKER]),
                        "this remote holds no celltime contents yet: push to it first",
                    ));
                }
                marker_checked = true;
                self.pull_notebook(&notebook, &need, &progress, &mut transfer)?;
            }
            report.add(transfer);
        }
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    fn pull_notebook(
        &self,
        notebook: &Notebook,
        need: &HashMap<ContentHash, u64>,
        progress: &Arc<dyn Progress>,
        report: &mut NotebookTransfer,
    ) -> Result<()> {
        let key = notebook.key().clone();
        progress.phase(key.as_str(), Phase::Listing);
        let catalog = self.block_on(self.catalog(&key))?;
        let mut unavailable: Vec<String> = Vec::new();
        // Each content is tried at its first location, then at the next one if that failed.
        let mut attempt: HashMap<ContentHash, usize> = HashMap::new();
        for hash in need.keys() {
            if catalog.readable(*hash) {
                attempt.insert(*hash, 0);
            } else {
                unavailable.push(hash.to_hex());
            }
        }
        progress.phase(key.as_str(), Phase::Transferring);
        progress.add_total(attempt.len() as u64, attempt.keys().map(|h| need[h]).sum());
        let mut last_errors: Vec<RemoteError> = Vec::new();
        while !attempt.is_empty() {
            let failed = self.fetch_round(notebook, &catalog, &attempt, progress, report)?;
            let mut next = HashMap::new();
            for (hash, error) in failed {
                let tried = attempt[&hash] + 1;
                if tried < catalog.locations(hash).len() {
                    next.insert(hash, tried);
                } else {
                    last_errors.push(error);
                }
            }
            attempt = next;
        }
        unavailable.sort();
        report.unavailable = unavailable;
        match last_errors.into_iter().next() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Fetches every content of `attempt` from its current location; stores what hashes
    /// right and returns what failed.
    fn fetch_round(
        &self,
        notebook: &Notebook,
        catalog: &Catalog,
        attempt: &HashMap<ContentHash, usize>,
        progress: &Arc<dyn Progress>,
        report: &mut NotebookTransfer,
    ) -> Result<Vec<(ContentHash, RemoteError)>> {
        let mut by_bundle: HashMap<ObjectPath, Vec<(ContentHash, Range<u64>)>> = HashMap::new();
        for (hash, tried) in attempt {
            let (bundle, range) = catalog.locations(*hash).swap_remove(*tried);
            by_bundle
                .entry(bundle.listed.path.clone())
                .or_default()
                .push((*hash, range));
        }
        let (sender, receiver) = mpsc::channel::<Got>();
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        report.objects += by_bundle.len() as u64;
        for (path, items) in by_bundle {
            let (large, small): (Vec<_>, Vec<_>) = items
                .into_iter()
                .partition(|(_, r)| r.end - r.start > SOLO_FROM);
            for (hash, range) in large {
                let job = StreamJob {
                    remote: self.core.clone(),
                    path: path.clone(),
                    hash,
                    range,
                    importer: notebook.importer(),
                    progress: progress.clone(),
                };
                let (sender, permits) = (sender.clone(), permits.clone());
                self.runtime.spawn(async move {
                    let _permit = permits.acquire_owned().await.expect("open semaphore");
                    let got = match job.run().await {
                        Ok(size) => Got::Stored(size),
                        Err(e) => Got::Failed(job.hash, e),
                    };
                    let _ = sender.send(got);
                });
            }
            if small.is_empty() {
                continue;
            }
            let remote = self.core.clone();
            let (sender, permits) = (sender.clone(), permits.clone());
            self.runtime.spawn(async move {
                let _permit = permits.acquire_owned().await.expect("open semaphore");
                let ranges: Vec<Range<u64>> = small.iter().map(|(_, r)| r.clone()).collect();
                match remote.get_ranges(&path, &ranges).await {
                    Ok(parts) => {
                        for ((hash, _), bytes) in small.into_iter().zip(parts) {
                            let got = if ContentHash::of(&bytes) == hash {
                                Got::Bytes(hash, bytes)
                            } else {
                                Got::Failed(hash, remote.tampered(&path, hash))
                            };
                            let _ = sender.send(got);
                        }
                    }
                    Err(e) => {
                        let message = match e {
                            RemoteError::Object { message, .. } => message,
                            other => other.to_string(),
                        };
                        for (hash, _) in small {
                            let error = remote.object_error(&path, message.clone());
                            let _ = sender.send(Got::Failed(hash, error));
                        }
                    }
                }
            });
        }
        drop(sender);
        let mut batch: Vec<(ContentHash, bytes::Bytes)> = Vec::new();
        let mut batch_bytes = 0u64;
        let mut failed = Vec::new();
        let store = |batch: &mut Vec<(ContentHash, bytes::Bytes)>,
                     report: &mut NotebookTransfer|
         -> Result<()> {
            let items: Vec<(ContentHash, &[u8])> =
                batch.iter().map(|(h, b)| (*h, b.as_ref())).collect();
            notebook.store_contents(&items)?;
            let bytes: u64 = items.iter().map(|(_, b)| b.len() as u64).sum();
            report.contents += items.len() as u64;
            report.bytes += bytes;
            progress.advance(items.len() as u64, bytes);
            batch.clear();
            Ok(())
        };
        for got in receiver {
            match got {
                Got::Bytes(hash, bytes) => {
                    batch_bytes += bytes.len() as u64;
                    batch.push((hash, bytes));
                    if batch_bytes >= STORE_BATCH {
                        store(&mut batch, report)?;
                        batch_bytes = 0;
                    }
                }
                Got::Stored(size) => {
                    report.contents += 1;
                    report.bytes += size;
                    progress.advance(1, 0);
                }
                Got::Failed(hash, error) => failed.push((hash, error)),
            }
        }
        store(&mut batch, report)?;
        Ok(failed)
    }
}

/// A large content streamed from its bundle straight into its object file.
struct StreamJob {
    remote: Arc<Core>,
    path: ObjectPath,
    hash: ContentHash,
    range: Range<u64>,
    importer: Importer,
    progress: Arc<dyn Progress>,
}

impl StreamJob {
    async fn run(&self) -> Result<u64> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(self.range.clone())),
            ..GetOptions::default()
        };
        let request = |e: object_store::Error| self.remote.request_error(&self.path, &e);
        let result = self
            .remote
            .endpoint
            .client
            .get_opts(&self.path, options)
            .await
            .map_err(request)?;
        let mut stream = result.into_stream();
        let mut writer = self.importer.object_writer(self.hash)?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(request)?;
            writer.write(&chunk)?;
            self.progress.advance(0, chunk.len() as u64);
        }
        writer
            .commit()
            .map_err(|_| self.remote.tampered(&self.path, self.hash))?;
        Ok(self.range.end - self.range.start)
    }
}

/// The contents the notebook's entries reference (only those of `cells`, when given).
fn wanted_contents(notebook: &Notebook, cells: &[String]) -> HashMap<ContentHash, u64> {
    let index = notebook.index();
    if cells.is_empty() {
        return index.referenced_contents();
    }
    let cells: HashSet<&str> = cells.iter().map(String::as_str).collect();
    index
        .views()
        .iter()
        .filter(|view| cells.contains(view.cell))
        .flat_map(|view| index.contents_of(view))
        .collect()
}
