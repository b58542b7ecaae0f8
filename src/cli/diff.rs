//! `diff`: how an entry's code differs from its previous code version or a chosen base.

use super::{CliError, CliResult, WorkspaceArgs, exit, out, resolve};
use celltime_store::model::{EntryId, History, PartKind};
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
    let history = args.workspace.history()?;
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
    out(&unified)?;
    Ok(exit::OK)
}
