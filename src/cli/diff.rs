//! `diff`: how an entry differs from its previous code version or a chosen base: its code
//! (the default), or with `--parts` its results: variables, outputs, console.

use super::json::{self, Kind};
use super::output::{Paint, paint};
use super::{CliError, CliResult, FlagWorkspaceArgs, exit, out, resolve, write_stdout};
use crate::preview::results::{self, PartData, ResultsDiff, RunRef};
use celltime_store::model::{EntryId, History, PartKind, Row, Timeline};
use clap::Args;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The entry whose code to compare (id or unique prefix).
    pub id: String,
    /// Compare against this entry (id or unique prefix) instead of the previous code version
    /// of the same cell.
    pub base: Option<String>,
    #[command(flatten)]
    pub workspace: FlagWorkspaceArgs,
    /// Lines of context around each change.
    #[arg(long, default_value_t = 3)]
    pub context: usize,
    /// What to compare, comma-separated: code, variables, outputs, console. Without it, the
    /// code (as a unified diff); results without a BASE are compared with the cell's run
    /// before this one.
    #[arg(long, value_delimiter = ',', value_parser = parse_kind, default_value = "code")]
    pub parts: Vec<PartKind>,
    /// Machine-readable (schema celltime.diff.v1 for code, celltime.results-diff.v1 with
    /// --parts; docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

fn parse_kind(text: &str) -> Result<PartKind, String> {
    text.parse()
        .map_err(|e: celltime_store::model::KeyError| e.to_string())
}

#[derive(Serialize)]
struct DiffJson<'a> {
    notebook: &'a str,
    cell: &'a str,
    id: String,
    /// The entry compared against; null for the first code version of a cell.
    base_id: Option<String>,
    /// The unified diff (empty when the code is the same or there is no base).
    unified: String,
}

/// The code snapshot of an entry; an entry without one cannot be compared.
fn code_of(history: &dyn History, notebook: &str, id: EntryId) -> Result<String, CliError> {
    let detail = history.detail(notebook, id)?;
    let part = detail
        .parts
        .iter()
        .find(|p| p.kind == PartKind::Code)
        .ok_or_else(|| CliError::failure(format!("entry {} has no code snapshot", id.short())))?;
    Ok(String::from_utf8_lossy(&history.read(notebook, part)?).into_owned())
}

pub fn diff(args: DiffArgs) -> CliResult {
    if args.parts != [PartKind::Code] {
        return results_diff(args);
    }
    let history = args.workspace.workspace_args().history()?;
    let (timeline, index) = resolve(history.as_ref(), &args.id)?;
    let row = &timeline.rows[index];
    let new_code = code_of(history.as_ref(), &timeline.notebook, row.id)?;
    let base = match &args.base {
        Some(base) => {
            let (base_timeline, base_index) = resolve(history.as_ref(), base)?;
            (
                base_timeline.notebook.clone(),
                base_timeline.rows[base_index].id,
            )
        }
        None => match timeline.previous_code_version(index) {
            Some(base) => (timeline.notebook.clone(), timeline.rows[base].id),
            None if args.json => return print_json(&timeline.notebook, row, None, String::new()),
            None => {
                out(&format!(
                    "{}: first code version of cell {}; nothing to compare\n",
                    row.id.short(),
                    row.cell
                ))?;
                return Ok(exit::OK);
            }
        },
    };
    let old_code = code_of(history.as_ref(), &base.0, base.1)?;
    let base_label = base.1.short();
    let diff = similar::TextDiff::from_lines(&old_code, &new_code);
    let unified = diff
        .unified_diff()
        .context_radius(args.context)
        .header(&base_label, &row.id.short())
        .to_string();
    if args.json {
        return print_json(&timeline.notebook, row, Some(base.1), unified);
    }
    // Escaped before it is painted: the colours are celltime's, the text the workspace's.
    let safe = celltime_text::escape_text(&unified);
    write_stdout(coloured(&safe).as_bytes())?;
    Ok(exit::OK)
}

/// The code diff as a `celltime.diff.v1` document; `base` None for a first code version.
fn print_json(notebook: &str, row: &Row, base: Option<EntryId>, unified: String) -> CliResult {
    json::print(
        Kind::Diff,
        &DiffJson {
            notebook,
            cell: &row.cell,
            id: row.id.to_hex(),
            base_id: base.map(|id| id.to_hex()),
            unified,
        },
    )?;
    Ok(exit::OK)
}

/// A unified diff with its lines coloured by what they are (plain without colour).
fn coloured(unified: &str) -> String {
    unified
        .split_inclusive('\n')
        .map(|line| {
            let (body, end) = match line.strip_suffix('\n') {
                Some(body) => (body, "\n"),
                None => (line, ""),
            };
            let role = if body.starts_with("+++") || body.starts_with("---") {
                Some(Paint::Header)
            } else if body.starts_with('+') {
                Some(Paint::Added)
            } else if body.starts_with('-') {
                Some(Paint::Removed)
            } else if body.starts_with("@@") {
                Some(Paint::Hunk)
            } else {
                None
            };
            match role {
                Some(role) => format!("{}{end}", paint(role, body)),
                None => line.to_string(),
            }
        })
        .collect()
}

/// Results (and code, when asked for) compared part by part.
fn results_diff(args: DiffArgs) -> CliResult {
    let history = args.workspace.workspace_args().history()?;
    let (timeline, index) = resolve(history.as_ref(), &args.id)?;
    let row = &timeline.rows[index];
    let (base_notebook, base_row) = match &args.base {
        Some(base) => {
            let (t, i) = resolve(history.as_ref(), base)?;
            let row = t.rows[i].clone();
            (t.notebook.clone(), row)
        }
        None => match previous_run(&timeline, index) {
            Some(r) => (timeline.notebook.clone(), r.clone()),
            None => {
                out(&format!(
                    "{}: first run of cell {}; nothing to compare\n",
                    row.id.short(),
                    row.cell
                ))?;
                return Ok(exit::OK);
            }
        },
    };
    let base_parts = parts_of(history.as_ref(), &base_notebook, base_row.id)?;
    let parts = parts_of(history.as_ref(), &timeline.notebook, row.id)?;
    let diff = ResultsDiff {
        base: run_ref(&base_notebook, &base_row),
        other: run_ref(&timeline.notebook, row),
        parts: results::diff_parts(&base_parts, &parts, &args.parts),
    };
    if args.json {
        return json::print(Kind::ResultsDiff, &diff).map(|()| exit::OK);
    }
    let doc = results::render(&diff, &crate::preview::Limits::default());
    out(&format!("{}\n", doc.to_text()))?;
    Ok(exit::OK)
}

pub fn run_ref(notebook: &str, row: &Row) -> RunRef {
    RunRef {
        id: row.id.to_hex(),
        notebook: notebook.to_string(),
        cell: row.cell.to_string(),
        created_at: row.created_at.to_rfc3339(),
    }
}

/// Every part of a run with its bytes.
pub fn parts_of(
    history: &dyn History,
    notebook: &str,
    id: EntryId,
) -> Result<Vec<PartData>, CliError> {
    let detail = history.detail(notebook, id)?;
    detail
        .parts
        .iter()
        .map(|p| {
            Ok(PartData {
                kind: p.kind,
                label: p.label.clone(),
                format: p.format.clone(),
                bytes: history.read(notebook, p)?,
            })
        })
        .collect()
}

/// The newest earlier run of the same cell.
fn previous_run(timeline: &Timeline, index: usize) -> Option<&Row> {
    let row = &timeline.rows[index];
    timeline
        .rows
        .iter()
        .filter(|r| r.cell == row.cell && r.created_at < row.created_at)
        .max_by_key(|r| r.created_at)
}
