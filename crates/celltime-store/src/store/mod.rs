//! The store layer: `__marimo__/persist/`, its notebook folders, and the operations every
//! other part of celltime goes through. The normative description is `docs/FORMAT.md`.

mod config;
mod error;
pub mod failpoint;
mod file_hash;
pub mod fs;
pub mod history;
mod layout;
pub mod log;
pub mod map;
mod notebook;
pub(crate) mod objects;
pub mod pack;
mod snapshot;
mod verify;
pub mod wire;

pub use config::{
    Config, FORMAT_VERSION, RemoteSettings, check_format, check_remote_name, is_secret_option,
    line_of,
};
pub use error::{IoContext, Result, StoreError};
pub use layout::{NotebookPaths, Workspace};
pub use notebook::{
    CONSOLIDATE_AFTER, ContentReader, ContentSource, Fetched, GcReport, Importer, Issue, Locked,
    Notebook, NotebookFile, ObjectWriter, Severity,
};
pub use verify::VerifyReport;

use crate::model::{ExecKey, KeyError, NewEntry, NotebookKey, colliding_folder};
use fs::{Fs, ItemKind, RealFs, random_hex, write_atomic};
use layout::{INDEX_DIR, LOCK_FILE, LOG_DIR, NOTEBOOK_FILE, OBJECTS_DIR, PACKS_DIR};
use lock::{LockMode, StoreLock};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

mod lock;

/// `persist/.gitignore`: what git should never carry.
pub const GITIGNORE: &str = ".gitignore";

/// The `.gitignore` a store starts with: derived and machine-local files.
pub fn gitignore_text() -> String {
    format!("# derived or machine-local files of the celltime store\n{INDEX_DIR}/\n{LOCK_FILE}\n")
}

pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// What every notebook of a store shares.
#[derive(Debug)]
pub struct Context {
    pub fs: Arc<dyn Fs>,
    pub config: Config,
    /// This machine's writer id; its segments and packs are named `<writer>-…`.
    pub writer: String,
    pub lock_timeout: Duration,
    /// Where contents this machine lacks are fetched from on first read (a remote).
    pub content_source: Option<Arc<dyn ContentSource>>,
    persist_dir: PathBuf,
    /// Writes of derived files (snapshots) that run while the command goes on.
    background: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Drop for Context {
    fn drop(&mut self) {
        let pending = std::mem::take(self.background.get_mut().unwrap_or_else(|e| e.into_inner()));
        for write in pending {
            let _ = write.join();
        }
    }
}

impl Context {
    /// Keeps a background write to wait for before the store goes away.
    fn in_background(&self, write: std::thread::JoinHandle<()>) {
        self.background
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(write);
    }

    pub fn persist_dir(&self) -> &Path {
        &self.persist_dir
    }

    /// Does a segment or pack file name belong to this machine?
    pub fn owns(&self, file_name: &str) -> bool {
        file_name
            .strip_prefix(&self.writer)
            .is_some_and(|rest| rest.starts_with('-'))
    }

    /// `<writer>-<UTC time>-<random>`: unique, sortable by creation, owned by this machine.
    pub(crate) fn new_file_stem(&self) -> String {
        let now = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        format!("{}-{now}-{}", self.writer, random_hex(6))
    }

    fn lock_exclusive(&self, paths: &NotebookPaths) -> Result<StoreLock> {
        self.ensure_dir(&paths.dir)?;
        lock::acquire(&paths.lock(), LockMode::Exclusive, self.lock_timeout)
    }

    /// A shared lock for a consistent read; a read-only folder is read without one.
    fn lock_shared(&self, paths: &NotebookPaths) -> Result<Option<StoreLock>> {
        if !paths.dir.is_dir() {
            return Ok(None);
        }
        match lock::acquire(&paths.lock(), LockMode::Shared, self.lock_timeout) {
            Ok(lock) => Ok(Some(lock)),
            Err(StoreError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::PermissionDenied
                    || source.raw_os_error() == Some(30) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn ensure_dir(&self, dir: &Path) -> Result<()> {
        self.fs.create_dir_all(dir).at(dir)
    }

    /// Before the first write: `persist.toml`, the notebook folder and its `notebook.toml`.
    fn ensure_notebook_folder(&self, key: &NotebookKey, paths: &NotebookPaths) -> Result<()> {
        self.config.ensure_written(self.fs.as_ref())?;
        let file = paths.notebook_file();
        if self.fs.metadata(&file).is_ok() {
            return self.upgrade_notebook_file(&file, key);
        }
        self.ensure_dir(&paths.dir)?;
        let gitignore = self.persist_dir.join(GITIGNORE);
        if self.fs.metadata(&gitignore).is_err() {
            write_atomic(self.fs.as_ref(), &gitignore, gitignore_text().as_bytes())
                .at(&gitignore)?;
        }
        write_notebook_file(self.fs.as_ref(), &file, key, None)
    }
}

impl Context {
    /// A folder an older celltime made says `format = 1`; records of this version would look
    /// like corruption to that celltime, so the folder first says which version it now holds.
    fn upgrade_notebook_file(&self, file: &Path, key: &NotebookKey) -> Result<()> {
        let bytes = self.fs.read(file).at(file)?;
        let Ok(current) = toml::from_str::<NotebookFile>(&String::from_utf8_lossy(&bytes)) else {
            return Ok(());
        };
        if current.format >= FORMAT_VERSION {
            return Ok(());
        }
        write_notebook_file(self.fs.as_ref(), file, key, current.source.as_deref())
    }
}

fn write_notebook_file(
    fs: &dyn Fs,
    path: &Path,
    key: &NotebookKey,
    source: Option<&str>,
) -> Result<()> {
    let body = NotebookFile {
        format: FORMAT_VERSION,
        key: key.to_string(),
        source: source.map(str::to_string),
    };
    let text = format!(
        "# celltime notebook folder; see docs/FORMAT.md\n{}",
        toml::to_string(&body).expect("notebook file serialises")
    );
    write_atomic(fs, path, text.as_bytes()).at(path)
}

/// This machine's writer id: `CELLTIME_WRITER`, or the host name plus a hash of the machine id.
pub fn writer_id() -> String {
    if let Ok(id) = std::env::var("CELLTIME_WRITER") {
        let clean: String = id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect();
        if !clean.is_empty() {
            return clean;
        }
    }
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let machine = std::fs::read_to_string("/etc/machine-id").unwrap_or_default();
    let digest = blake3::hash(format!("{host}\0{}", machine.trim()).as_bytes());
    let short_host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(24)
        .collect();
    format!(
        "{}_{}",
        if short_host.is_empty() {
            "host"
        } else {
            &short_host
        },
        &digest.to_hex()[..8]
    )
}

#[cfg(feature = "remote")]
fn remote_source(config: &Config, writer: &str) -> Option<Arc<dyn ContentSource>> {
    crate::remote::read_through(config, writer)
}

#[cfg(not(feature = "remote"))]
fn remote_source(_: &Config, _: &str) -> Option<Arc<dyn ContentSource>> {
    None
}

/// How to open a store; the defaults suit normal use.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub fs: Arc<dyn Fs>,
    pub writer: Option<String>,
    pub lock_timeout: Duration,
    /// Fetch contents this machine lacks from the store's remotes on first read (when the
    /// `remote` feature is built and `persist.toml` names a remote).
    pub fetch_from_remotes: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            fs: Arc::new(RealFs),
            writer: None,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            fetch_from_remotes: true,
        }
    }
}

/// What [`Store::append`] did.
#[derive(Debug)]
pub struct Appended {
    /// The entries' keys: they are written (or were already there), whatever `consolidated`
    /// says.
    pub keys: Vec<ExecKey>,
    /// Whether the log had passed [`CONSOLIDATE_AFTER`] and was folded into the map. A
    /// failure here leaves the entries written, in the log, for the next consolidation.
    pub consolidated: Result<bool>,
}

/// Totals of one notebook, for listings.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct NotebookSummary {
    pub notebook: String,
    pub cells: usize,
    pub entries: usize,
    pub bytes: u64,
    pub pinned: usize,
    /// Why the notebook cannot be read (its entries are then not counted).
    pub problem: Option<String>,
}

/// A notebook folder found under `persist/`: its path there, and its key or why it cannot
/// be used.
#[derive(Debug)]
pub struct NotebookFolder {
    pub name: String,
    pub key: Result<NotebookKey>,
}

/// The `__marimo__/persist/` store of a workspace.
#[derive(Debug, Clone)]
pub struct Store {
    workspace: Workspace,
    ctx: Arc<Context>,
}

impl Store {
    pub fn open(workspace: &Workspace) -> Result<Store> {
        Store::open_with(workspace, StoreOptions::default())
    }

    pub fn open_with(workspace: &Workspace, options: StoreOptions) -> Result<Store> {
        let persist_dir = workspace.persist_dir();
        let config = Config::load(options.fs.as_ref(), &persist_dir.join(layout::CONFIG_FILE))?;
        let writer = options.writer.unwrap_or_else(writer_id);
        let content_source = if options.fetch_from_remotes {
            remote_source(&config, &writer)
        } else {
            None
        };
        Ok(Store {
            workspace: workspace.clone(),
            ctx: Arc::new(Context {
                fs: options.fs,
                config,
                writer,
                lock_timeout: options.lock_timeout,
                content_source,
                persist_dir,
                background: std::sync::Mutex::default(),
            }),
        })
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    pub fn config(&self) -> &Config {
        &self.ctx.config
    }

    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    pub fn persist_dir(&self) -> &Path {
        &self.ctx.persist_dir
    }

    /// Every notebook folder (a folder holding `notebook.toml`), found without following links,
    /// sorted by name: its key, or why it cannot be used — a path that is not a valid key, a
    /// `notebook.toml` that is not a regular file, is invalid or names another key, or a link
    /// where a folder would be. One damaged folder never hides the others.
    pub fn notebook_folders(&self) -> Result<Vec<NotebookFolder>> {
        let mut found = Vec::new();
        let mut pending = vec![(self.ctx.persist_dir.clone(), Vec::<String>::new())];
        while let Some((dir, components)) = pending.pop() {
            let items = match self.ctx.fs.read_dir(&dir) {
                Ok(items) => items,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).at(&dir),
            };
            let marked = items
                .iter()
                .any(|i| i.name == NOTEBOOK_FILE && i.kind != ItemKind::Dir);
            if !components.is_empty() && marked {
                let name = components.join("/");
                let file = dir.join(NOTEBOOK_FILE);
                let key = NotebookKey::new(&name)
                    .map_err(|e| {
                        StoreError::invalid(
                            &file,
                            None,
                            format!("the folder's path is not a notebook key: {}", e.reason),
                        )
                    })
                    .and_then(|key| self.check_notebook_file(&file, &key).map(|()| key));
                found.push(NotebookFolder { name, key });
            }
            for item in items {
                let internal = [LOG_DIR, PACKS_DIR, OBJECTS_DIR].contains(&item.name.as_str());
                if item.name.starts_with('.') || internal {
                    continue;
                }
                let mut next = components.clone();
                next.push(item.name.clone());
                match item.kind {
                    ItemKind::Dir => pending.push((dir.join(&item.name), next)),
                    // A linked folder could be a notebook whose writes would land elsewhere:
                    // reported, never entered. (Only its kind is looked up through the link.)
                    ItemKind::Symlink
                        if std::fs::metadata(dir.join(&item.name)).is_ok_and(|m| m.is_dir()) =>
                    {
                        found.push(NotebookFolder {
                            name: next.join("/"),
                            key: Err(StoreError::invalid(
                                &dir.join(&item.name),
                                None,
                                fs::LINK_REFUSED,
                            )),
                        })
                    }
                    ItemKind::Symlink | ItemKind::File | ItemKind::Other => {}
                }
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// The usable notebooks; damaged folders are left out (see [`Store::notebook_folders`]).
    pub fn notebook_keys(&self) -> Result<Vec<NotebookKey>> {
        Ok(self
            .notebook_folders()?
            .into_iter()
            .filter_map(|f| f.key.ok())
            .collect())
    }

    /// Refuses a new notebook key that an existing notebook's folder would hold on macOS or
    /// Windows (another case or Unicode normalisation of a folder on its path): the two
    /// notebooks would share files there.
    fn check_no_collision(&self, key: &NotebookKey) -> Result<()> {
        for other in self.notebook_keys()? {
            if let Some(folder) = colliding_folder(key, &other) {
                return Err(StoreError::Key(KeyError::new(
                    "notebook key",
                    key.as_str(),
                    format!(
                        "its folder {folder:?} is the folder of the existing notebook {:?} on macOS and Windows, which ignore case and Unicode normalisation; give the notebook another key",
                        other.as_str()
                    ),
                )));
            }
        }
        Ok(())
    }

    /// Refuses a notebook whose folder, or a folder above it under `persist/`, is a link or
    /// not a folder: writes there would land outside the store.
    fn check_no_links(&self, key: &NotebookKey) -> Result<()> {
        let mut dir = self.ctx.persist_dir.clone();
        for component in key.components() {
            dir.push(component);
            match self.ctx.fs.metadata(&dir) {
                Ok(item) if item.kind == ItemKind::Dir => {}
                Ok(item) if item.kind == ItemKind::Symlink => {
                    return Err(StoreError::invalid(&dir, None, fs::LINK_REFUSED));
                }
                Ok(_) => return Err(StoreError::invalid(&dir, None, "is not a folder")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) => return Err(e).at(&dir),
            }
        }
        Ok(())
    }

    fn check_notebook_file(&self, path: &Path, key: &NotebookKey) -> Result<()> {
        let bytes =
            fs::read_limited(self.ctx.fs.as_ref(), path, layout::MAX_SETTINGS_BYTES).at(path)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| StoreError::invalid(path, None, "not UTF-8 text"))?;
        let file: NotebookFile = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| line_of(&text, s.start));
            StoreError::invalid(path, line, e.message().trim().to_string())
        })?;
        check_format(path, file.format, FORMAT_VERSION)?;
        if file.key != key.as_str() {
            return Err(StoreError::invalid(
                path,
                None,
                format!(
                    "key {:?} does not match the folder's path {:?}",
                    file.key,
                    key.as_str()
                ),
            ));
        }
        Ok(())
    }

    pub fn paths(&self, key: &NotebookKey) -> NotebookPaths {
        NotebookPaths::new(&self.ctx.persist_dir, key)
    }

    /// Opens an existing notebook folder.
    pub fn notebook(&self, key: &NotebookKey) -> Result<Notebook> {
        self.check_no_links(key)?;
        let paths = self.paths(key);
        if self.ctx.fs.metadata(&paths.notebook_file()).is_err() {
            return Err(StoreError::UnknownNotebook(key.to_string()));
        }
        self.check_notebook_file(&paths.notebook_file(), key)?;
        Notebook::open(self.ctx.clone(), key.clone(), paths)
    }

    /// Opens a notebook folder for writing; it is created on its first write.
    pub fn notebook_for_write(&self, key: &NotebookKey) -> Result<Notebook> {
        self.check_no_links(key)?;
        let paths = self.paths(key);
        if self.ctx.fs.metadata(&paths.notebook_file()).is_ok() {
            self.check_notebook_file(&paths.notebook_file(), key)?;
        } else {
            self.check_no_collision(key)?;
        }
        Notebook::open(self.ctx.clone(), key.clone(), paths)
    }

    /// Adds entries to a notebook (creating its folder on the first write), for a process that
    /// writes and exits (`celltime put`): the map's entries are not read when its snapshot
    /// lists their ids, and the log is folded into the map only once it has passed
    /// [`CONSOLIDATE_AFTER`] bytes. A long-lived writer keeps a [`Notebook`] open instead and
    /// consolidates when it exits.
    pub fn append(&self, key: &NotebookKey, entries: Vec<NewEntry>) -> Result<Appended> {
        self.check_no_links(key)?;
        let paths = self.paths(key);
        if self.ctx.fs.metadata(&paths.notebook_file()).is_ok() {
            self.check_notebook_file(&paths.notebook_file(), key)?;
        } else {
            self.check_no_collision(key)?;
        }
        let mut notebook = Notebook::open_for_append(self.ctx.clone(), key.clone(), paths)?;
        let keys = notebook.put_batch(entries)?;
        failpoint::hit("append.before_consolidate");
        let consolidated = notebook.consolidate_if_due();
        Ok(Appended { keys, consolidated })
    }

    /// Records where a notebook's source lives (`notebook.toml` `source`), creating the folder.
    pub fn set_notebook_source(&self, key: &NotebookKey, source: &str) -> Result<()> {
        self.check_no_links(key)?;
        let paths = self.paths(key);
        self.ctx.ensure_dir(&paths.dir)?;
        let _lock = self.ctx.lock_exclusive(&paths)?;
        self.ctx.config.ensure_written(self.ctx.fs.as_ref())?;
        write_notebook_file(
            self.ctx.fs.as_ref(),
            &paths.notebook_file(),
            key,
            Some(source),
        )
    }

    /// A notebook's totals from its snapshot header, when that is current (the snapshot
    /// matches the map, and nothing waits in the log or in conflicted copies).
    pub fn quick_summary(&self, key: &NotebookKey) -> Option<crate::model::IndexSummary> {
        notebook::quick_summary(&self.ctx, &self.paths(key))
    }

    /// Totals per notebook folder; read from snapshot headers where they are current, so
    /// listing a large workspace reads neither maps nor entries. A damaged folder is listed
    /// with no entries and its problem.
    pub fn summaries(&self) -> Result<Vec<NotebookSummary>> {
        self.notebook_folders()?
            .into_iter()
            .map(|folder| {
                let key = match folder.key {
                    Ok(key) => key,
                    Err(e) => {
                        return Ok(NotebookSummary {
                            notebook: folder.name,
                            problem: Some(e.to_string()),
                            ..NotebookSummary::default()
                        });
                    }
                };
                let paths = self.paths(&key);
                let summary = match notebook::quick_summary(&self.ctx, &paths) {
                    Some(summary) => summary,
                    None => match self.notebook(&key) {
                        Ok(notebook) => notebook.index().summary(),
                        Err(e @ StoreError::Busy { .. }) => return Err(e),
                        Err(e) => {
                            return Ok(NotebookSummary {
                                notebook: folder.name,
                                problem: Some(e.to_string()),
                                ..NotebookSummary::default()
                            });
                        }
                    },
                };
                Ok(NotebookSummary {
                    notebook: key.to_string(),
                    cells: summary.cells as usize,
                    entries: summary.entries as usize,
                    bytes: summary.bytes,
                    pinned: summary.pinned as usize,
                    problem: None,
                })
            })
            .collect()
    }
}
