//! marimo's cache folder as a [`History`]: blocks are cells (module = the entry's hash,
//! version `0`), each entry file (a lazy manifest with its blob folder) is an entry whose id
//! comes from its relative path, and whose time is the file's (approximate).

use super::decode::{self, Decoded, Slot, read_file, render_value};
use super::error::{LegacyError, Result};
use super::link::{Link, Linker};
use super::names;
use super::scan::{self, LegacyEntry, Scan};
use super::trash;
use crate::model::{
    Applied, BackendKind, CacheTie, Change, ContentHash, ContentRef, Copies, Detail, EntryId,
    History, HistoryError, HistoryResult, Journal, NotebookInfo, PartInfo, PartKind, PartMask,
    Removal, Row, Timeline,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Member names of a legacy part that are not variables: `@` never occurs in a Python name.
const CODE_MEMBER: &str = "@code";
const OUTPUTS_MEMBER: &str = "@outputs:";
const CONSOLE_MEMBER: &str = "@console:";
/// Variables previewed from inside an entry file are rendered as text.
pub const PREVIEW_FORMAT: &str = "repr";

/// A listing and the links of its entries, reused while nothing on disk changed.
pub struct Loaded {
    pub scan: Scan,
    /// Parallel to `scan.entries`.
    pub links: Vec<Link>,
    linker: Linker,
    /// Positions in `scan.entries` by id: a prune looks up thousands of entries.
    positions: HashMap<EntryId, usize>,
}

impl Loaded {
    fn is_current(&self) -> bool {
        self.scan.is_current() && self.linker.is_current()
    }

    pub fn find(&self, id: EntryId) -> Option<(&LegacyEntry, &Link)> {
        let at = *self.positions.get(&id)?;
        Some((&self.scan.entries[at], &self.links[at]))
    }

    /// Ids are derived from relative paths, so the path's id finds the entry.
    fn by_path(&self, rel: &str) -> Option<(&LegacyEntry, &Link)> {
        self.find(scan::entry_id(rel))
            .filter(|(entry, _)| entry.rel_path == rel)
    }

    /// Entries and links of one notebook.
    pub fn of_notebook<'a>(
        &'a self,
        notebook: &'a str,
    ) -> impl Iterator<Item = (&'a LegacyEntry, &'a Link)> {
        self.scan
            .entries
            .iter()
            .zip(&self.links)
            .filter(move |(_, l)| &*l.notebook == notebook)
    }
}

pub struct LegacyHistory {
    workspace: PathBuf,
    root: PathBuf,
    fallback: String,
    loaded: Mutex<Option<Arc<Loaded>>>,
    /// How long trash batches stay undoable: the store's `gc_grace` where there is one.
    grace: std::time::Duration,
}

/// The notebook of entries nothing maps: the cache folder's path in the workspace, or its
/// name when it is elsewhere.
pub fn fallback_notebook(workspace: &Path, root: &Path) -> String {
    match root.strip_prefix(workspace) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        _ => root
            .file_name()
            .map_or_else(|| "cache".to_string(), |n| n.to_string_lossy().into_owned()),
    }
}

impl LegacyHistory {
    /// The cache of `workspace` (or `cache_dir`, marimo's `save_path`), which must exist.
    pub fn open(workspace: &Path, cache_dir: Option<&Path>) -> Result<LegacyHistory> {
        let root = scan::cache_root(workspace, cache_dir);
        if !root.is_dir() {
            return Err(LegacyError::NoCache { path: root });
        }
        Ok(LegacyHistory::at(workspace, root))
    }

    /// The cache folder `root` of `workspace`, which may not exist (yet): it lists as empty.
    pub fn at(workspace: &Path, root: PathBuf) -> LegacyHistory {
        LegacyHistory {
            fallback: fallback_notebook(workspace, &root),
            workspace: workspace.to_path_buf(),
            root,
            loaded: Mutex::new(None),
            grace: trash::TRASH_GRACE,
        }
    }

    /// Trash batches stay undoable for `grace` (the store's `gc_grace`).
    pub fn with_grace(mut self, grace: std::time::Duration) -> LegacyHistory {
        self.grace = grace;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The current listing: reused while the cache's folders and the notebook files are
    /// unchanged, else listed again.
    pub fn load(&self) -> Result<Arc<Loaded>> {
        let mut slot = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(loaded) = slot.as_ref()
            && loaded.is_current()
        {
            return Ok(loaded.clone());
        }
        let scan = if self.root.is_dir() {
            scan::scan(&self.root)?
        } else {
            Scan::empty(&self.root)
        };
        let linker = Linker::new(&self.workspace, &scan, &self.fallback);
        let links = linker.links(&self.root, &scan.entries);
        let positions = scan
            .entries
            .iter()
            .enumerate()
            .map(|(at, e)| (e.id(), at))
            .collect();
        let loaded = Arc::new(Loaded {
            scan,
            links,
            linker,
            positions,
        });
        *slot = Some(loaded.clone());
        Ok(loaded)
    }

    /// Drops the cached listing: the next [`LegacyHistory::load`] lists the folder again.
    pub fn forget(&self) {
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// A notebook's rows in execution-key order, and what ties each to its cache file.
    pub fn timeline_of(loaded: &Loaded, notebook: &str) -> (Timeline, Vec<Option<CacheTie>>) {
        let entries = in_key_order(loaded, notebook);
        let ties = entries
            .iter()
            .map(|(entry, _)| {
                Some(CacheTie {
                    hash: entry.name.hash.clone(),
                    format: entry.name.loader.extension().to_string(),
                    size: entry.files[0].size,
                    at: entry.created_at(),
                })
            })
            .collect();
        (timeline_in_order(notebook, &entries), ties)
    }

    /// Moves the entries `ids` of `notebook` into a new trash batch, recording the change in
    /// `journal` first. Entries that are gone or changed since `loaded` listed them stay
    /// where they are and are reported.
    pub fn trash(
        &self,
        loaded: &Loaded,
        notebook: &str,
        ids: &[EntryId],
        journal: &dyn Journal,
    ) -> HistoryResult<trash::Trashed> {
        let mut failures = Vec::new();
        let mut entries = Vec::new();
        for id in ids {
            match Self::entry_of(loaded, notebook, *id) {
                Ok((entry, _)) => entries.push(entry),
                Err(e) => failures.push(e.to_string()),
            }
        }
        if entries.is_empty() {
            return Ok(trash::Trashed {
                failures,
                ..trash::Trashed::default()
            });
        }
        let batch = trash::batch_name(&journal.op_id());
        journal.record(&Change::CacheTrashed {
            cache_dir: self.root.clone(),
            batch: batch.clone(),
            ids: entries.iter().map(|e| e.id()).collect(),
        })?;
        let outcome = trash::move_to_trash(&self.root, &batch, &entries);
        self.forget();
        let mut outcome = outcome?;
        failures.append(&mut outcome.failures);
        outcome.failures = failures;
        Ok(outcome)
    }

    /// Reverses a change of this cache folder (an undo).
    pub fn reverse_cache(&self, change: &Change, journal: &dyn Journal) -> HistoryResult<usize> {
        let (cache_dir, batch) = match change {
            Change::CacheTrashed {
                cache_dir, batch, ..
            }
            | Change::CacheRestored {
                cache_dir, batch, ..
            } => (cache_dir, batch),
            _ => {
                return Err(HistoryError::new(
                    "this change was made in celltime's store, which this command did not open",
                ));
            }
        };
        if !same_folder(cache_dir, &self.root) {
            return Err(HistoryError::new(format!(
                "this change was made in marimo's cache folder {}, not {}",
                cache_dir.display(),
                self.root.display()
            )));
        }
        match change {
            Change::CacheTrashed { .. } => self.restore_batch(batch, journal),
            Change::CacheRestored { ids, .. } => {
                let loaded = self.fresh()?;
                let mut moved = 0;
                let mut failures = Vec::new();
                let notebooks: BTreeSet<&str> = ids
                    .iter()
                    .filter_map(|id| loaded.find(*id).map(|(_, l)| &*l.notebook))
                    .collect();
                for notebook in notebooks {
                    let outcome = self.trash(&loaded, notebook, ids, journal)?;
                    moved += outcome.moved;
                    failures.extend(
                        outcome
                            .failures
                            .into_iter()
                            .filter(|f| !f.starts_with("no entry")),
                    );
                }
                match failures.first() {
                    Some(first) => Err(HistoryError::new(format!(
                        "moved {} back to the trash; {} could not be: {first}",
                        crate::units::count(moved, "entry", "entries"),
                        failures.len()
                    ))),
                    None => Ok(moved),
                }
            }
            _ => unreachable!("matched above"),
        }
    }

    /// Moves a trash batch back, recording the entries it puts back first.
    fn restore_batch(&self, batch: &str, journal: &dyn Journal) -> HistoryResult<usize> {
        let path = trash::batch_path(&self.root, batch);
        if !path.is_dir() {
            return Err(HistoryError::new(format!(
                "trash batch {} is gone (the trash was emptied, or its grace period passed); those entries of marimo's cache cannot come back",
                path.display()
            )));
        }
        journal.record(&Change::CacheRestored {
            cache_dir: self.root.clone(),
            batch: batch.to_string(),
            ids: trash::batch_ids(&path)?,
        })?;
        let outcome = trash::restore(&self.root, &path);
        self.forget();
        let outcome = outcome?;
        if let Some(first) = outcome.failures.first() {
            return Err(HistoryError::new(format!(
                "restored {}; {} could not be: {first}",
                crate::units::count(outcome.restored, "entry", "entries"),
                outcome.failures.len()
            )));
        }
        Ok(outcome.restored)
    }

    /// The listing as it is on disk now.
    pub fn fresh(&self) -> HistoryResult<Arc<Loaded>> {
        self.forget();
        Ok(self.load()?)
    }

    /// Deletes every trash batch of this cache folder; returns how many.
    pub fn empty_trash(&self) -> Result<usize> {
        trash::empty_trash(&self.root)
    }

    fn entry_of<'a>(
        loaded: &'a Loaded,
        notebook: &str,
        id: EntryId,
    ) -> Result<(&'a LegacyEntry, &'a Link)> {
        loaded
            .find(id)
            .filter(|(_, l)| &*l.notebook == notebook)
            .ok_or_else(|| LegacyError::UnknownEntry(id.short()))
    }
}

fn mask_of(link: &Link) -> PartMask {
    let mut mask = PartMask::default().with(PartKind::Variables);
    if link.code.is_some() {
        mask = mask.with(PartKind::Code);
    }
    if let Some(session) = &link.session {
        if !session.outputs.is_empty() {
            mask = mask.with(PartKind::Outputs);
        }
        if !session.console.is_empty() {
            mask = mask.with(PartKind::Console);
        }
    }
    mask
}

/// What rows of one listing share: the version string, and the hash of each cell's code (a
/// cell's runs share one code snapshot, hashed once rather than once per run).
struct Shared {
    version: Arc<str>,
    codes: HashMap<*const u8, ContentHash>,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            // marimo's cache has no versions: every run is version 0.
            version: Arc::from("0"),
            codes: HashMap::new(),
        }
    }

    /// Links of one cell hold one `Arc` of its code: its address identifies the text while
    /// the listing lives.
    fn code_hash(&mut self, code: &Arc<str>) -> ContentHash {
        *self
            .codes
            .entry(code.as_ptr())
            .or_insert_with(|| ContentHash::of(code.as_bytes()))
    }
}

/// A notebook's entries in execution-key order: cell, module, version (always "0" here), time;
/// then the id, so the order is total and sorting in place gives one answer. Pairs are sorted,
/// not rows: they are a fraction of a row's size.
fn in_key_order<'a>(loaded: &'a Loaded, notebook: &'a str) -> Vec<(&'a LegacyEntry, &'a Link)> {
    let mut entries: Vec<_> = loaded.of_notebook(notebook).collect();
    entries.sort_unstable_by(|(a, a_link), (b, b_link)| {
        (&a_link.cell, &a.name.hash, a.created_at(), a.id()).cmp(&(
            &b_link.cell,
            &b.name.hash,
            b.created_at(),
            b.id(),
        ))
    });
    entries
}

/// [`LegacyHistory::timeline_of`] for callers that need no ties.
fn timeline_without_ties(loaded: &Loaded, notebook: &str) -> Timeline {
    timeline_in_order(notebook, &in_key_order(loaded, notebook))
}

fn timeline_in_order(notebook: &str, entries: &[(&LegacyEntry, &Link)]) -> Timeline {
    let mut shared = Shared::new();
    let rows = entries
        .iter()
        .enumerate()
        .map(|(content, (entry, link))| row_of(entry, link, content as u32, &mut shared))
        .collect();
    Timeline {
        notebook: notebook.to_string(),
        rows,
        content_sizes: entries.iter().map(|(entry, _)| entry.size()).collect(),
    }
}

fn row_of(entry: &LegacyEntry, link: &Link, content: u32, shared: &mut Shared) -> Row {
    Row {
        id: entry.id(),
        cell: link.cell.clone(),
        module: Arc::from(entry.name.hash.as_str()),
        version: shared.version.clone(),
        created_at: entry.created_at(),
        approximate_time: true,
        last_used: None,
        pinned: false,
        size: entry.size(),
        parts: mask_of(link),
        contents: vec![content],
        copies: Copies::CACHE,
        code: link.code.as_ref().map(|code| shared.code_hash(code)),
    }
}

fn file_part(
    kind: PartKind,
    label: &str,
    format: &str,
    size: u64,
    path: &str,
    member: Option<String>,
) -> PartInfo {
    PartInfo {
        kind,
        label: label.to_string(),
        format: format.to_string(),
        size,
        content: ContentRef::File {
            path: path.to_string(),
            member,
        },
    }
}

fn parts_of(entry: &LegacyEntry, link: &Link, decoded: Option<&Decoded>) -> Vec<PartInfo> {
    let mut parts = Vec::new();
    let rel = entry.rel_path.as_str();
    if let Some(code) = &link.code {
        parts.push(file_part(
            PartKind::Code,
            "",
            "",
            code.len() as u64,
            rel,
            Some(CODE_MEMBER.into()),
        ));
    }
    for value in decoded.map_or(&[][..], |d| &d.values[..]) {
        match &value.slot {
            Slot::Inline(v) => {
                let size = render_value(v).len() as u64;
                parts.push(file_part(
                    PartKind::Variables,
                    &value.name,
                    PREVIEW_FORMAT,
                    size,
                    rel,
                    Some(value.name.clone()),
                ));
            }
            Slot::Blob {
                rel: blob,
                format,
                size,
            } => {
                parts.push(file_part(
                    PartKind::Variables,
                    &value.name,
                    format,
                    *size,
                    blob,
                    None,
                ));
            }
            Slot::Missing(_) => {}
        }
    }
    if let Some(session) = &link.session {
        for (mime, bytes) in &session.outputs {
            parts.push(file_part(
                PartKind::Outputs,
                mime,
                "",
                bytes.len() as u64,
                rel,
                Some(format!("{OUTPUTS_MEMBER}{mime}")),
            ));
        }
        for (stream, text) in &session.console {
            parts.push(file_part(
                PartKind::Console,
                stream,
                "",
                text.len() as u64,
                rel,
                Some(format!("{CONSOLE_MEMBER}{stream}")),
            ));
        }
    }
    parts
}

fn facts_of(
    root: &Path,
    entry: &LegacyEntry,
    link: &Link,
    decoded: &Result<Decoded>,
) -> Vec<(String, String)> {
    let prefix_type = names::cache_type_of(entry.name.prefix);
    let mut facts = vec![
        ("id".to_string(), entry.id().to_hex()),
        ("notebook".to_string(), link.notebook.to_string()),
        ("cell".to_string(), link.cell.to_string()),
        ("block".to_string(), entry.block.to_string()),
        ("mapping".to_string(), link.origin.to_string()),
        ("cache type".to_string(), prefix_type.to_string()),
        ("loader".to_string(), entry.name.loader.name().to_string()),
        ("hash".to_string(), entry.name.hash.clone()),
        (
            "created".to_string(),
            format!("~{} (file time)", entry.created_at().to_rfc3339()),
        ),
        ("size".to_string(), entry.size().to_string()),
        ("cache folder".to_string(), root.display().to_string()),
    ];
    for file in &entry.files {
        facts.push((
            "file".to_string(),
            format!("{} ({} bytes)", file.rel, file.size),
        ));
    }
    if let Some(note) = &link.outputs_note {
        facts.push(("outputs".to_string(), note.to_string()));
    }
    match decoded {
        Ok(d) => facts.extend(decoded_facts(entry, prefix_type, d)),
        Err(e) => facts.push(("error".to_string(), e.to_string())),
    }
    facts
}

fn decoded_facts(entry: &LegacyEntry, prefix_type: &str, d: &Decoded) -> Vec<(String, String)> {
    let mut facts = Vec::new();
    if d.cache_type != prefix_type {
        facts.push((
            "warning".into(),
            format!(
                "the file says cache type {:?}, its name {prefix_type:?}",
                d.cache_type
            ),
        ));
    }
    if d.hash != entry.name.hash {
        facts.push((
            "warning".into(),
            format!("the file holds hash {:?}, not the one in its name", d.hash),
        ));
    }
    let version = d.version.map_or("unknown".into(), |v| v.to_string());
    facts.push(("marimo cache version".into(), version));
    if let Some(runtime) = d.runtime {
        facts.push(("runtime".into(), format!("{runtime:.6} s")));
    }
    if !d.stateful_refs.is_empty() {
        facts.push(("stateful refs".into(), d.stateful_refs.join(", ")));
    }
    if let Some(signature) = &d.signature {
        facts.push(("signature".into(), signature.to_string()));
    }
    for (blob, ok) in &d.blob_hashes {
        let status = if *ok {
            "sha256 matches"
        } else {
            "sha256 DOES NOT MATCH (or blob missing)"
        };
        facts.push(("blob hash".into(), format!("{blob}: {status}")));
    }
    for value in &d.values {
        if let Slot::Missing(reference) = &value.slot {
            facts.push((
                "missing blob".into(),
                format!("{}: {reference}", value.name),
            ));
        }
    }
    facts
}

impl History for LegacyHistory {
    fn kind(&self) -> BackendKind {
        BackendKind::Legacy
    }

    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn notebooks(&self) -> HistoryResult<Vec<NotebookInfo>> {
        let loaded = self.load()?;
        let mut by_notebook: BTreeMap<&str, (BTreeSet<&str>, usize, u64)> = BTreeMap::new();
        for (entry, link) in loaded.scan.entries.iter().zip(&loaded.links) {
            let slot = by_notebook.entry(&link.notebook).or_default();
            slot.0.insert(&link.cell);
            slot.1 += 1;
            slot.2 += entry.size();
        }
        Ok(by_notebook
            .into_iter()
            .map(|(notebook, (cells, entries, bytes))| NotebookInfo {
                notebook: notebook.to_string(),
                cells: cells.len(),
                entries,
                bytes,
            })
            .collect())
    }

    fn timeline(&self, notebook: &str) -> HistoryResult<Timeline> {
        let loaded = self.load()?;
        Ok(timeline_without_ties(&loaded, notebook))
    }

    fn detail(&self, notebook: &str, id: EntryId) -> HistoryResult<Detail> {
        let loaded = self.load()?;
        let (entry, link) = Self::entry_of(&loaded, notebook, id)?;
        let decoded = decode::decode_entry(&self.root, entry);
        Ok(Detail {
            parts: parts_of(entry, link, decoded.as_ref().ok()),
            parents: Vec::new(),
            facts: facts_of(&self.root, entry, link, &decoded),
        })
    }

    fn read(&self, _notebook: &str, part: &PartInfo) -> HistoryResult<Vec<u8>> {
        let ContentRef::File { path, member } = &part.content else {
            return Err(HistoryError::new("not a file of marimo's cache folder"));
        };
        let loaded = self.load()?;
        let Some(member) = member else {
            // Only files of listed entries are read: a part cannot name any other file.
            let listed = loaded
                .scan
                .entries
                .iter()
                .any(|e| e.files.iter().any(|f| f.rel == *path));
            if !listed {
                return Err(LegacyError::UnknownEntry(path.clone()).into());
            }
            return Ok(read_file(&self.root, path)?);
        };
        let (entry, link) = loaded
            .by_path(path)
            .ok_or_else(|| LegacyError::UnknownEntry(path.clone()))?;
        Ok(read_member(&self.root, entry, link, member)?)
    }

    fn remove(&self, removal: &Removal<'_>) -> HistoryResult<Applied> {
        let loaded = self.fresh()?;
        let timeline = timeline_without_ties(&loaded, removal.notebook);
        (removal.check)(&timeline).map_err(HistoryError::stale)?;
        let outcome = self.trash(&loaded, removal.notebook, removal.ids, removal.journal)?;
        Ok(Applied {
            notebook: removal.notebook.to_string(),
            removed: outcome.moved,
            bytes: outcome.bytes,
            cache_bytes: outcome.bytes,
            failures: outcome.failures,
        })
    }

    fn reverse(&self, change: &Change, journal: &dyn Journal) -> HistoryResult<usize> {
        self.reverse_cache(change, journal)
    }

    fn ops_dir(&self) -> Option<PathBuf> {
        Some(
            crate::store::Workspace::at(&self.workspace)
                .persist_dir()
                .join(crate::ops::OPS_DIR),
        )
    }

    /// Deletes trash batches past their grace period (a day), whichever notebooks their
    /// entries came from: the trash belongs to the cache folder.
    fn reclaim(&self, _notebook: &str) -> HistoryResult<u64> {
        Ok(trash::reclaim(&self.root, self.grace)?)
    }

    fn set_pinned(
        &self,
        _notebook: &str,
        _ids: &[EntryId],
        _pinned: bool,
        _journal: &dyn Journal,
    ) -> HistoryResult<usize> {
        Err(HistoryError::new(format!(
            "marimo's cache folder ({}) has no place for pins; run `celltime import` to copy its entries into celltime's store, then pin them there",
            self.root.display()
        )))
    }
}

/// Two spellings of one folder (as recorded, as opened) name the same place.
fn same_folder(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

fn read_member(root: &Path, entry: &LegacyEntry, link: &Link, member: &str) -> Result<Vec<u8>> {
    let path = root.join(&entry.rel_path);
    let missing = || LegacyError::invalid(&path, format!("has no part {member:?}"));
    if member == CODE_MEMBER {
        return link
            .code
            .as_ref()
            .map(|c| c.as_bytes().to_vec())
            .ok_or_else(missing);
    }
    if let Some(mime) = member.strip_prefix(OUTPUTS_MEMBER) {
        let session = link.session.as_ref().ok_or_else(missing)?;
        return session
            .outputs
            .iter()
            .find(|(m, _)| m == mime)
            .map(|(_, b)| b.clone())
            .ok_or_else(missing);
    }
    if let Some(stream) = member.strip_prefix(CONSOLE_MEMBER) {
        let session = link.session.as_ref().ok_or_else(missing)?;
        return session
            .console
            .iter()
            .find(|(s, _)| s == stream)
            .map(|(_, t)| t.clone().into_bytes())
            .ok_or_else(missing);
    }
    let decoded = decode::decode_entry(root, entry)?;
    match &decoded.value(member).ok_or_else(missing)?.slot {
        Slot::Inline(v) => Ok(render_value(v).into_bytes()),
        Slot::Blob { rel, .. } => read_file(root, rel),
        Slot::Missing(reference) => Err(LegacyError::invalid(
            &path,
            format!("blob {reference} is missing"),
        )),
    }
}
