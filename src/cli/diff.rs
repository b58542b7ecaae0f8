//! `diff`: how an entry differs from its previous code version or a chosen base: its code
//! (the default), or with `--parts` its results: variables, outputs, console.

use super::format::sanitise;
use super::{CliError, CliResult, WorkspaceArgs, exit, json, out, resolve};
use crate::preview::results::{self, PartData, ResultsDiff, RunRef};
use celltime_store::model::{EntryId, History, PartKind, Row, Timeline};
use clap::Args;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The entry whose code to compare (id or unique prefix).
    pub id: String,
    /// Compare against this entry instead of the previous code version of the same cell.
    pub base: Option<String>,
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Lines of context around each change.
    #[arg(long, default_value_t = 3)]
    pub context: usize,
    /// What to compare, comma-separated: code, variables, outputs, console. Without it, the
    /// code (as a unified diff); results without a BASE are compared with the cell's run
    /// before this one.
    #[arg(long, value_delimiter = ',', value_parser = parse_kind, default_value = "code")]
    pub parts: Vec<PartKind>,
    /// The comparison as JSON (`celltime.results-diff.v1`).
    #[arg(long)]
    pub json: bool,
}

fn parse_kind(text: &str) -> Result<PartKind, String> {
    text.parse()
        .map_err(|e: celltime_store::model::KeyError| e.to_string())
}

fn code_of(history: &dyn History, notebook: &str, id: EntryId) -> Result<Option<String>, CliError> {
    let detail = history.detail(notebook, id)?;
    match detail.parts.iter().find(|p| p.kind == PartKind::Code) {
        Some(part) => Ok(Some(
            String::from_utf8_lossy(&history.read(notebook, part)?).into_owned(),
        )),
        None => Ok(None),
    }
}

pub fn diff(args: DiffArgs) -> CliResult {
    if args.json || args.parts != [PartKind::Code] {
        return results_diff(args);
    }
    let history = args.workspace.history()?;
    let (timeline, index) = resolve(history.as_ref(), &args.id)?;
    let row = &timeline.rows[index];
    let new_code = code_of(history.as_ref(), &timeline.notebook, row.id)?.ok_or_else(|| {
        CliError::failure(format!("entry {} has no code snapshot", row.id.short()))
    })?;
    let (base_label, old_code) = match &args.base {
        Some(base) => {
            let (base_timeline, base_index) = resolve(history.as_ref(), base)?;
            let base_row = &base_timeline.rows[base_index];
            let code = code_of(history.as_ref(), &base_timeline.notebook, base_row.id)?
                .ok_or_else(|| {
                    CliError::failure(format!(
                        "entry {} has no code snapshot",
                        base_row.id.short()
                    ))
                })?;
            (base_row.id.short(), code)
        }
        None => match previous_code_version(history.as_ref(), &timeline, index, &new_code)? {
            Some((id, code)) => (id.short(), code),
            None => {
                out(&format!(
                    "{}: first code version of cell {}; nothing to compare\n",
                    row.id.short(),
                    sanitise(&row.cell)
                ))?;
                return Ok(exit::OK);
            }
        },
    };
    let diff = similar::TextDiff::from_lines(&old_code, &new_code);
    let unified = diff
        .unified_diff()
        .context_radius(args.context)
        .header(&base_label, &row.id.short())
        .to_string();
    out(&sanitise(&unified))?;
    Ok(exit::OK)
}

/// The newest earlier run of the same cell whose code differs.
fn previous_code_version(
    history: &dyn History,
    timeline: &Timeline,
    index: usize,
    code: &str,
) -> Result<Option<(EntryId, String)>, CliError> {
    let row = &timeline.rows[index];
    let mut earlier: Vec<&Row> = timeline
        .rows
        .iter()
        .filter(|r| r.cell == row.cell && r.created_at < row.created_at && r.module != row.module)
        .collect();
    earlier.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    for candidate in earlier {
        if let Some(other) = code_of(history, &timeline.notebook, candidate.id)?
            && other != code
        {
            return Ok(Some((candidate.id, other)));
        }
    }
    Ok(None)
}

/// Results (and code, when asked for) compared part by part.
fn results_diff(args: DiffArgs) -> CliResult {
    let history = args.workspace.history()?;
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
                    sanitise(&row.cell)
                ))?;
                return Ok(exit::OK);
            }
        },
    };
    let base_parts = parts_of(history.as_ref(), &base_notebook, base_row.id)?;
    let parts = parts_of(history.as_ref(), &timeline.notebook, row.id)?;
    let diff = ResultsDiff {
        schema: "celltime.results-diff.v1",
        base: run_ref(&base_notebook, &base_row),
        other: run_ref(&timeline.notebook, row),
        parts: results::diff_parts(&base_parts, &parts, &args.parts),
    };
    if args.json {
        return json(&diff).map(|()| exit::OK);
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
