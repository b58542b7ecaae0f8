//! `celltime serve ID`: the run marimo is served for its cell and module from now on ("roll
//! back to the run I liked"). A durable store operation (a `serve` log record, docs/FORMAT.md):
//! it syncs like every record, and a run written later takes over as any new run does.

use super::{CliResult, exit, out};
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
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = super::parse_span)]
    pub lock_timeout: Span,
}

pub fn run(args: ServeArgs) -> CliResult {
    let workspace = super::WorkspaceArgs {
        path: args.path,
        lock_timeout: args.lock_timeout,
        cache_dir: None,
    };
    let store = workspace.store()?;
    let (mut notebook, id) = store.resolve(&args.id)?;
    notebook.serve(&[id])?;
    let view = notebook
        .index()
        .view(id)
        .expect("resolved ids name live entries");
    let (cell, module) = (view.cell.to_string(), view.module.to_string());
    let alternatives = notebook.alternatives(&cell, &module).len();
    out(&format!(
        "{}: marimo is served {} for {cell} / {module} ({alternatives} run{} of this module)\n",
        notebook.key(),
        id.short(),
        if alternatives == 1 { "" } else { "s" },
    ))?;
    Ok(exit::OK)
}
