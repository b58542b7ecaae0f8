//! `map.toml`: the content map of a notebook, one table per entry, sorted by execution key.
//!
//! Reading tolerates what git and sync tools leave behind: conflict markers are resolved by
//! reading both sides and merging them. Writing produces one canonical text, so unchanged
//! entries never show up in a diff.

mod canonical;

use super::config::{FORMAT_VERSION, check_format, line_of};
use super::error::{IoContext, Result, StoreError};
use super::fs::Fs;
use super::wire::{WireBody, exec_key};
use crate::model::{
    Entry, EntryId, EntryView, NotebookIndex, NotebookKey, PartKind, PartView, Timestamp,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use toml_writer::{TomlKeyBuilder, TomlStringBuilder, TomlWrite as _};

/// What a map file holds.
#[derive(Debug, Clone)]
pub struct MapData {
    pub index: NotebookIndex,
    /// Per log segment, the byte offset up to which its records are folded into this map.
    pub log_pos: BTreeMap<String, u64>,
    /// BLAKE3 (hex) of conflicted copies already merged into this map.
    pub merged: BTreeSet<String>,
}

impl MapData {
    pub fn empty(notebook: NotebookKey) -> MapData {
        MapData {
            index: NotebookIndex::new(notebook),
            log_pos: BTreeMap::new(),
            merged: BTreeSet::new(),
        }
    }

    /// Adds another map's state: entries are united (nothing is lost), a log position is the
    /// smaller of the two (replaying a record twice is harmless, skipping one is not).
    pub fn merge(&mut self, other: MapData) {
        for entry in other.index.entries() {
            let id = entry.key.id();
            match self.index.get(id) {
                Some(mine) => {
                    if entry.pinned && !mine.pinned {
                        self.index.set_pinned(id, true);
                    }
                    if let Some(used) = entry.last_used {
                        self.index.touch(id, used);
                    }
                    if let Some(served) = entry.served {
                        self.index.set_served(id, served);
                    }
                }
                None => {
                    self.index.insert(&entry);
                }
            }
        }
        let segments: BTreeSet<String> = self
            .log_pos
            .keys()
            .chain(other.log_pos.keys())
            .cloned()
            .collect();
        self.log_pos = segments
            .into_iter()
            .map(|s| {
                let a = self.log_pos.get(&s).copied().unwrap_or(0);
                let b = other.log_pos.get(&s).copied().unwrap_or(0);
                (s, a.min(b))
            })
            .collect();
        self.merged.extend(other.merged);
    }
}

/// `[entry.<cell>.<module>.<version>.<created>]` tables, nested as TOML reads them.
type Runs = BTreeMap<String, toml::Spanned<WireBody>>;
type EntryTables = BTreeMap<String, BTreeMap<String, BTreeMap<String, Runs>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    map: MapHeader,
    #[serde(default)]
    entry: EntryTables,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapHeader {
    format: i64,
    notebook: String,
    /// Written for readers that only want a count; celltime derives it from the tables and
    /// takes it only as a hint of how much room to make (any value is accepted).
    #[serde(default)]
    entries: Option<toml::Value>,
    #[serde(default)]
    log_pos: BTreeMap<String, u64>,
    #[serde(default)]
    merged: Vec<String>,
}

/// Parses a map file; `conflicted` tells whether it held git conflict markers.
pub fn parse_map(path: &Path, text: &str, notebook: &NotebookKey) -> Result<(MapData, bool)> {
    match split_conflict(path, text)? {
        None => Ok((parse_clean(path, text, notebook)?, false)),
        Some((ours, theirs)) => {
            let mut data = parse_clean(path, &ours, notebook)?;
            data.merge(parse_clean(path, &theirs, notebook)?);
            Ok((data, true))
        }
    }
}

/// Parses a map without conflict markers. Large maps are read table by table on all cores;
/// anything that reading cannot follow (a hand edit TOML allows but chunking does not) falls
/// back to reading the whole document, which also gives the exact error.
///
/// The layout celltime writes is read by [`canonical::read`] (several times faster). Other
/// texts in the layout of a table per module version (hand-edited) are read whole, so that
/// a table declared twice is refused; texts in the layout of a table per entry (maps written
/// before) are read in chunks.
fn parse_clean(path: &Path, text: &str, notebook: &NotebookKey) -> Result<MapData> {
    if let Some(data) = canonical::read(text, notebook) {
        return Ok(data);
    }
    if text.lines().any(|line| line.starts_with('"')) {
        return parse_whole(path, text, notebook);
    }
    parse_chunked(path, text, notebook).or_else(|_| parse_whole(path, text, notebook))
}

/// Bytes read from map.toml at a time when it is read block by block.
const BLOCK: usize = 4 << 20;

/// Reads a map file in the canonical layout block by block — never holding the whole text —
/// and its BLAKE3 hash; `Ok(None)` when the text is in any other layout (then read it whole
/// with [`parse_map`], which also reports what is wrong, with its line).
pub fn read_canonical_file(
    fs: &dyn Fs,
    path: &Path,
    notebook: &NotebookKey,
) -> Result<Option<(MapData, blake3::Hash)>> {
    let len = fs.metadata(path).at(path)?.len;
    let mut reader = canonical::Reader::new(notebook, len);
    let mut hasher = blake3::Hasher::new();
    let mut offset = 0u64;
    let batch = BLOCK * crate::parallel::workers();
    loop {
        let bytes = fs.read_range(path, offset, batch).at(path)?;
        hasher.update(&bytes);
        offset += bytes.len() as u64;
        if reader.feed(&bytes).is_none() {
            return Ok(None);
        }
        if bytes.len() < batch {
            break;
        }
    }
    Ok(reader.finish().map(|data| (data, hasher.finalize())))
}

/// The general reader alone (the whole document through the TOML parser): the reference
/// the canonical reader is checked against in tests and fuzzing.
pub fn parse_map_general(path: &Path, text: &str, notebook: &NotebookKey) -> Result<MapData> {
    parse_whole(path, text, notebook)
}

fn syntax_error(path: &Path, text: &str, offset: usize, e: toml::de::Error) -> StoreError {
    if let Some(found) = declared_format(text)
        && let Err(too_new) = check_format(path, found, FORMAT_VERSION)
    {
        return too_new;
    }
    let line = e.span().map(|s| line_of(text, offset + s.start));
    StoreError::invalid(path, line, e.message().trim().to_string())
}

fn check_header(path: &Path, header: &MapHeader, notebook: &NotebookKey) -> Result<()> {
    check_format(path, header.format, FORMAT_VERSION)?;
    if header.notebook != notebook.as_str() {
        return Err(StoreError::invalid(
            path,
            None,
            format!(
                "this map belongs to notebook {:?}, but its folder is {:?}",
                header.notebook,
                notebook.as_str()
            ),
        ));
    }
    Ok(())
}

fn parse_whole(path: &Path, text: &str, notebook: &NotebookKey) -> Result<MapData> {
    let file: MapFile = toml::from_str(text).map_err(|e| syntax_error(path, text, 0, e))?;
    check_header(path, &file.map, notebook)?;
    let mut entries = Vec::new();
    collect_entries(path, text, 0, notebook, file.entry, &mut entries)?;
    map_data(path, text, notebook, file.map, entries)
}

/// Builds the index, refusing a document that declares one entry twice: TOML forbids a
/// repeated table, and one instant spelled two ways (`Z` and `+01:00`) is the same entry.
/// Keeping either copy would let consolidation and gc drop the other's contents for good.
fn map_data(
    path: &Path,
    text: &str,
    notebook: &NotebookKey,
    header: MapHeader,
    entries: Vec<(usize, Entry)>,
) -> Result<MapData> {
    let mut index = NotebookIndex::new(notebook.clone());
    let mut first_seen: HashMap<EntryId, usize> = HashMap::with_capacity(entries.len());
    for (start, entry) in &entries {
        if let Some(first) = first_seen.insert(entry.key.id(), *start) {
            let (first, again) = (first.min(*start), first.max(*start));
            return Err(StoreError::invalid(
                path,
                Some(line_of(text, again)),
                format!(
                    "entry {} is declared twice (first at line {}); remove one of the two tables",
                    entry.key.id().short(),
                    line_of(text, first)
                ),
            ));
        }
        index.insert(entry);
    }
    Ok(MapData {
        index,
        log_pos: header.log_pos,
        merged: header.merged.into_iter().collect(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryChunk {
    entry: EntryTables,
}

/// The text before the first entry table, then each run of lines from one `[entry.` header
/// to the next, with its byte offset.
fn entry_chunks(text: &str) -> (&str, Vec<(usize, &str)>) {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("[entry.") {
            starts.push(offset);
        }
        offset += line.len();
    }
    let head = &text[..starts.first().copied().unwrap_or(text.len())];
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    let chunks = starts
        .iter()
        .zip(ends)
        .map(|(&s, e)| (s, &text[s..e]))
        .collect();
    (head, chunks)
}

fn parse_chunked(path: &Path, text: &str, notebook: &NotebookKey) -> Result<MapData> {
    let (head, chunks) = entry_chunks(text);
    let file: MapFile = toml::from_str(head).map_err(|e| syntax_error(path, text, 0, e))?;
    check_header(path, &file.map, notebook)?;
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let per_worker = chunks.len().div_ceil(workers).max(1);
    let parts: Vec<Result<Vec<(usize, Entry)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .chunks(per_worker)
            .map(|share| {
                scope.spawn(move || {
                    let mut entries = Vec::with_capacity(share.len());
                    for (offset, chunk) in share {
                        let tables: EntryChunk = toml::from_str(chunk)
                            .map_err(|e| syntax_error(path, text, *offset, e))?;
                        collect_entries(path, text, *offset, notebook, tables.entry, &mut entries)?;
                    }
                    Ok(entries)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(StoreError::invalid(path, None, "map reader failed")))
            })
            .collect()
    });
    let mut entries = Vec::with_capacity(chunks.len());
    for part in parts {
        entries.extend(part?);
    }
    map_data(path, text, notebook, file.map, entries)
}

/// Validates the tables of one document (or chunk starting at `offset`) into entries.
fn collect_entries(
    path: &Path,
    text: &str,
    offset: usize,
    notebook: &NotebookKey,
    tables: EntryTables,
    out: &mut Vec<(usize, Entry)>,
) -> Result<()> {
    for (cell, modules) in tables {
        for (module, versions) in modules {
            for (version, runs) in versions {
                for (created, body) in runs {
                    // Line numbers are only worked out for an error: counting them for every
                    // table would make reading a large map quadratic.
                    let start = offset + body.span().start;
                    let invalid = |message: String| {
                        StoreError::invalid(path, Some(line_of(text, start)), message)
                    };
                    let created_at: Timestamp = created
                        .parse()
                        .map_err(|e: crate::model::TimestampError| invalid(e.to_string()))?;
                    let key = exec_key(notebook, &cell, &module, &version, created_at)
                        .map_err(|e| invalid(e.to_string()))?;
                    let entry = body
                        .into_inner()
                        .into_entry(key)
                        .map_err(|e| invalid(e.to_string()))?;
                    out.push((start, entry));
                }
            }
        }
    }
    Ok(())
}

/// The `format = N` of the `[map]` table, read leniently so a newer file gets a clear error.
fn declared_format(text: &str) -> Option<i64> {
    let mut in_map = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_map = line == "[map]";
        } else if in_map && let Some(rest) = line.strip_prefix("format") {
            return rest.trim().strip_prefix('=')?.trim().parse().ok();
        }
    }
    None
}

/// Splits a text with git conflict markers into its two sides, or `None` without markers.
fn split_conflict(path: &Path, text: &str) -> Result<Option<(String, String)>> {
    #[derive(PartialEq)]
    enum Side {
        Both,
        Ours,
        Base,
        Theirs,
    }
    if !text.lines().any(|l| l.starts_with("<<<<<<<")) {
        return Ok(None);
    }
    let (mut ours, mut theirs) = (String::new(), String::new());
    let mut side = Side::Both;
    for (n, line) in text.lines().enumerate() {
        let unexpected = || StoreError::invalid(path, Some(n + 1), "unbalanced conflict marker");
        if line.starts_with("<<<<<<<") {
            if side != Side::Both {
                return Err(unexpected());
            }
            side = Side::Ours;
        } else if line.starts_with("|||||||") {
            if side != Side::Ours {
                return Err(unexpected());
            }
            side = Side::Base;
        } else if line.starts_with("=======") && side != Side::Both {
            if side == Side::Theirs {
                return Err(unexpected());
            }
            side = Side::Theirs;
        } else if line.starts_with(">>>>>>>") {
            if side != Side::Theirs {
                return Err(unexpected());
            }
            side = Side::Both;
        } else {
            let targets: &mut [&mut String] = match side {
                Side::Both => &mut [&mut ours, &mut theirs],
                Side::Ours => &mut [&mut ours],
                Side::Base => &mut [],
                Side::Theirs => &mut [&mut theirs],
            };
            for target in targets {
                target.push_str(line);
                target.push('\n');
            }
        }
    }
    if side != Side::Both {
        return Err(StoreError::invalid(
            path,
            None,
            "a conflict marker is never closed",
        ));
    }
    Ok(Some((ours, theirs)))
}

fn key(text: &str) -> String {
    let mut out = String::new();
    let _ = out.key(TomlKeyBuilder::new(text).as_basic());
    out
}

fn string(text: &str) -> String {
    let mut out = String::new();
    let _ = out.value(TomlStringBuilder::new(text).as_basic());
    out
}

/// The canonical text of a map: a table per module version of a cell, one line per run.
pub fn render_map(data: &MapData) -> String {
    let index = &data.index;
    let mut out = String::with_capacity(64 + index.len() * 400);
    let _ = writeln!(
        out,
        "# celltime content map of notebook {}: a table per cell, module and version, one line per run.",
        string(index.notebook().as_str())
    );
    out.push_str(
        "# Written by celltime when it consolidates the log; see docs/FORMAT.md before editing.\n",
    );
    out.push_str("[map]\n");
    let _ = writeln!(out, "format = {FORMAT_VERSION}");
    let _ = writeln!(out, "notebook = {}", string(index.notebook().as_str()));
    let _ = writeln!(out, "entries = {}", index.len());
    out.push_str("log_pos = {");
    for (i, (segment, pos)) in data.log_pos.iter().enumerate() {
        let sep = if i == 0 { " " } else { ", " };
        let _ = write!(out, "{sep}{} = {pos}", key(segment));
    }
    out.push_str(if data.log_pos.is_empty() {
        "}\n"
    } else {
        " }\n"
    });
    if !data.merged.is_empty() {
        let merged: Vec<String> = data.merged.iter().map(|m| string(m)).collect();
        let _ = writeln!(out, "merged = [{}]", merged.join(", "));
    }
    let mut group: Option<(&str, &str, &str)> = None;
    for view in index.views() {
        let this = (view.cell, view.module, view.version);
        if group != Some(this) {
            let _ = writeln!(
                out,
                "\n[entry.{}.{}.{}]",
                key(view.cell),
                key(view.module),
                key(view.version)
            );
            group = Some(this);
        }
        render_run(&mut out, index, &view);
    }
    out
}

/// One run: `"<created_at>" = { <fields> }`, on one line.
fn render_run(out: &mut String, index: &NotebookIndex, view: &EntryView<'_>) {
    let mut fields: Vec<String> = Vec::new();
    if view.pinned {
        fields.push("pinned = true".into());
    }
    if let Some(used) = view.last_used {
        fields.push(format!("last_used = {}", string(&used.to_rfc3339())));
    }
    if let Some(served) = view.served {
        fields.push(format!("served = {}", string(&served.to_rfc3339())));
    }
    if let Some(marimo_key) = view.marimo_key {
        fields.push(format!("marimo_key = {}", string(marimo_key)));
    }
    let parts: Vec<PartView<'_>> = index.part_views(view).collect();
    let content = |p: &PartView<'_>| format!("content = \"{}\", size = {}", p.content, p.size);
    for part in parts.iter().filter(|p| p.kind == PartKind::Code) {
        fields.push(format!("code = {{ {} }}", content(part)));
    }
    let rows = |kind: PartKind, label: &dyn Fn(&PartView<'_>) -> String| -> Vec<String> {
        parts
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| format!("{{ {}{} }}", label(p), content(p)))
            .collect()
    };
    let variables = rows(PartKind::Variables, &|p| {
        let name = if p.label.is_empty() {
            String::new()
        } else {
            format!("name = {}, ", string(p.label))
        };
        format!("{name}format = {}, ", string(p.format))
    });
    let outputs = rows(PartKind::Outputs, &|p| {
        format!("mime = {}, ", string(p.label))
    });
    let console = rows(PartKind::Console, &|p| {
        format!("stream = {}, ", string(p.label))
    });
    let watched = rows(PartKind::Watched, &|p| {
        format!("path = {}, ", string(p.label))
    });
    let parents: Vec<String> = index
        .parent_views(view)
        .map(|p| {
            let notebook = if p.notebook == index.notebook().as_str() {
                String::new()
            } else {
                format!("notebook = {}, ", string(p.notebook))
            };
            format!(
                "{{ {notebook}cell = {}, module = {}, version = {}, created = {} }}",
                string(p.cell),
                string(p.module),
                string(p.version),
                string(&p.created_at.to_rfc3339())
            )
        })
        .collect();
    for (name, rows) in [
        ("variables", variables),
        ("outputs", outputs),
        ("console", console),
        ("watched", watched),
        ("parents", parents),
    ] {
        if !rows.is_empty() {
            fields.push(format!("{name} = [{}]", rows.join(", ")));
        }
    }
    let created = key(&view.created_at.to_rfc3339());
    if fields.is_empty() {
        let _ = writeln!(out, "{created} = {{}}");
    } else {
        let _ = writeln!(out, "{created} = {{ {} }}", fields.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        CellKey, ContentHash, ExecKey, MarimoKey, ModuleHash, PartKind, PartRef, Version,
    };

    fn nb() -> NotebookKey {
        NotebookKey::new("analysis/eda").unwrap()
    }

    fn entry(cell: &str, created: i64) -> Entry {
        let hash = ContentHash::of(cell.as_bytes());
        Entry {
            key: ExecKey {
                notebook: nb(),
                cell: CellKey::new(cell).unwrap(),
                module: ModuleHash::new("Hx3-_a").unwrap(),
                version: Version::default(),
                created_at: Timestamp(created),
            },
            parts: vec![
                PartRef {
                    kind: PartKind::Code,
                    label: String::new(),
                    format: String::new(),
                    content: hash,
                    size: 5,
                },
                PartRef {
                    kind: PartKind::Outputs,
                    label: "text/plain".into(),
                    format: String::new(),
                    content: hash,
                    size: 5,
                },
                PartRef {
                    kind: PartKind::Variables,
                    label: "df \"quoted\"".into(),
                    format: "pickle".into(),
                    content: hash,
                    size: 5,
                },
            ],
            parents: vec![],
            pinned: true,
            last_used: Some(Timestamp(created + 5)),
            marimo_key: Some(MarimoKey::new("fit model/C_Hx3-_a.pickle").unwrap()),
            served: Some(Timestamp(created + 7)),
        }
    }

    fn data(entries: &[Entry]) -> MapData {
        let mut data = MapData::empty(nb());
        for e in entries {
            data.index.insert(e);
        }
        data.log_pos.insert("host-1".into(), 42);
        data
    }

    #[test]
    fn render_then_parse_is_identity() {
        let original = data(&[entry("b cell", 2_000), entry("a \"cell\" ünï?", 1_000)]);
        let text = render_map(&original);
        let (parsed, conflicted) = parse_map(Path::new("map.toml"), &text, &nb()).unwrap();
        assert!(!conflicted);
        assert_eq!(parsed.index.entries(), original.index.entries());
        assert_eq!(parsed.log_pos, original.log_pos);
        assert_eq!(render_map(&parsed), text);
    }

    #[test]
    fn conflict_markers_merge_both_sides() {
        let base = render_map(&data(&[entry("a", 1)]));
        let ours = render_map(&data(&[entry("a", 1), entry("b", 2)]));
        let theirs = render_map(&data(&[entry("a", 1), entry("c", 3)]));
        let text = format!(
            "{base}<<<<<<< HEAD\n{}=======\n{}>>>>>>> other\n",
            &ours[base.len()..],
            &theirs[base.len()..]
        );
        let (merged, conflicted) = parse_map(Path::new("map.toml"), &text, &nb()).unwrap();
        assert!(conflicted);
        assert_eq!(merged.index.len(), 3);
    }

    /// The line of the run created at `ms`, as `render_map` writes it.
    fn run_of(text: &str, ms: i64) -> &str {
        let created = format!("\"{}\" = ", Timestamp(ms));
        text.lines().find(|l| l.starts_with(&created)).unwrap()
    }

    /// A map as celltime wrote them before: a table per entry.
    fn table_per_entry(times: &[&str]) -> String {
        let hash = ContentHash::of(b"a");
        let mut text = "[map]\nformat = 1\nnotebook = \"analysis/eda\"\n".to_string();
        for time in times {
            text.push_str(&format!(
                "\n[entry.\"a\".\"Hx3-_a\".\"0\".\"{time}\"]\ncode = {{ content = \"{hash}\", size = 1 }}\n"
            ));
        }
        text
    }

    #[test]
    fn maps_with_a_table_per_entry_still_read() {
        let text = table_per_entry(&["1970-01-01T00:00:00.001Z", "1970-01-01T00:00:00.002Z"]);
        let (data, _) = parse_map(Path::new("map.toml"), &text, &nb()).unwrap();
        assert_eq!(data.index.len(), 2);
        let rendered = render_map(&data);
        let (again, _) = parse_map(Path::new("map.toml"), &rendered, &nb()).unwrap();
        assert_eq!(again.index.entries(), data.index.entries());
    }

    #[test]
    fn a_table_declared_twice_is_refused_with_its_line() {
        let twice = table_per_entry(&["1970-01-01T00:00:00.001Z", "1970-01-01T00:00:00.001Z"]);
        let err = parse_map(Path::new("nb/map.toml"), &twice, &nb()).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("nb/map.toml:8:"), "{message}");
    }

    #[test]
    fn a_run_declared_twice_is_refused_with_its_line() {
        let text = render_map(&data(&[entry("a", 1), entry("a", 2)]));
        let run = run_of(&text, 1);
        let twice = text.replacen(run, &format!("{run}\n{run}"), 1);
        let err = parse_map(Path::new("nb/map.toml"), &twice, &nb()).unwrap_err();
        let line = twice.lines().position(|l| l == run).unwrap() + 2;
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("nb/map.toml:{line}:")),
            "{message}"
        );
    }

    #[test]
    fn a_module_version_table_declared_twice_is_refused_with_its_line() {
        let text = render_map(&data(&[entry("a", 1)]));
        let header = text.lines().find(|l| l.starts_with("[entry.")).unwrap();
        let run = run_of(&text, 1).replace(&Timestamp(1).to_string(), &Timestamp(2).to_string());
        let twice = format!("{text}\n{header}\n{run}\n");
        let err = parse_map(Path::new("nb/map.toml"), &twice, &nb()).unwrap_err();
        let line = twice.lines().count() - 1;
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("nb/map.toml:{line}:")),
            "{message}"
        );
    }

    #[test]
    fn one_instant_spelled_two_ways_is_one_entry_declared_twice() {
        let old = table_per_entry(&["1970-01-01T01:00:00.000Z", "1970-01-01T02:00:00.000+01:00"]);
        let text = render_map(&data(&[entry("a", 3_600_000)]));
        let run = run_of(&text, 3_600_000);
        let respelled = run.replace(
            &Timestamp(3_600_000).to_string(),
            "1970-01-01T02:00:00.000+01:00",
        );
        let new = text.replacen(run, &format!("{run}\n{respelled}"), 1);
        for (layout, twice) in [("table per entry", old), ("line per run", new)] {
            let err = parse_map(Path::new("nb/map.toml"), &twice, &nb())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("declared twice (first at line"),
                "{layout}: {err}"
            );
            assert!(err.starts_with("nb/map.toml:"), "{layout}: {err}");
        }
    }

    #[test]
    fn errors_name_the_line() {
        let mut text = render_map(&data(&[entry("a", 1)]));
        text.push_str("\n[entry.\"x\".\"m\".\"0\".\"not a time\"]\n");
        let err = parse_map(Path::new("nb/map.toml"), &text, &nb()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("nb/map.toml:"), "{message}");
        assert!(message.contains("invalid timestamp"), "{message}");
    }

    #[test]
    fn a_newer_format_is_refused_clearly() {
        let text = "[map]\nformat = 3\nnotebook = \"analysis/eda\"\nshiny = true\n";
        let err = parse_map(Path::new("map.toml"), text, &nb()).unwrap_err();
        assert!(
            matches!(err, StoreError::FormatTooNew { found: 3, .. }),
            "{err}"
        );
    }
}
