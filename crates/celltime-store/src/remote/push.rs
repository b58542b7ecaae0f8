//! `push`: upload every content the notebooks' maps reference that the remote lacks, in
//! bundles, then commit a roots file and check the remote again (see docs/FORMAT.md §17.5).

use super::bundle::{self, BundleBuilder};
use super::catalog::{Catalog, ROOTS_TIME};
use super::records::encode_roots;
use super::{
    BUNDLE_SUFFIX, CONCURRENCY, Core, LOG, NotebookTransfer, PACKS, Phase, Progress, ROOTS_SUFFIX,
    Remote, RemoteError, Result, TransferReport,
};
use crate::model::{ContentHash, NotebookKey};
use crate::store::fs::{open_regular, read_regular};
use crate::store::{Notebook, Store, failpoint};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, WriteMultipart};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

/// Small contents are gathered into bundles of about this size.
pub(crate) const BUNDLE_TARGET: u64 = 8 * 1024 * 1024;
/// Contents larger than this travel alone, streamed in parts.
pub(crate) const SOLO_FROM: u64 = 4 * 1024 * 1024;
/// Part size of streamed uploads (S3 wants at least 5 MiB per part but the last).
const PART: usize = 8 * 1024 * 1024;
/// A content up to this size travels in one PUT by default (as rclone's and aws's cutoffs
/// do): a multipart upload costs the server a second pass over the bytes to join the parts.
pub const ONE_REQUEST_UP_TO: u64 = 128 * 1024 * 1024;
/// How many MiB of large contents may sit in memory at once for one-request uploads.
const MEMORY_MIB: u32 = 512;
/// Rounds of upload-commit-check before a push gives up on a remote that keeps losing data.
const MAX_ROUNDS: usize = 5;

#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Notebook globs (`analysis/*`); all notebooks when empty.
    pub notebooks: Vec<String>,
    /// Larger contents are uploaded in parts, streamed from their files (default 128 MiB).
    pub one_request_up_to: u64,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            notebooks: Vec::new(),
            one_request_up_to: ONE_REQUEST_UP_TO,
        }
    }
}

type Upload = JoinHandle<Result<(u64, u64)>>;

impl Remote {
    /// Uploads every content the selected notebooks reference that the remote lacks.
    /// Idempotent, and resumable: an interrupted push left whole bundles, which the next one
    /// counts as there.
    pub fn push(
        &self,
        store: &Store,
        options: &PushOptions,
        progress: Arc<dyn Progress>,
    ) -> Result<TransferReport> {
        let started = Instant::now();
        let mut report = TransferReport::new(self);
        let keys = self.select(store, &options.notebooks)?;
        self.ensure_marker()?;
        for key in keys {
            let mut notebook = store.notebook(&key)?;
            report.add(self.push_notebook(&mut notebook, options, &progress)?);
        }
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    fn push_notebook(
        &self,
        notebook: &mut Notebook,
        options: &PushOptions,
        progress: &Arc<dyn Progress>,
    ) -> Result<NotebookTransfer> {
        let key = notebook.key().clone();
        let mut report = NotebookTransfer {
            notebook: key.to_string(),
            ..NotebookTransfer::default()
        };
        let mut referenced = notebook.index().referenced_contents();
        for round in 0..MAX_ROUNDS {
            progress.phase(
                key.as_str(),
                if round == 0 {
                    Phase::Listing
                } else {
                    Phase::Checking
                },
            );
            let catalog = self.block_on(self.catalog(&key))?;
            let held = notebook.held_contents()?;
            let missing: HashMap<ContentHash, u64> = referenced
                .iter()
                .filter(|(hash, _)| !catalog.present(**hash))
                .map(|(h, s)| (*h, *s))
                .collect();
            let missing_count = missing.len();
            let (upload, unavailable): (HashMap<ContentHash, u64>, HashMap<ContentHash, u64>) =
                missing
                    .into_iter()
                    .partition(|(hash, _)| held.contains(hash));
            if round == 0 {
                report.already_there = (referenced.len() - missing_count) as u64;
            }
            let mut lost: Vec<String> = unavailable.keys().map(|h| h.to_hex()).collect();
            lost.sort();
            report.unavailable = lost;
            if round > 0 && upload.is_empty() {
                return Ok(report);
            }
            progress.phase(key.as_str(), Phase::Transferring);
            let (contents, bytes, objects) = self.upload(notebook, &upload, options, progress)?;
            report.contents += contents;
            report.bytes += bytes;
            report.objects += objects;
            progress.phase(key.as_str(), Phase::Committing);
            notebook.reload()?;
            referenced = notebook.index().referenced_contents();
            let roots: HashSet<ContentHash> = referenced.keys().copied().collect();
            self.commit_roots(&key, &catalog, &roots)?;
            failpoint::hit("push.after_roots");
        }
        Err(self.object_error(
            &self.notebook_folder(&key, PACKS),
            format!(
                "contents kept disappearing from the remote while pushing ({MAX_ROUNDS} rounds); is a gc with no grace period running? Push again"
            ),
        ))
    }

    /// Writes `log/<writer>-<time>-<digest>.roots`, unless this machine's newest roots file
    /// already says the same (its name carries the digest of its bytes). The time in the name
    /// orders this machine's roots, so it is never earlier than its newest one's.
    fn commit_roots(
        &self,
        key: &NotebookKey,
        catalog: &Catalog,
        roots: &HashSet<ContentHash>,
    ) -> Result<()> {
        let bytes = encode_roots(roots);
        let digest = &blake3::hash(&bytes).to_hex()[..16];
        let newest_mine = catalog
            .roots
            .iter()
            .filter(|r| r.writer() == self.writer)
            .max_by_key(|r| (r.named_time(), r.modified));
        if newest_mine.is_some_and(|r| r.name.ends_with(&format!("-{digest}{ROOTS_SUFFIX}"))) {
            return Ok(());
        }
        let after_newest = newest_mine
            .and_then(|r| r.named_time())
            .map(|t| t + chrono::Duration::milliseconds(1));
        let time = after_newest.map_or_else(chrono::Utc::now, |t| t.max(chrono::Utc::now()));
        let name = format!(
            "{}-{}-{digest}{ROOTS_SUFFIX}",
            self.writer,
            time.format(ROOTS_TIME)
        );
        let path = self.notebook_path(key, LOG, &name);
        self.block_on(self.put_object(&path, bytes))
    }

    /// Uploads `wanted` (all held locally): small contents in bundles, large ones alone.
    /// Returns (contents, bytes, objects) uploaded.
    fn upload(
        &self,
        notebook: &Notebook,
        wanted: &HashMap<ContentHash, u64>,
        options: &PushOptions,
        progress: &Arc<dyn Progress>,
    ) -> Result<(u64, u64, u64)> {
        if wanted.is_empty() {
            return Ok((0, 0, 0));
        }
        progress.add_total(wanted.len() as u64, wanted.values().sum());
        let key = notebook.key().clone();
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        let mut tasks: Vec<Upload> = Vec::new();
        // A large content held in a pack (a store with a high inline_threshold) is bundled.
        let (solo, small): (HashMap<ContentHash, u64>, HashMap<ContentHash, u64>) = wanted
            .iter()
            .map(|(h, s)| (*h, *s))
            .partition(|(hash, size)| *size > SOLO_FROM && notebook.object_file(*hash).is_file());
        let mut builder = BundleBuilder::default();
        let mut bundled = HashSet::new();
        let ship = |builder: &mut BundleBuilder, tasks: &mut Vec<Upload>| {
            let (bytes, contents) = std::mem::take(builder).finish();
            let sizes = (
                contents.len() as u64,
                contents.iter().map(|(_, s)| s).sum::<u64>(),
            );
            let permit = self
                .block_on(permits.clone().acquire_owned())
                .expect("open semaphore");
            tasks.push(self.spawn_put(&key, bytes, sizes, (permit, None), progress));
        };
        notebook.read_packed(&small, |hash, bytes| {
            bundled.insert(hash);
            builder.push(hash, bytes);
            if builder.size() >= BUNDLE_TARGET {
                ship(&mut builder, &mut tasks);
            }
            Ok(())
        })?;
        for (hash, size) in small.iter().filter(|(h, _)| !bundled.contains(*h)) {
            let path = notebook.object_file(*hash);
            let bytes = read_regular(&path, *size).map_err(|e| local_error(&path, e))?;
            if ContentHash::of(&bytes) != *hash {
                return Err(local_damage(&path));
            }
            builder.push(*hash, &bytes);
            if builder.size() >= BUNDLE_TARGET {
                ship(&mut builder, &mut tasks);
            }
        }
        if !builder.is_empty() {
            ship(&mut builder, &mut tasks);
        }
        let memory = Arc::new(Semaphore::new(MEMORY_MIB as usize));
        for (hash, size) in solo {
            let file = notebook.object_file(hash);
            let permit = self
                .block_on(permits.clone().acquire_owned())
                .expect("open semaphore");
            if size <= options.one_request_up_to {
                let mib = size.div_ceil(1024 * 1024).min(u64::from(MEMORY_MIB)) as u32;
                let held = self
                    .block_on(memory.clone().acquire_many_owned(mib))
                    .expect("open semaphore");
                let mut bytes = bundle::header(&[(hash, size)]);
                let start = bytes.len();
                bytes.extend(read_regular(&file, size).map_err(|e| local_error(&file, e))?);
                if ContentHash::of(&bytes[start..]) != hash {
                    return Err(local_damage(&file));
                }
                let sizes = (1, size);
                tasks.push(self.spawn_put(&key, bytes, sizes, (permit, Some(held)), progress));
                continue;
            }
            let path =
                self.notebook_path(&key, PACKS, &format!("{}{BUNDLE_SUFFIX}", self.new_stem()));
            let core = self.core.clone();
            let progress = progress.clone();
            tasks.push(self.runtime.spawn(async move {
                let _permit = permit;
                core.upload_solo(&path, &file, (hash, size), progress.as_ref())
                    .await?;
                Ok((1, size))
            }));
        }
        let results = self.block_on(futures::future::join_all(tasks));
        let mut totals = (0, 0, 0);
        let mut first_error = None;
        for result in results {
            match result.expect("upload task") {
                Ok((contents, bytes)) => {
                    totals.0 += contents;
                    totals.1 += bytes;
                    totals.2 += 1;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(totals),
        }
    }

    /// Uploads the bytes of a bundle holding `count` contents of `size` bytes in one request;
    /// the permits (a request slot, and memory for a large content) go when it is done.
    fn spawn_put(
        &self,
        key: &NotebookKey,
        bytes: Vec<u8>,
        (count, size): (u64, u64),
        permits: (OwnedSemaphorePermit, Option<OwnedSemaphorePermit>),
        progress: &Arc<dyn Progress>,
    ) -> Upload {
        let path = self.notebook_path(key, PACKS, &format!("{}{BUNDLE_SUFFIX}", self.new_stem()));
        let core = self.core.clone();
        let progress = progress.clone();
        self.runtime.spawn(async move {
            let _permits = permits;
            core.put_object(&path, bytes).await?;
            failpoint::hit("push.after_upload");
            progress.advance(count, size);
            Ok((count, size))
        })
    }
}

impl Core {
    /// Streams one large object file into a bundle of its own, checking its hash on the way;
    /// a content that does not hash right is not uploaded (the upload is aborted).
    async fn upload_solo(
        &self,
        path: &ObjectPath,
        file: &std::path::Path,
        (hash, size): (ContentHash, u64),
        progress: &dyn Progress,
    ) -> Result<()> {
        let request = |e: object_store::Error| self.request_error(path, &e);
        // Never more than the map records: a longer object is damage, not uploaded.
        let (source, len) = open_regular(file).map_err(|e| local_error(file, e))?;
        if len != size {
            return Err(local_damage(file));
        }
        let mut source = source.take(size);
        let upload = self
            .endpoint
            .client
            .put_multipart(path)
            .await
            .map_err(request)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        writer.write(&bundle::header(&[(hash, size)]));
        let mut hasher = blake3::Hasher::new();
        let mut buffer = vec![0u8; 1024 * 1024];
        let mut total = 0u64;
        loop {
            let n = source.read(&mut buffer).map_err(|e| local_error(file, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            total += n as u64;
            writer.wait_for_capacity(2).await.map_err(request)?;
            writer.write(&buffer[..n]);
            progress.advance(0, n as u64);
        }
        if total != size || ContentHash(*hasher.finalize().as_bytes()) != hash {
            let _ = writer.abort().await;
            return Err(local_damage(file));
        }
        writer.finish().await.map_err(request)?;
        failpoint::hit("push.after_upload");
        progress.advance(1, 0);
        Ok(())
    }
}

fn local_error(path: &std::path::Path, e: std::io::Error) -> RemoteError {
    RemoteError::Store(crate::store::StoreError::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

fn local_damage(path: &std::path::Path) -> RemoteError {
    RemoteError::Store(crate::store::StoreError::Corrupt(crate::Located::new(
        path,
        None,
        "this local content does not match its hash, so it was not uploaded",
    )))
}
