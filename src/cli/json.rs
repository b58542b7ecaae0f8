//! celltime's JSON documents (docs/JSON.md, one JSON Schema per kind in docs/schema/): every
//! document is an object whose `schema` field names its kind and version
//! (`celltime.ls.v1`); ids are the full 32-hex ids; times are RFC 3339 UTC with milliseconds
//! under `*_at` names; sizes are integer bytes. The shapes shared by several documents (an
//! entry) live here, so one command cannot drift from another.

use super::CliError;
use celltime_store::model::{Copies, PartKind, PartMask, Row, Timestamp};
use serde::Serialize;

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
}

impl Kind {
    pub const ALL: [Kind; 13] = [
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

fn encode(value: &impl Serialize, pretty: bool) -> Result<String, CliError> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    text.map_err(|e| CliError::failure(format!("cannot encode JSON: {e}")))
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

/// One element of a streamed list, compact on its own line.
pub fn item(first: bool, value: &impl Serialize) -> Result<String, CliError> {
    let separator = if first { "\n    " } else { ",\n    " };
    Ok(format!("{separator}{}", encode(value, false)?))
}

pub fn close_list(empty: bool) -> &'static str {
    if empty { "]\n}\n" } else { "\n  ]\n}\n" }
}

/// RFC 3339 UTC with milliseconds, as every `*_at` field is written.
pub fn time(t: Timestamp) -> String {
    t.to_rfc3339()
}

/// An entry (a run) as `ls`, `show` and every listing of runs print it.
#[derive(Serialize)]
pub struct Entry<'a> {
    pub id: String,
    pub notebook: &'a str,
    pub cell: &'a str,
    pub module: &'a str,
    pub version: &'a str,
    pub created_at: String,
    /// The time came from a file's modification time, not from the run itself.
    pub approximate_time: bool,
    pub last_used_at: Option<String>,
    pub pinned: bool,
    pub size: u64,
    pub parts: Vec<&'static str>,
    /// Where the run's copies live: `store`, `cache` or both.
    pub copies: Vec<&'static str>,
}

impl<'a> Entry<'a> {
    pub fn of(notebook: &'a str, row: &'a Row) -> Entry<'a> {
        Entry {
            id: row.id.to_hex(),
            notebook,
            cell: &row.cell,
            module: &row.module,
            version: &row.version,
            created_at: time(row.created_at),
            approximate_time: row.approximate_time,
            last_used_at: row.last_used.map(time),
            pinned: row.pinned,
            size: row.size,
            parts: part_names(row.parts),
            copies: copies(row.copies),
        }
    }
}

pub fn part_names(mask: PartMask) -> Vec<&'static str> {
    PartKind::ALL
        .iter()
        .filter(|k| mask.contains(**k))
        .map(|k| k.name())
        .collect()
}

fn copies(copies: Copies) -> Vec<&'static str> {
    let mut out = Vec::new();
    if copies.store {
        out.push("store");
    }
    if copies.cache {
        out.push("cache");
    }
    out
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
        for items in [vec![], vec![1, 2]] {
            let mut text = open_list(Kind::Ls, "entries");
            for (i, n) in items.iter().enumerate() {
                text.push_str(&item(i == 0, n).unwrap());
            }
            text.push_str(close_list(items.is_empty()));
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(value["schema"], "celltime.ls.v1");
            assert_eq!(value["entries"].as_array().unwrap().len(), items.len());
        }
    }
}
