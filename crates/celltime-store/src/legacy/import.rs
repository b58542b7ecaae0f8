//! Copying marimo's cache entries into celltime's store, keeping their bytes, formats, sizes
//! and (approximate) times, with the block's code and, where they match, outputs. Idempotent:
//! an entry's key comes from its block, hash and file time, and a key already in the store is
//! skipped. [`Watcher`] repeats this as marimo writes, so each block's timeline builds up even
//! when marimo later replaces or clears its own entries.

use super::decode::{self, read_file};
use super::error::{AtPath, Result};
use super::history::LegacyHistory;
use super::link::Link;
use super::names::Loader;
use super::scan::LegacyEntry;
use crate::follow::{Follow, Targets};
use crate::model::{
    CellKey, Change, Journal, MarimoKey, ModuleHash, NewEntry, NewPart, NotebookKey, Version,
};
use crate::store::Store;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// What one import pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub cache_dir: String,
    pub imported: usize,
    /// Entries already in the store (same block, hash and file time).
    pub already_imported: usize,
    pub bytes: u64,
    /// Entries imported per notebook.
    pub notebooks: BTreeMap<String, usize>,
    /// Blob folders without a manifest (an interrupted or ongoing write): left for later.
    pub incomplete: usize,
    pub failures: Vec<String>,
}

/// Store keys given to notebooks of marimo's cache, by the name the cache gives them (a
/// notebook `log.py` is named `log`, which the store reserves).
pub type ImportKeys = BTreeMap<String, NotebookKey>;

/// Imports every complete entry of the cache of `workspace` (or `cache_dir`) into `store`,
/// recording the entries it adds in `journal` (so the import can be undone).
pub fn import(
    workspace: &Path,
    store: &Store,
    cache_dir: Option<&Path>,
    journal: &dyn Journal,
) -> Result<ImportReport> {
    import_with(
        workspace,
        store,
        cache_dir,
        &ImportKeys::new(),
        journal,
        &|_| {},
    )
}

/// How far an import is: entries looked at of all entries, and the notebook it is in.
#[derive(Debug, Clone, Copy)]
pub struct ImportProgress<'a> {
    pub done: usize,
    pub total: usize,
    pub notebook: &'a str,
}

/// [`import`], filing the notebooks named in `keys` under the keys given there and telling
/// `progress` before each notebook and once at the end (a progress bar).
pub fn import_with(
    workspace: &Path,
    store: &Store,
    cache_dir: Option<&Path>,
    keys: &ImportKeys,
    journal: &dyn Journal,
    progress: &dyn Fn(ImportProgress<'_>),
) -> Result<ImportReport> {
    let history = LegacyHistory::open(workspace, cache_dir)?;
    import_from(&history, store, keys, journal, progress)
}

fn import_from(
    history: &LegacyHistory,
    store: &Store,
    keys: &ImportKeys,
    journal: &dyn Journal,
    progress: &dyn Fn(ImportProgress<'_>),
) -> Result<ImportReport> {
    let loaded = history.load()?;
    let mut report = ImportReport {
        cache_dir: history.root().display().to_string(),
        incomplete: loaded.scan.incomplete.len(),
        ..ImportReport::default()
    };
    let mut by_notebook: BTreeMap<&str, Vec<(&LegacyEntry, &Link)>> = BTreeMap::new();
    for (entry, link) in loaded.scan.entries.iter().zip(&loaded.links) {
        by_notebook
            .entry(&link.notebook)
            .or_default()
            .push((entry, link));
    }
    let total = loaded.scan.entries.len();
    let mut done = 0;
    for (notebook, entries) in by_notebook {
        progress(ImportProgress {
            done,
            total,
            notebook,
        });
        done += entries.len();
        let key = match keys.get(notebook) {
            Some(key) => key.clone(),
            None => match NotebookKey::new(notebook) {
                Ok(key) => key,
                Err(e) => {
                    report.failures.push(format!(
                        "notebook {notebook}: {e}; import it under another key with --key '{notebook}=NEW_KEY'"
                    ));
                    continue;
                }
            },
        };
        let imported = import_notebook(history.root(), store, &key, &entries, &mut report, journal);
        if let Err(e) = imported {
            report.failures.push(format!("notebook {notebook}: {e}"));
        }
    }
    progress(ImportProgress {
        done,
        total,
        notebook: "",
    });
    Ok(report)
}

fn import_notebook(
    root: &Path,
    store: &Store,
    key: &NotebookKey,
    entries: &[(&LegacyEntry, &Link)],
    report: &mut ImportReport,
    journal: &dyn Journal,
) -> Result<()> {
    let notebook = key.as_str();
    let key = key.clone();
    let mut target = store.notebook_for_write(&key)?;
    let mut batch = Vec::new();
    let mut bytes = 0;
    for (entry, link) in entries {
        let new = match new_entry(&key, entry, link) {
            Ok(new) => new,
            Err(e) => {
                report.failures.push(format!("{}: {e}", entry.rel_path));
                continue;
            }
        };
        let id = crate::model::EntryId::of(
            notebook,
            new.cell.as_str(),
            new.module.as_str(),
            new.version.as_str(),
            new.created_at.expect("set by new_entry"),
        );
        if target.index().contains(id) {
            report.already_imported += 1;
            continue;
        }
        match with_parts(root, entry, link, new) {
            Ok(new) => {
                bytes += entry.size();
                batch.push(new);
            }
            Err(e) => report.failures.push(e.to_string()),
        }
    }
    if batch.is_empty() {
        return Ok(());
    }
    let count = batch.len();
    let ids = batch
        .iter()
        .filter_map(|new| {
            let created = new.created_at?;
            Some(crate::model::EntryId::of(
                notebook,
                new.cell.as_str(),
                new.module.as_str(),
                new.version.as_str(),
                created,
            ))
        })
        .collect();
    journal
        .record(&Change::StoreAdded {
            notebook: notebook.to_string(),
            ids,
        })
        .map_err(|e| super::error::LegacyError::Message(e.message))?;
    target.put_batch(batch)?;
    target.consolidate()?;
    report.imported += count;
    report.bytes += bytes;
    *report.notebooks.entry(notebook.to_string()).or_default() += count;
    Ok(())
}

/// The execution key: block (or cell), the entry's hash, version 0, the file time.
fn new_entry(notebook: &NotebookKey, entry: &LegacyEntry, link: &Link) -> Result<NewEntry> {
    let mut new = NewEntry::new(
        notebook.clone(),
        CellKey::new(&link.cell)?,
        ModuleHash::new(&entry.name.hash)?,
    );
    new.version = Version::default();
    new.created_at = Some(entry.created_at());
    // The file's path in its cache folder is marimo's own key for the run (FORMAT.md §7):
    // the run stays tied to the file it came from, as a run the plugin wrote is. (A path
    // marimo would not write is imported without one.)
    new.marimo_key = MarimoKey::new(&entry.rel_path).ok();
    Ok(new)
}

/// Reads the entry's files (checked against the listing) into parts.
fn with_parts(
    root: &Path,
    entry: &LegacyEntry,
    link: &Link,
    mut new: NewEntry,
) -> Result<NewEntry> {
    if let Some(code) = &link.code {
        new.parts.push(NewPart::code(code));
    }
    let main = read_listed(root, entry, 0)?;
    match entry.name.loader {
        Loader::Pickle => new.parts.push(NewPart::variables("", "pickle", main)),
        Loader::Json => new.parts.push(NewPart::variables("", "json", main)),
        Loader::Lazy => {
            let labels = blob_labels(root, entry);
            new.parts.push(NewPart::variables("", "jsonl", main));
            for (at, blob) in entry.blobs().iter().enumerate() {
                let bytes = read_listed(root, entry, at + 1)?;
                let (label, format) = labels
                    .iter()
                    .find(|(rel, _)| *rel == blob.rel)
                    .map(|(_, name)| name.clone())
                    .map_or_else(|| blob_name(&blob.rel), |name| (name, format_of(&blob.rel)));
                new.parts.push(NewPart::variables(&label, &format, bytes));
            }
        }
    }
    if let Some(session) = &link.session {
        for (mime, bytes) in &session.outputs {
            new.parts.push(NewPart::output(mime, bytes.clone()));
        }
        for (stream, text) in &session.console {
            new.parts.push(NewPart::console(stream, text));
        }
    }
    Ok(new)
}

/// File `at` of the entry, refused if it changed since it was listed (it would not match
/// the key's time).
fn read_listed(root: &Path, entry: &LegacyEntry, at: usize) -> Result<Vec<u8>> {
    let file = &entry.files[at];
    let bytes = read_file(root, &file.rel)?;
    let path = root.join(&file.rel);
    let mtime = std::fs::symlink_metadata(&path)
        .and_then(|m| m.modified())
        .at(&path)?;
    if bytes.len() as u64 != file.size || mtime != file.mtime {
        return Err(super::error::LegacyError::invalid(
            &path,
            "changed while it was imported; the next pass takes it",
        ));
    }
    Ok(bytes)
}

/// Blob path → variable name, from the manifest's references.
fn blob_labels(root: &Path, entry: &LegacyEntry) -> Vec<(String, String)> {
    match decode::decode_entry(root, entry) {
        Ok(d) => d
            .values
            .into_iter()
            .filter_map(|v| match v.slot {
                decode::Slot::Blob { rel, .. } => Some((rel, v.name)),
                _ => None,
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn format_of(rel: &str) -> String {
    rel.rsplit_once('.')
        .map_or("bin", |(_, ext)| ext)
        .to_string()
}

/// A blob no manifest item names (e.g. `ui.pickle`): labelled by its file stem.
fn blob_name(rel: &str) -> (String, String) {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let stem = name.split_once('.').map_or(name, |(stem, _)| stem);
    (stem.to_string(), format_of(rel))
}

/// Imports as marimo writes: [`Watcher::pass`] is one pass; [`watch`] follows the cache
/// folder and runs a pass after each change.
pub struct Watcher {
    history: LegacyHistory,
    store: Store,
    keys: ImportKeys,
}

impl Watcher {
    /// The cache folder need not exist yet (marimo has not run): it is followed from its
    /// parent, and passes find nothing until it appears.
    pub fn new(workspace: &Path, store: Store, cache_dir: Option<&Path>) -> Watcher {
        let root = super::scan::cache_root(workspace, cache_dir);
        Watcher {
            history: LegacyHistory::at(workspace, root),
            store,
            keys: ImportKeys::new(),
        }
    }

    /// Files the notebooks named in `keys` under the keys given there.
    pub fn with_keys(self, keys: ImportKeys) -> Watcher {
        Watcher { keys, ..self }
    }

    pub fn root(&self) -> &Path {
        self.history.root()
    }

    /// One import pass over what is in the cache folder now.
    pub fn pass(&mut self, journal: &dyn Journal) -> Result<ImportReport> {
        import_from(&self.history, &self.store, &self.keys, journal, &|_| {})
    }
}

/// Follows the cache folder with file-system notifications and runs a pass after each burst
/// of changes (and one at the start), until `stop` is set (Ctrl-C sets it in the CLI). Each
/// pass gets its journal from `journal_for`, and `on_pass` sees what it did. Survives the
/// cache folder being deleted and made again.
pub fn watch(
    watcher: &mut Watcher,
    stop: &AtomicBool,
    mut pass: impl FnMut(&mut Watcher) -> Result<()>,
) -> Result<()> {
    let (tx, rx) = channel();
    let targets = Targets {
        store: watcher.store.persist_dir().to_path_buf(),
        cache: watcher.root().to_path_buf(),
    };
    let _follow = Follow::start(targets, move |changed| {
        if changed.cache || changed.error.is_some() {
            let _ = tx.send(());
        }
    })
    .map_err(|e| {
        super::error::LegacyError::Message(format!(
            "cannot follow {}: {e}",
            watcher.root().display()
        ))
    })?;
    pass(watcher)?;
    while !stop.load(Ordering::Relaxed) {
        // The timeout only lets Ctrl-C be seen: passes run on notifications, not on a clock.
        match rx.recv_timeout(STOP_CHECK) {
            Ok(()) => pass(watcher)?,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(())
}

/// How often a waiting `watch` looks at its stop flag.
const STOP_CHECK: Duration = Duration::from_millis(200);
