//! celltime's JSON documents (docs/JSON.md, one JSON Schema per kind in docs/schema/): every
//! document is an object whose `schema` field names its kind and version
//! (`celltime.ls.v1`); ids are the full 32-hex ids; times are RFC 3339 UTC with milliseconds
//! under `*_at` names; sizes are integer bytes. The shapes shared by several documents (an
//! entry) live here, so one command cannot drift from another.

use super::CliError;
use celltime_store::model::{Copies, EntryId, PartKind, PartMask, Row, Timestamp};
use celltime_store::parallel;
use serde::{Serialize, Serializer};

/// Every kind of document the CLI prints. Adding one: a variant here, its schema file
/// `docs/schema/<name>.json`, and one line in the schema tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ls,
    LsCells,
    LsNotebooks,
    Show,
    Diff,
    ResultsDiff,
    Prune,
    Verify,
    Gc,
    OpLog,
    Import,
    Trash,
    MarimoStatus,
    RemoteList,
    Push,
    Pull,
    RemoteVerify,
    RemoteGc,
}

impl Kind {
    pub const ALL: [Kind; 18] = [
        Kind::Ls,
        Kind::LsCells,
        Kind::LsNotebooks,
        Kind::Show,
        Kind::Diff,
        Kind::ResultsDiff,
        Kind::Prune,
        Kind::Verify,
        Kind::Gc,
        Kind::OpLog,
        Kind::Import,
        Kind::Trash,
        Kind::MarimoStatus,
        Kind::RemoteList,
        Kind::Push,
        Kind::Pull,
        Kind::RemoteVerify,
        Kind::RemoteGc,
    ];

    /// The `schema` value: `celltime.<kind>.v<version>`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ls => "celltime.ls.v1",
            Kind::LsCells => "celltime.ls-cells.v1",
            Kind::LsNotebooks => "celltime.ls-notebooks.v1",
            Kind::Show => "celltime.show.v1",
            Kind::Diff => "celltime.diff.v1",
            Kind::ResultsDiff => "celltime.results-diff.v1",
            Kind::Prune => celltime_store::policy::SCHEMA,
            Kind::Verify => "celltime.verify.v1",
            Kind::Gc => "celltime.gc.v1",
            Kind::OpLog => "celltime.op-log.v1",
            Kind::Import => "celltime.import.v1",
            Kind::Trash => "celltime.trash.v1",
            Kind::RemoteList => "celltime.remote-list.v1",
            Kind::Push => "celltime.push.v1",
            Kind::Pull => "celltime.pull.v1",
            Kind::RemoteVerify => "celltime.remote-verify.v1",
            Kind::RemoteGc => "celltime.remote-gc.v1",
            Kind::MarimoStatus => "celltime.marimo-status.v1",
        }
    }
}

/// A document: its kind first, then the body's fields.
#[derive(Serialize)]
struct Document<'a, T: Serialize> {
    schema: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

fn encode_failed(e: impl std::fmt::Display) -> CliError {
    CliError::failure(format!("cannot encode JSON: {e}"))
}

fn encode(value: &impl Serialize, pretty: bool) -> Result<String, CliError> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    text.map_err(encode_failed)
}

/// Writes serialised JSON (a document or a piece of a streamed one) to stdout. Characters
/// unsafe on a terminal are `\uXXXX` escapes in it, so the document reads back the same and
/// shows safely.
pub fn write(text: &str) -> Result<(), CliError> {
    super::write_stdout(celltime_text::escape_json(text).as_bytes())
}

/// Prints a document of `kind`, pretty.
pub fn print(kind: Kind, body: &impl Serialize) -> Result<(), CliError> {
    let text = encode(
        &Document {
            schema: kind.name(),
            body,
        },
        true,
    )?;
    write(&format!("{text}\n"))
}

/// Prints a document of `kind` on one line (JSON Lines: one document per event).
pub fn print_line(kind: Kind, body: &impl Serialize) -> Result<(), CliError> {
    let text = encode(
        &Document {
            schema: kind.name(),
            body,
        },
        false,
    )?;
    write(&format!("{text}\n"))
}

/// Prints a document that carries its own `schema` field (the prune report).
pub fn print_document(document: &impl Serialize) -> Result<(), CliError> {
    write(&format!("{}\n", encode(document, true)?))
}

/// The opening of a document whose one list is streamed (`ls` of a million entries):
/// `{"schema": …, "<list>": [` — then [`item`] per element and [`close`].
pub fn open_list(kind: Kind, list: &str) -> String {
    format!("{{\n  \"schema\": \"{}\",\n  \"{list}\": [", kind.name())
}

pub fn close_list(empty: bool) -> &'static str {
    if empty { "]\n}\n" } else { "\n  ]\n}\n" }
}

/// RFC 3339 UTC with milliseconds, as every `*_at` field is written.
pub fn time(t: Timestamp) -> String {
    t.to_rfc3339()
}

/// A time written as [`time`] writes it, without allocating (listings hold many).
pub struct Time(pub Timestamp);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.with_rfc3339(|text| serializer.serialize_str(text))
    }
}

/// An entry id, all 32 hex digits, without allocating.
pub struct Id(pub EntryId);

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.with_hex(|hex| serializer.serialize_str(hex))
    }
}

/// The names of the parts a run has, in [`PartKind::ALL`] order.
pub struct Parts(pub PartMask);

impl Serialize for Parts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(part_kinds(self.0).map(PartKind::name))
    }
}

/// Where a run's copies live: `store`, `cache` or both.
pub struct Places(pub Copies);

impl Serialize for Places {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(copy_places(self.0))
    }
}

/// An entry (a run) as `ls`, `show` and every listing of runs print it.
#[derive(Serialize)]
pub struct Entry<'a> {
    pub id: Id,
    pub notebook: &'a str,
    pub cell: &'a str,
    pub module: &'a str,
    pub version: &'a str,
    pub created_at: Time,
    /// The time came from a file's modification time, not from the run itself.
    pub approximate_time: bool,
    pub last_used_at: Option<Time>,
    pub pinned: bool,
    pub size: u64,
    pub parts: Parts,
    pub copies: Places,
}

impl<'a> Entry<'a> {
    pub fn of(notebook: &'a str, row: &'a Row) -> Entry<'a> {
        Entry {
            id: Id(row.id),
            notebook,
            cell: &row.cell,
            module: &row.module,
            version: &row.version,
            created_at: Time(row.created_at),
            approximate_time: row.approximate_time,
            last_used_at: row.last_used.map(Time),
            pinned: row.pinned,
            size: row.size,
            parts: Parts(row.parts),
            copies: Places(row.copies),
        }
    }
}

/// Rows serialised at once by one thread when a listing is printed on every core: enough to
/// make a thread worth starting, few enough that the text waiting to be written stays small.
/// A listing of under a quarter of this is printed on one thread.
const ROWS_PER_SHARE: usize = 4096;

/// The entries of one notebook as elements of a streamed list ([`open_list`]), serialised on
/// every core a few thousand rows at a time and handed to `write` in order. `first` says
/// whether no element was written yet, and is updated.
pub fn write_entries(
    notebook: &str,
    rows: &[&Row],
    first: &mut bool,
    write: &mut impl FnMut(&str) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let round = ROWS_PER_SHARE * parallel::workers();
    for rows in rows.chunks(round) {
        let notebook = serde_json::to_vec(notebook).map_err(encode_failed)?;
        let pieces = parallel::map_shares_of_at_least(rows, ROWS_PER_SHARE / 4, |share| {
            let mut text = Vec::with_capacity(share.len() * 384);
            for row in share {
                text.extend_from_slice(b",\n    ");
                write_entry(&mut text, &notebook, row)?;
            }
            Ok::<_, serde_json::Error>(text)
        });
        for piece in pieces {
            let text = String::from_utf8(piece.map_err(encode_failed)?).map_err(encode_failed)?;
            // Elements are written after a comma; the list's first one is not.
            let text = if *first { &text[1..] } else { &text[..] };
            *first = false;
            write(text)?;
        }
    }
    Ok(())
}

/// Appends `row` as [`Entry`] serialises it (`notebook` already JSON), without serde's
/// per-field machinery: the field names and the values that are always plain ASCII (ids,
/// times, numbers, part names) are written as they are, and only the strings a user or a
/// notebook chose go through serde_json's escaping. Listings of many rows spend most of
/// their time here. The `Entry` derive stays the reference (tests compare the two).
fn write_entry(out: &mut Vec<u8>, notebook: &[u8], row: &Row) -> serde_json::Result<()> {
    row.id.with_hex(|hex| {
        out.extend_from_slice(b"{\"id\":\"");
        out.extend_from_slice(hex.as_bytes());
    });
    out.extend_from_slice(b"\",\"notebook\":");
    out.extend_from_slice(notebook);
    out.extend_from_slice(b",\"cell\":");
    serde_json::to_writer(&mut *out, &*row.cell)?;
    out.extend_from_slice(b",\"module\":");
    serde_json::to_writer(&mut *out, &*row.module)?;
    out.extend_from_slice(b",\"version\":");
    serde_json::to_writer(&mut *out, &*row.version)?;
    out.extend_from_slice(b",\"created_at\":");
    write_time(out, row.created_at);
    out.extend_from_slice(if row.approximate_time {
        b",\"approximate_time\":true,\"last_used_at\":"
    } else {
        b",\"approximate_time\":false,\"last_used_at\":"
    });
    match row.last_used {
        Some(time) => write_time(out, time),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(if row.pinned {
        b",\"pinned\":true,\"size\":"
    } else {
        b",\"pinned\":false,\"size\":"
    });
    serde_json::to_writer(&mut *out, &row.size)?;
    out.extend_from_slice(b",\"parts\":");
    write_names(out, part_kinds(row.parts).map(PartKind::name));
    out.extend_from_slice(b",\"copies\":");
    write_names(out, copy_places(row.copies));
    out.push(b'}');
    Ok(())
}

fn write_time(out: &mut Vec<u8>, time: Timestamp) {
    time.with_rfc3339(|text| {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    });
}

/// A list of names that need no escaping (lower-case ASCII words).
fn write_names(out: &mut Vec<u8>, names: impl Iterator<Item = &'static str>) {
    out.push(b'[');
    for (at, name) in names.enumerate() {
        if at > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.push(b'"');
    }
    out.push(b']');
}

fn copy_places(copies: Copies) -> impl Iterator<Item = &'static str> {
    [(copies.store, "store"), (copies.cache, "cache")]
        .into_iter()
        .filter_map(|(held, place)| held.then_some(place))
}

pub fn part_names(mask: PartMask) -> Vec<&'static str> {
    part_kinds(mask).map(PartKind::name).collect()
}

fn part_kinds(mask: PartMask) -> impl Iterator<Item = PartKind> {
    PartKind::ALL.into_iter().filter(move |k| mask.contains(*k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_start_with_their_schema() {
        #[derive(Serialize)]
        struct Body {
            n: u32,
        }
        let text = encode(
            &Document {
                schema: Kind::Gc.name(),
                body: &Body { n: 1 },
            },
            false,
        )
        .unwrap();
        assert_eq!(text, r#"{"schema":"celltime.gc.v1","n":1}"#);
    }

    #[test]
    fn a_streamed_list_is_one_valid_document() {
        let row = |n: i64| Row {
            id: EntryId(n as u128),
            cell: "c\u{1b}]0;title\u{7}".into(),
            module: "m".into(),
            version: "v".into(),
            created_at: Timestamp(n * 1000),
            approximate_time: false,
            last_used: None,
            pinned: false,
            size: 1,
            parts: PartMask::default(),
            contents: Vec::new(),
            copies: Copies::STORE,
            code: None,
        };
        let many: Vec<Row> = (0..3 * ROWS_PER_SHARE as i64).map(row).collect();
        for rows in [vec![], vec![row(1)], many] {
            let rows: Vec<&Row> = rows.iter().collect();
            let mut text = open_list(Kind::Ls, "entries");
            let mut first = true;
            write_entries("nb", &rows, &mut first, &mut |piece| {
                text.push_str(&celltime_text::escape_json(piece));
                Ok(())
            })
            .unwrap();
            text.push_str(close_list(first));
            assert!(!text.contains('\u{1b}'), "terminal controls are escaped");
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(value["schema"], "celltime.ls.v1");
            let entries = value["entries"].as_array().unwrap();
            assert_eq!(entries.len(), rows.len());
            for (entry, row) in entries.iter().zip(&rows) {
                assert_eq!(entry["id"], row.id.to_hex());
                assert_eq!(entry["created_at"], row.created_at.to_rfc3339());
                assert_eq!(entry["cell"], "c\u{1b}]0;title\u{7}");
            }
        }
    }

    /// The hand-written row is byte for byte what the `Entry` derive gives, for every value
    /// that changes its shape: escapes, both booleans, a last use or none, parts and copies.
    #[test]
    fn a_row_is_written_as_the_entry_derive_serialises_it() {
        let notebook = "nb \"quoted\" \\ ünïcode";
        for n in 0..64u32 {
            let bit = |i: u32| n & (1 << i) != 0;
            let row = Row {
                id: EntryId(u128::from(n) * 0x0123_4567_89ab_cdef_0011),
                cell: if bit(0) {
                    "c\u{1b}]0;t\u{7}\"\n"
                } else {
                    "cell"
                }
                .into(),
                module: "m\\/\u{2028}".into(),
                version: if bit(1) { "v\t" } else { "0" }.into(),
                created_at: Timestamp(i64::from(n) * 86_400_123 - 5),
                approximate_time: bit(2),
                last_used: bit(3).then_some(Timestamp(1_780_000_000_000)),
                pinned: bit(4),
                size: u64::MAX >> n,
                parts: PartMask(n as u8 * 3),
                contents: Vec::new(),
                copies: Copies {
                    store: bit(5),
                    cache: !bit(1),
                },
                code: None,
            };
            let mut fast = Vec::new();
            write_entry(&mut fast, &serde_json::to_vec(notebook).unwrap(), &row).unwrap();
            let derived = serde_json::to_string(&Entry::of(notebook, &row)).unwrap();
            assert_eq!(String::from_utf8(fast).unwrap(), derived, "row {n}");
        }
    }
}
