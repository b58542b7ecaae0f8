//! `diff`: how an entry's code differs from its previous code version or a chosen base.

use super::{CliError, CliResult, WorkspaceArgs, exit, out, resolve};
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
                    row.cell
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
    out(&unified)?;
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
