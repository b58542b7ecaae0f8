//! `celltime serve ID`: the run marimo is served for its cell and module from now on ("roll
//! back to the run I liked"). A durable store operation (a `serve` log record, docs/FORMAT.md),
//! recorded in the operation log so `celltime undo` serves the previous run again; a run written
//! later takes over, as any new run does.

use super::{CliResult, WorkspaceArgs, command_line, exit, out};
use celltime_store::ops::{self, OpKind};
use celltime_store::units::Span;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The entry id (or a unique prefix) of the run to serve.
    pub id: String,
    /// A folder inside the workspace (the id comes first, so the workspace is a flag here).
    #[arg(short = 'C', long = "workspace", value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// How long to wait for another process's lock on a notebook before giving up (exit 75).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = super::value::<celltime_store::units::Span>)]
    pub lock_timeout: Span,
}

pub fn run(args: ServeArgs) -> CliResult {
    let workspace = WorkspaceArgs {
        path: args.path,
        lock_timeout: args.lock_timeout,
        cache_dir: None,
    };
    let history = workspace.history()?;
    let (timeline, index) = super::resolve(history.as_ref(), &args.id)?;
    let row = &timeline.rows[index];
    let notebook = &timeline.notebook;
    let oplog = workspace.oplog()?;
    ops::journaled(
        &oplog,
        OpKind::Serve,
        &command_line(),
        |journal| history.serve(notebook, row.id, journal),
        |()| format!("serve {} in {notebook}", row.id.short()),
    )?;
    let alternatives = timeline
        .rows
        .iter()
        .filter(|r| r.cell == row.cell && r.module == row.module)
        .count();
    out(&format!(
        "{}: marimo is served {} for {} / {} ({alternatives} run{} of this module)\n",
        notebook,
        row.id.short(),
        row.cell,
        row.module,
        if alternatives == 1 { "" } else { "s" },
    ))?;
    Ok(exit::OK)
}
