//! Remotes: contents shared across machines on S3-compatible object storage, Google Cloud
//! Storage, Azure Blob Storage or a folder (a NAS), through Apache Arrow's `object_store`.
//!
//! Maps and logs travel with git; contents travel here, in immutable bundles (`bundle`), with
//! push roots and gc marks beside them (`records`). The layout and the rule that keeps gc safe
//! while several machines push are in docs/FORMAT.md §17 and docs/RELIABILITY.md.
//!
//! `object_store` is async; the runtime is an internal detail: every public call blocks, so
//! the CLI, the TUI and a Python binding call it as they call the rest of the store.

mod activity;
mod bundle;
mod catalog;
mod connect;
mod fetch;
mod gc;
mod pull;
mod push;
mod records;
mod settings;
mod verify;

pub use activity::{Fetching, fetching};
pub use connect::{Patience, SCHEMES};
pub use fetch::{ReadThrough, read_through};
pub use gc::{NotebookGc, RemoteGcOptions, RemoteGcReport};
pub use pull::PullOptions;
pub use push::PushOptions;
pub use settings::{add_remote, ignore_contents_in_git, remove_remote};
pub use verify::{RemoteProblem, RemoteVerifyReport};

use crate::model::NotebookKey;
use crate::store::{RemoteSettings, Store, StoreError};
use connect::Endpoint;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;

/// The file at the remote's root that says it is a celltime remote, and in which format.
pub const MARKER: &str = "celltime-remote.toml";
/// The remote format this build reads and writes.
pub const REMOTE_FORMAT: i64 = 1;
const PACKS: &str = "packs";
const LOG: &str = "log";
const BUNDLE_SUFFIX: &str = ".bundle";
const ROOTS_SUFFIX: &str = ".roots";
const MARK_SUFFIX: &str = ".condemned";
/// Requests in flight at once.
const CONCURRENCY: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The remote's settings: unknown scheme, bad URL, unknown option, a missing folder.
    #[error("remote {remote:?}: {message}")]
    Settings { remote: String, message: String },
    /// A request failed, or an object is not what it should be; `object` is its full URL.
    #[error("remote {remote:?}: {object}: {message}")]
    Object {
        remote: String,
        object: String,
        message: String,
    },
    #[error("no remote named {name:?} in {config} (`celltime remote ls` lists them)")]
    Unknown { name: String, config: String },
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type Result<T, E = RemoteError> = std::result::Result<T, E>;

/// What a transfer is doing, for progress displays (and tests that interleave machines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading what the remote holds for a notebook.
    Listing,
    /// Moving contents.
    Transferring,
    /// Writing the push's roots: from here on gc keeps what it references.
    Committing,
    /// Re-reading the remote after the commit, re-uploading anything a gc took meanwhile.
    Checking,
}

/// Progress of a transfer; every method has a do-nothing default.
pub trait Progress: Send + Sync {
    fn phase(&self, _notebook: &str, _phase: Phase) {}
    /// More work became known.
    fn add_total(&self, _contents: u64, _bytes: u64) {}
    fn advance(&self, _contents: u64, _bytes: u64) {}
}

/// No progress display.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Progress for Quiet {}

/// What one push or pull did to one notebook.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NotebookTransfer {
    pub notebook: String,
    /// Contents moved.
    pub contents: u64,
    pub bytes: u64,
    /// Remote objects written (push) or read (pull).
    pub objects: u64,
    /// Contents that were there already.
    pub already_there: u64,
    /// Contents the maps reference that neither side holds (64-hex hashes).
    pub unavailable: Vec<String>,
}

/// What a push or pull did (the CLI prints it as `celltime.push.v1` / `celltime.pull.v1`).
#[derive(Debug, Clone, Serialize)]
pub struct TransferReport {
    pub remote: String,
    pub url: String,
    pub notebooks: Vec<NotebookTransfer>,
    pub contents: u64,
    pub bytes: u64,
    pub objects: u64,
    pub already_there: u64,
    pub unavailable: u64,
    pub started_at: String,
    pub elapsed_ms: u64,
}

impl TransferReport {
    fn new(remote: &Remote) -> TransferReport {
        TransferReport {
            remote: remote.settings.name.clone(),
            url: remote.settings.url.clone(),
            notebooks: Vec::new(),
            contents: 0,
            bytes: 0,
            objects: 0,
            already_there: 0,
            unavailable: 0,
            started_at: crate::model::Timestamp::now().to_rfc3339(),
            elapsed_ms: 0,
        }
    }

    fn add(&mut self, notebook: NotebookTransfer) {
        self.contents += notebook.contents;
        self.bytes += notebook.bytes;
        self.objects += notebook.objects;
        self.already_there += notebook.already_there;
        self.unavailable += notebook.unavailable.len() as u64;
        self.notebooks.push(notebook);
    }
}

/// A connected remote. Opening one makes no request; each operation blocks until done.
pub struct Remote {
    core: Arc<Core>,
    runtime: tokio::runtime::Runtime,
}

/// What a remote's transfer tasks share: the client and how to name things. The runtime
/// stays with the [`Remote`], which blocks on it.
pub struct Core {
    settings: RemoteSettings,
    endpoint: Endpoint,
    writer: String,
}

impl std::ops::Deref for Remote {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("name", &self.settings.name)
            .field("url", &self.settings.url)
            .finish()
    }
}

impl Remote {
    /// The remote `name` of the store's `persist.toml`, or its only remote when `name` is None.
    pub fn open(store: &Store, name: Option<&str>) -> Result<Remote> {
        let settings = choose(store, name)?;
        Remote::connect(&settings, &store.context().writer, Patience::Transfer)
    }

    pub fn connect(settings: &RemoteSettings, writer: &str, patience: Patience) -> Result<Remote> {
        let endpoint = connect::connect(settings, patience)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .thread_name("celltime-remote")
            .enable_all()
            .build()
            .map_err(|e| RemoteError::Settings {
                remote: settings.name.clone(),
                message: format!("cannot start the transfer threads: {e}"),
            })?;
        Ok(Remote {
            core: Arc::new(Core {
                settings: settings.clone(),
                endpoint,
                writer: writer.to_string(),
            }),
            runtime,
        })
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Checks the remote's marker: a remote another celltime format wrote is refused.
    /// Returns whether the remote has been pushed to at all.
    fn check_marker(&self) -> Result<bool> {
        self.block_on(self.core.check_marker())
    }

    /// Writes the marker if the remote has none (the first push).
    fn ensure_marker(&self) -> Result<()> {
        if self.check_marker()? {
            return Ok(());
        }
        let path = self.path([MARKER]);
        let text = format!(
            "# A celltime remote: contents of __marimo__/persist/ stores; see celltime's docs/FORMAT.md.\nformat = {REMOTE_FORMAT}\n"
        );
        self.block_on(self.put_object(&path, text.into_bytes()))
    }

    /// The notebooks of `store` matching `globs` (all when empty).
    fn select(&self, store: &Store, globs: &[String]) -> Result<Vec<NotebookKey>> {
        let globs = crate::model::NotebookGlobs::new(globs)
            .map_err(|e| RemoteError::Usage(e.to_string()))?;
        Ok(store
            .notebook_keys()?
            .into_iter()
            .filter(|k| globs.matches(k.as_str()))
            .collect())
    }
}

impl Core {
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    pub fn url(&self) -> &str {
        &self.settings.url
    }

    /// `<prefix>/<parts…>`.
    fn path<'a>(&'a self, parts: impl IntoIterator<Item = &'a str>) -> ObjectPath {
        let prefix = self.endpoint.prefix.parts();
        ObjectPath::from_iter(prefix.chain(parts.into_iter().map(Into::into)))
    }

    /// `<prefix>/<notebook key>/<folder>/<name>`.
    fn notebook_path(&self, key: &NotebookKey, folder: &str, name: &str) -> ObjectPath {
        self.path(key.components().chain([folder, name]))
    }

    fn notebook_folder(&self, key: &NotebookKey, folder: &str) -> ObjectPath {
        self.path(key.components().chain([folder]))
    }

    /// The full URL of an object, for messages.
    fn describe_path(&self, path: &ObjectPath) -> String {
        format!("{}{path}", self.endpoint.base)
    }

    fn object_error(&self, path: &ObjectPath, message: impl Into<String>) -> RemoteError {
        RemoteError::Object {
            remote: self.settings.name.clone(),
            object: self.describe_path(path),
            message: message.into(),
        }
    }

    fn request_error(&self, path: &ObjectPath, error: &object_store::Error) -> RemoteError {
        self.object_error(path, format!("{}{}", describe(error), hint(error)))
    }

    fn tampered(&self, path: &ObjectPath, hash: crate::model::ContentHash) -> RemoteError {
        self.object_error(
            path,
            format!(
                "content {} does not match its hash: the remote copy is damaged (nothing was stored for it)",
                hash.to_hex()
            ),
        )
    }

    /// A fresh name for an object this machine writes: `<writer>-<UTC time>-<12 hex>`.
    fn new_stem(&self) -> String {
        let now = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        format!("{}-{now}-{}", self.writer, crate::store::fs::random_hex(12))
    }

    async fn check_marker(&self) -> Result<bool> {
        let path = self.path([MARKER]);
        let fetched = async { self.endpoint.client.get(&path).await?.bytes().await };
        let bytes = match fetched.await {
            Ok(bytes) => bytes,
            // S3 says 404 for a missing bucket too; only a missing marker means "not yet".
            Err(e @ object_store::Error::NotFound { .. }) if !hint(&e).contains("bucket") => {
                return Ok(false);
            }
            Err(e) => return Err(self.request_error(&path, &e)),
        };
        let text = String::from_utf8_lossy(&bytes);
        let format = text
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| t.get("format").and_then(toml::Value::as_integer))
            .ok_or_else(|| self.object_error(&path, "not a celltime remote marker (no format)"))?;
        if format > REMOTE_FORMAT {
            return Err(self.object_error(
                &path,
                format!(
                    "remote format {format} is newer than this celltime understands ({REMOTE_FORMAT}); upgrade celltime"
                ),
            ));
        }
        Ok(true)
    }
}

/// The remote to use: the one named, or the only one.
pub fn choose(store: &Store, name: Option<&str>) -> Result<RemoteSettings> {
    let remotes = &store.config().remotes;
    let config = store.config().path().display().to_string();
    match name {
        Some(name) => remotes
            .iter()
            .find(|r| r.name == name)
            .cloned()
            .ok_or_else(|| RemoteError::Unknown {
                name: name.to_string(),
                config,
            }),
        None => match remotes.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(RemoteError::Usage(format!(
                "no remote in {config}; add one with `celltime remote add NAME URL` ({SCHEMES})"
            ))),
            _ => Err(RemoteError::Usage(format!(
                "{config} names {} remotes; say which: {}",
                remotes.len(),
                remotes
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        },
    }
}

/// An error and its causes in one line, each cause once.
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// What the user can do about the common failures.
fn hint(error: &object_store::Error) -> &'static str {
    let text = describe(error);
    if text.contains("NoSuchBucket") || text.contains("bucket does not exist") {
        " (the bucket does not exist: create it, or fix the remote's URL)"
    } else if matches!(
        error,
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }
    ) || text.contains("InvalidAccessKeyId")
        || text.contains("SignatureDoesNotMatch")
        || text.contains("AccessDenied")
    {
        " (access denied: check the credentials, e.g. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE)"
    } else if text.contains("Connect") || text.contains("dns error") || text.contains("timed out") {
        " (cannot reach the server: check the URL, the endpoint (AWS_ENDPOINT_URL) and the network)"
    } else {
        ""
    }
}
