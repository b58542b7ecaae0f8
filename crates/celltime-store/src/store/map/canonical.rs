//! Reading the layout [`super::render_map`] writes without a general TOML parser: a large
//! map is read line by line, on all cores, straight into the index.
//!
//! The reader accepts exactly the canonical layout — the `[map]` table (read with the TOML
//! parser: it is small), then `[entry."<cell>"."<module>"."<version>"]` tables in increasing
//! order, each with one line per run in increasing time, fields in the order the writer uses —
//! and gives up on anything else: a hand edit, an older layout, an invalid key. The general
//! reader then reads the text, so it is the one that accepts, or refuses with file and line.
//! Because groups and runs must strictly increase, no entry can be declared twice in a text
//! this reader accepts (and one instant spelled two ways is the same time, so not increasing).

use super::{MapData, MapFile, MapHeader, check_header};
use crate::model::{
    BorrowedEntry, CellKey, ContentHash, EntryId, MarimoKey, ModuleHash, NotebookIndex,
    NotebookKey, ParentView, PartKind, PartView, Timestamp, Version, check_part_labels,
};
use crate::parallel;
use std::borrow::Cow;
use std::path::Path;

const GROUP: &str = "[entry.";
/// Below this many bytes per piece the entries are read on one thread.
const PARALLEL_PIECE: usize = 1 << 20;

/// The map's data if `text` is in the canonical layout, else `None`.
pub(super) fn read(text: &str, notebook: &NotebookKey) -> Option<MapData> {
    let mut reader = Reader::new(notebook, text.len() as u64);
    reader.feed(text.as_bytes())?;
    reader.finish()
}

/// Reads the canonical layout from bytes given in any slices (a file read block by block),
/// holding only the text not read yet: the tables before the last one seen are read as soon
/// as they are complete.
pub(in crate::store) struct Reader<'n> {
    notebook: &'n NotebookKey,
    head: Option<MapHeader>,
    pending: Vec<u8>,
    index: Option<NotebookIndex>,
    /// The last table read, to check the next one comes after it.
    last: Option<(String, String, String)>,
    /// The text's length: no map of that length holds more than a hundredth as many entries.
    len: u64,
    /// How many entries `[map]` says there are (within what `len` allows), to make room.
    expected: usize,
}

impl<'n> Reader<'n> {
    /// A reader for a map text of `len` bytes.
    pub(in crate::store) fn new(notebook: &'n NotebookKey, len: u64) -> Reader<'n> {
        Reader {
            notebook,
            head: None,
            pending: Vec::new(),
            index: None,
            last: None,
            len,
            expected: 0,
        }
    }

    /// Reads what `bytes` completes; `None` once the text is not in the canonical layout.
    pub(in crate::store) fn feed(&mut self, bytes: &[u8]) -> Option<()> {
        self.pending.extend_from_slice(bytes);
        if self.head.is_none() {
            match group_start(&self.pending) {
                Some(at) => self.read_head(at)?,
                None => return Some(()),
            }
        }
        let last_start = memchr::memmem::rfind(&self.pending, b"\n[entry.").map(|at| at + 1);
        if let Some(end) = last_start {
            self.read_tables(end)?;
        }
        Some(())
    }

    /// The map, once every byte was fed.
    pub(in crate::store) fn finish(mut self) -> Option<MapData> {
        if self.head.is_none() {
            self.read_head(self.pending.len())?;
        }
        self.read_tables(self.pending.len())?;
        let head = self.head?;
        let mut index = self
            .index
            .unwrap_or_else(|| NotebookIndex::new(self.notebook.clone()));
        index.finish_bulk();
        index.trim();
        Some(MapData {
            index,
            log_pos: head.log_pos,
            merged: head.merged.into_iter().collect(),
        })
    }

    /// The `[map]` table: the text before the first entry table.
    fn read_head(&mut self, end: usize) -> Option<()> {
        let text = std::str::from_utf8(&self.pending[..end]).ok()?;
        let file: MapFile = toml::from_str(text).ok()?;
        if !file.entry.is_empty() {
            return None;
        }
        check_header(Path::new("map.toml"), &file.map, self.notebook).ok()?;
        let said = file.map.entries.as_ref().and_then(toml::Value::as_integer);
        self.expected = said.map_or(0, |n| n.clamp(0, (self.len / 100) as i64) as usize);
        self.head = Some(file.map);
        self.pending.drain(..end);
        Some(())
    }

    /// The entry tables in `pending[..end]`, on all cores.
    fn read_tables(&mut self, end: usize) -> Option<()> {
        let text = std::str::from_utf8(&self.pending[..end]).ok()?;
        let notebook = self.notebook;
        let pieces = group_pieces(text, parallel::piece_count(text.len(), PARALLEL_PIECE));
        let read = parallel::map_shares(&pieces, |share| {
            share
                .iter()
                .map(|range| read_piece(&text[range.clone()], notebook))
                .collect::<Vec<_>>()
        });
        for piece in read.into_iter().flatten() {
            let piece = piece?;
            if let (Some((cell, module, version)), Some(first)) = (&self.last, &piece.first) {
                let last = (cell.as_str(), module.as_str(), version.as_str());
                (last < (&first.0, &first.1, &first.2)).then_some(())?;
            }
            if let Some((cell, module, version)) = piece.last {
                self.last = Some((cell.into_owned(), module.into_owned(), version.into_owned()));
            }
            match &mut self.index {
                Some(index) => index.append(piece.index),
                None => {
                    let mut index = piece.index;
                    index.reserve_entries(self.expected.saturating_sub(index.len()));
                    self.index = Some(index);
                }
            }
        }
        self.pending.drain(..end);
        Some(())
    }
}

/// The offset of the first line that opens an entry table.
fn group_start(bytes: &[u8]) -> Option<usize> {
    if bytes.starts_with(GROUP.as_bytes()) {
        return Some(0);
    }
    memchr::memmem::find(bytes, b"\n[entry.").map(|at| at + 1)
}

/// Ranges that cut `body` (which starts with an entry table) into at most `count` pieces,
/// each starting with an entry table.
fn group_pieces(body: &str, count: usize) -> Vec<std::ops::Range<usize>> {
    let mut pieces = Vec::with_capacity(count);
    let mut start = 0;
    for i in 1..count {
        let target = (body.len() * i / count).max(start + 1);
        let Some(found) = body.get(target..).and_then(|rest| rest.find("\n[entry.")) else {
            break;
        };
        let end = target + found + 1;
        pieces.push(start..end);
        start = end;
    }
    pieces.push(start..body.len());
    pieces
}

/// (cell, module, version) of an entry table, unescaped.
type Group<'a> = (Cow<'a, str>, Cow<'a, str>, Cow<'a, str>);

/// What one piece holds: its entries, and its first and last table for the order check.
struct Piece<'a> {
    index: NotebookIndex,
    first: Option<Group<'a>>,
    last: Option<Group<'a>>,
}

fn read_piece<'a>(text: &'a str, notebook: &'a NotebookKey) -> Option<Piece<'a>> {
    let mut piece = Piece {
        index: NotebookIndex::new_bulk(notebook.clone()),
        first: None,
        last: None,
    };
    // A content reference takes at least a hundred bytes of text: room for all of them.
    piece.index.reserve_contents(text.len() / 100);
    let mut previous_run: Option<Timestamp> = None;
    let mut key = None;
    for line in text.split('\n') {
        if line.is_empty() {
            continue;
        }
        if line.starts_with(GROUP) {
            let group = group_header(line)?;
            if piece.last.as_ref().is_some_and(|last| *last >= group) {
                return None;
            }
            key = Some(piece.index.intern_key(&group.0, &group.1, &group.2));
            piece.first.get_or_insert_with(|| group.clone());
            piece.last = Some(group);
            previous_run = None;
            continue;
        }
        let (cell, module, version) = piece.last.as_ref()?;
        let run = run_line(line)?;
        if previous_run.is_some_and(|t| t >= run.created_at) {
            return None;
        }
        previous_run = Some(run.created_at);
        let parents: Vec<ParentView<'_>> = run
            .parents
            .iter()
            .map(|p| ParentView {
                notebook: p.notebook.as_deref().unwrap_or(notebook.as_str()),
                cell: &p.cell,
                module: &p.module,
                version: &p.version,
                created_at: p.created_at,
            })
            .collect();
        piece.index.push(&BorrowedEntry {
            id: EntryId::of(notebook.as_str(), cell, module, version, run.created_at),
            key: key?,
            created_at: run.created_at,
            pinned: run.pinned,
            last_used: run.last_used,
            served: run.served,
            marimo_key: run.marimo_key.as_deref(),
            parts: run.parts.iter().map(RawPart::view).collect(),
            parents: &parents,
        });
    }
    Some(piece)
}

/// `[entry."<cell>"."<module>"."<version>"]`, with valid keys.
fn group_header(line: &str) -> Option<Group<'_>> {
    let mut at = Cursor::new(line);
    at.expect(GROUP)?;
    let cell = at.string()?;
    at.expect(".")?;
    let module = at.string()?;
    at.expect(".")?;
    let version = at.string()?;
    at.expect("]")?;
    at.end()?;
    CellKey::check(&cell).ok()?;
    ModuleHash::check(&module).ok()?;
    Version::check(&version).ok()?;
    Some((cell, module, version))
}

/// The fields of one run line; text borrowed from the line unless it had escapes.
struct Run<'a> {
    created_at: Timestamp,
    pinned: bool,
    last_used: Option<Timestamp>,
    served: Option<Timestamp>,
    marimo_key: Option<Cow<'a, str>>,
    parts: Vec<RawPart<'a>>,
    parents: Vec<RawParent<'a>>,
}

struct RawPart<'a> {
    kind: PartKind,
    label: Cow<'a, str>,
    format: Cow<'a, str>,
    content: ContentHash,
    size: u64,
}

impl RawPart<'_> {
    fn view(&self) -> PartView<'_> {
        PartView {
            kind: self.kind,
            label: &self.label,
            format: &self.format,
            content: self.content,
            size: self.size,
        }
    }
}

/// A parent; `notebook` is `None` for the entry's own notebook.
struct RawParent<'a> {
    notebook: Option<Cow<'a, str>>,
    cell: Cow<'a, str>,
    module: Cow<'a, str>,
    version: Cow<'a, str>,
    created_at: Timestamp,
}

/// The fields of a run, in the order the writer emits them; each at most once.
const FIELDS: [&str; 10] = [
    "pinned",
    "last_used",
    "served",
    "marimo_key",
    "code",
    "variables",
    "outputs",
    "console",
    "watched",
    "parents",
];

/// `"<created_at>" = { <fields> }`.
fn run_line(line: &str) -> Option<Run<'_>> {
    let mut at = Cursor::new(line);
    let created_at: Timestamp = at.string()?.parse().ok()?;
    let mut run = Run {
        created_at,
        pinned: false,
        last_used: None,
        served: None,
        marimo_key: None,
        parts: Vec::new(),
        parents: Vec::new(),
    };
    at.expect(" = {")?;
    if at.eat("}") {
        at.end()?;
        return Some(run);
    }
    let mut next_field = 0;
    loop {
        at.expect(" ")?;
        let name = at.word()?;
        let field = FIELDS.iter().position(|f| *f == name)?;
        if field < next_field {
            return None;
        }
        next_field = field + 1;
        at.expect(" = ")?;
        match name {
            "pinned" => {
                at.expect("true")?;
                run.pinned = true;
            }
            "last_used" => run.last_used = Some(at.string()?.parse().ok()?),
            "served" => run.served = Some(at.string()?.parse().ok()?),
            "marimo_key" => {
                let key = at.string()?;
                MarimoKey::check(&key).ok()?;
                run.marimo_key = Some(key);
            }
            "code" => {
                let (content, size) = at.inline(content_fields)?;
                run.parts
                    .push(part(PartKind::Code, "".into(), "".into(), content, size)?);
            }
            "parents" => at.rows(|at| {
                run.parents.push(parent(at)?);
                Some(())
            })?,
            rows => {
                let kind = match rows {
                    "variables" => PartKind::Variables,
                    "outputs" => PartKind::Outputs,
                    "console" => PartKind::Console,
                    _ => PartKind::Watched,
                };
                at.rows(|at| {
                    run.parts.push(labelled(at, kind)?);
                    Some(())
                })?;
            }
        }
        if at.eat(" }") {
            break;
        }
        at.expect(",")?;
    }
    at.end()?;
    Some(run)
}

/// A part with a validated label and format.
fn part<'a>(
    kind: PartKind,
    label: Cow<'a, str>,
    format: Cow<'a, str>,
    content: ContentHash,
    size: u64,
) -> Option<RawPart<'a>> {
    check_part_labels(kind, &label, &format).ok()?;
    Some(RawPart {
        kind,
        label,
        format,
        content,
        size,
    })
}

/// One row of `variables`, `outputs`, `console` or `watched`.
fn labelled<'a>(at: &mut Cursor<'a>, kind: PartKind) -> Option<RawPart<'a>> {
    at.inline(|at| {
        let label_field = match kind {
            PartKind::Variables => "name",
            PartKind::Outputs => "mime",
            PartKind::Console => "stream",
            _ => "path",
        };
        let label = match at.field(label_field) {
            Some(()) => {
                let label = at.string()?;
                at.expect(", ")?;
                label
            }
            None if kind == PartKind::Variables => Cow::Borrowed(""),
            None => return None,
        };
        let format = if kind == PartKind::Variables {
            at.field("format")?;
            let format = at.string()?;
            at.expect(", ")?;
            format
        } else {
            Cow::Borrowed("")
        };
        let (content, size) = content_fields(at)?;
        part(kind, label, format, content, size)
    })
}

/// One parent: `{ [notebook = "…", ]cell = "…", module = "…", version = "…", created = "…" }`.
fn parent<'a>(at: &mut Cursor<'a>) -> Option<RawParent<'a>> {
    at.inline(|at| {
        let notebook = match at.field("notebook") {
            Some(()) => {
                let other = at.string()?;
                at.expect(", ")?;
                NotebookKey::new(&other).ok()?;
                Some(other)
            }
            None => None,
        };
        let mut key = |name: &str| -> Option<Cow<'a, str>> {
            at.field(name)?;
            let value = at.string()?;
            at.expect(", ")?;
            Some(value)
        };
        let (cell, module, version) = (key("cell")?, key("module")?, key("version")?);
        at.field("created")?;
        let created_at = at.string()?.parse().ok()?;
        CellKey::check(&cell).ok()?;
        ModuleHash::check(&module).ok()?;
        Version::check(&version).ok()?;
        Some(RawParent {
            notebook,
            cell,
            module,
            version,
            created_at,
        })
    })
}

/// `content = "<64 hex>", size = <n>`.
fn content_fields(at: &mut Cursor<'_>) -> Option<(ContentHash, u64)> {
    at.field("content")?;
    let content = at.string()?.parse().ok()?;
    at.expect(", ")?;
    at.field("size")?;
    Some((content, at.integer()?))
}

/// A position in one line of the canonical layout.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Cursor<'a> {
        Cursor { text, at: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn eat(&mut self, literal: &str) -> bool {
        let found = self.rest().starts_with(literal);
        if found {
            self.at += literal.len();
        }
        found
    }

    fn expect(&mut self, literal: &str) -> Option<()> {
        self.eat(literal).then_some(())
    }

    fn end(&self) -> Option<()> {
        (self.at == self.text.len()).then_some(())
    }

    /// `<name> = `, if the next field is `name`.
    fn field(&mut self, name: &str) -> Option<()> {
        let rest = self.rest();
        let found = rest.strip_prefix(name)?.starts_with(" = ");
        if found {
            self.at += name.len() + 3;
        }
        found.then_some(())
    }

    /// A bare key: lower-case letters and `_`.
    fn word(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let len = rest
            .bytes()
            .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
            .count();
        (len > 0).then(|| {
            self.at += len;
            &rest[..len]
        })
    }

    /// `{ … }` around `inner`.
    fn inline<T>(&mut self, inner: impl FnOnce(&mut Cursor<'a>) -> Option<T>) -> Option<T> {
        self.expect("{ ")?;
        let value = inner(self)?;
        self.expect(" }")?;
        Some(value)
    }

    /// `[<row>, <row>, …]` with at least one row.
    fn rows(&mut self, mut row: impl FnMut(&mut Cursor<'a>) -> Option<()>) -> Option<()> {
        self.expect("[")?;
        loop {
            row(self)?;
            if self.eat("]") {
                return Some(());
            }
            self.expect(", ")?;
        }
    }

    /// A decimal integer as the writer writes one: digits, no sign, no leading zero, within
    /// TOML's 64-bit signed range.
    fn integer(&mut self) -> Option<u64> {
        let rest = self.rest();
        let len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let digits = &rest[..len];
        if len == 0 || (len > 1 && digits.starts_with('0')) {
            return None;
        }
        let value: i64 = digits.parse().ok()?;
        self.at += len;
        u64::try_from(value).ok()
    }

    /// A TOML basic string, unescaped. Raw control characters, and escapes other than those
    /// the writer uses, make the reader give up (TOML reads them; the general reader will).
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.expect("\"")?;
        let rest = self.rest();
        let end = rest
            .bytes()
            .position(|b| b == b'"' || b == b'\\' || b < 0x20 || b == 0x7f)?;
        if rest.as_bytes()[end] == b'"' {
            self.at += end + 1;
            return Some(Cow::Borrowed(&rest[..end]));
        }
        let mut out = String::from(&rest[..end]);
        let mut chars = rest[end..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += end + i + 1;
                    return Some(Cow::Owned(out));
                }
                '\\' => {
                    let escaped = match chars.next()?.1 {
                        'b' => '\u{8}',
                        't' => '\t',
                        'n' => '\n',
                        'f' => '\u{c}',
                        'r' => '\r',
                        '"' => '"',
                        '\\' => '\\',
                        'u' => hex_char(&mut chars, 4)?,
                        'U' => hex_char(&mut chars, 8)?,
                        _ => return None,
                    };
                    out.push(escaped);
                }
                c if c < '\u{20}' || c == '\u{7f}' => return None,
                c => out.push(c),
            }
        }
        None
    }
}

/// The character of a `\u`/`\U` escape's `digits` hex digits (a Unicode scalar value).
fn hex_char(chars: &mut std::str::CharIndices<'_>, digits: usize) -> Option<char> {
    let mut value = 0u32;
    for _ in 0..digits {
        value = value * 16 + chars.next()?.1.to_digit(16)?;
    }
    char::from_u32(value)
}

#[cfg(test)]
mod tests {
    use super::super::{parse_whole, render_map};
    use super::*;
    use crate::model::{Entry, ExecKey, PartRef};
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn notebook() -> NotebookKey {
        NotebookKey::new("analysis/eda").unwrap()
    }

    /// Text a user could put in a key or label: quotes, backslashes, non-ASCII, spaces.
    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('a'),
                Just('Z'),
                Just('0'),
                Just(' '),
                Just('"'),
                Just('\\'),
                Just('.'),
                Just('='),
                Just('{'),
                Just('['),
                Just('ü'),
                Just('→'),
            ],
            1..max,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    fn time() -> impl Strategy<Value = Timestamp> {
        prop_oneof![
            (0i64..40).prop_map(Timestamp),
            (Timestamp::EARLIEST.0..=Timestamp::LATEST.0).prop_map(Timestamp),
        ]
    }

    fn part() -> impl Strategy<Value = PartRef> {
        let content = any::<[u8; 32]>().prop_map(ContentHash);
        (
            0usize..5,
            text(8),
            "[a-z0-9.+]{1,6}",
            content,
            0u64..1 << 40,
        )
            .prop_map(|(kind, label, format, content, size)| {
                let kind = PartKind::ALL[kind];
                let (label, format) = match kind {
                    PartKind::Code => (String::new(), String::new()),
                    PartKind::Variables => {
                        (if size % 2 == 0 { String::new() } else { label }, format)
                    }
                    PartKind::Console => (
                        ["stdout", "stderr"][size as usize % 2].into(),
                        String::new(),
                    ),
                    _ => (label, String::new()),
                };
                PartRef {
                    kind,
                    label,
                    format,
                    content,
                    size,
                }
            })
    }

    fn entry() -> impl Strategy<Value = Entry> {
        let key = (text(6), "[A-Za-z0-9_-]{1,6}", "[a-z0-9]{1,2}", time());
        let parent = (
            proptest::option::of(Just("models/train")),
            text(4),
            "[a-z]{1,3}",
            time(),
        );
        (
            key,
            proptest::collection::vec(part(), 0..5),
            proptest::collection::vec(parent, 0..3),
            any::<bool>(),
            proptest::option::of(time()),
            proptest::option::of(time()),
            proptest::option::of("[a-z _-]{1,6}/[PC]_[a-z0-9]{1,6}\\.(pickle|json)"),
        )
            .prop_map(
                |(
                    (cell, module, version, created),
                    parts,
                    parents,
                    pinned,
                    used,
                    served,
                    marimo,
                )| {
                    let key =
                        |nb: Option<&str>, cell: &str, module: &str, version: &str, at| ExecKey {
                            notebook: nb.map_or_else(notebook, |n| NotebookKey::new(n).unwrap()),
                            cell: CellKey::new(cell).unwrap(),
                            module: ModuleHash::new(module).unwrap(),
                            version: Version::new(version).unwrap(),
                            created_at: at,
                        };
                    let mut parts = parts;
                    // At most one code part.
                    let mut seen_code = false;
                    parts.retain(|p| {
                        p.kind != PartKind::Code || !std::mem::replace(&mut seen_code, true)
                    });
                    Entry {
                        key: key(None, &cell, &module, &version, created),
                        parts,
                        parents: parents
                            .iter()
                            .map(|(nb, cell, module, at)| key(*nb, cell, module, "0", *at))
                            .collect(),
                        pinned,
                        last_used: used,
                        served,
                        marimo_key: marimo.map(|k| MarimoKey::new(&k).unwrap()),
                    }
                },
            )
    }

    fn map_data() -> impl Strategy<Value = MapData> {
        (
            proptest::collection::vec(entry(), 0..12),
            proptest::collection::btree_map("[a-z0-9_-]{1,8}\\.jsonl", 0u64..1 << 40, 0..3),
            proptest::collection::btree_set("[0-9a-f]{64}", 0..2),
        )
            .prop_map(
                |(entries, log_pos, merged): (_, BTreeMap<_, _>, BTreeSet<_>)| {
                    let mut data = MapData::empty(notebook());
                    for e in &entries {
                        data.index.insert(e);
                    }
                    data.log_pos = log_pos;
                    data.merged = merged;
                    data
                },
            )
    }

    fn same(a: &MapData, b: &MapData) -> bool {
        a.index.entries() == b.index.entries() && a.log_pos == b.log_pos && a.merged == b.merged
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]

        /// Everything the writer writes is read by the canonical reader, exactly as the
        /// general TOML reader reads it.
        #[test]
        fn the_canonical_reader_reads_what_the_writer_writes(data in map_data()) {
            let text = render_map(&data);
            let fast = read(&text, &notebook());
            prop_assert!(fast.is_some(), "not read as canonical:\n{text}");
            let fast = fast.unwrap();
            let general = parse_whole(Path::new("map.toml"), &text, &notebook()).unwrap();
            prop_assert!(same(&fast, &general), "{text}");
            prop_assert!(same(&fast, &data), "{text}");
        }

        /// Whatever an edit does to a canonical text, the canonical reader either gives up or
        /// reads what the general reader reads: it never accepts what TOML refuses.
        #[test]
        fn an_edited_map_is_read_as_toml_reads_it_or_not_at_all(
            data in map_data(),
            at in any::<proptest::sample::Index>(),
            with in prop_oneof![
                Just(""), Just("\""), Just("\\"), Just(" "), Just(","), Just("{"), Just("}"),
                Just("0"), Just("9"), Just("Z"), Just("\n"), Just("."), Just("]"), Just("="),
                Just("\\u0041"), Just("\t"), Just("+"), Just("_"), Just("#"), Just("'"),
            ],
        ) {
            let text = render_map(&data);
            let mut cut = at.index(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let end = (cut + 1..=text.len()).find(|&e| text.is_char_boundary(e)).unwrap_or(cut);
            let edited = format!("{}{with}{}", &text[..cut], &text[end..]);
            if let Some(fast) = read(&edited, &notebook()) {
                let general = parse_whole(Path::new("map.toml"), &edited, &notebook());
                prop_assert!(general.is_ok(), "accepted what TOML refuses:\n{edited}");
                prop_assert!(same(&fast, &general.unwrap()), "{edited}");
            }
        }
    }
}
