//! `diff`: how an entry's code differs from its previous code version or a chosen base.

use super::format::sanitise;
use super::json::{self, Kind};
use super::output::{Paint, paint};
use super::{CliError, CliResult, FlagWorkspaceArgs, exit, out, resolve};
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
    /// Machine-readable (schema celltime.diff.v1, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
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
    let history = args.workspace.workspace_args().history()?;
    let (timeline, index) = resolve(history.as_ref(), &args.id)?;
    let row = &timeline.rows[index];
    let new_code = code_of(history.as_ref(), &timeline.notebook, row.id)?.ok_or_else(|| {
        CliError::failure(format!("entry {} has no code snapshot", row.id.short()))
    })?;
    let (base_id, old_code) = match &args.base {
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
            (base_row.id, code)
        }
        None => match previous_code_version(history.as_ref(), &timeline, index, &new_code)? {
            Some((id, code)) => (id, code),
            None if args.json => {
                return json::print(
                    Kind::Diff,
                    &DiffJson {
                        notebook: &timeline.notebook,
                        cell: &row.cell,
                        id: row.id.to_hex(),
                        base_id: None,
                        unified: String::new(),
                    },
                )
                .map(|()| exit::OK);
            }
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
    let unified = sanitise(
        &diff
            .unified_diff()
            .context_radius(args.context)
            .header(&base_id.short(), &row.id.short())
            .to_string(),
    );
    if args.json {
        return json::print(
            Kind::Diff,
            &DiffJson {
                notebook: &timeline.notebook,
                cell: &row.cell,
                id: row.id.to_hex(),
                base_id: Some(base_id.to_hex()),
                unified,
            },
        )
        .map(|()| exit::OK);
    }
    out(&coloured(&unified))?;
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
