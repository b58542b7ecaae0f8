//! `demo`: writes the generated demo workspace (to a temporary folder unless `--dir`).

use super::{CliError, CliResult, UiArgs, exit, out};
use crate::demo::{DemoOptions, generate};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Only write the workspace; do not open the interactive UI.
    #[arg(long)]
    pub no_tui: bool,
    /// Where to write it (a folder without __marimo__/); default: a new temporary folder.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Write a synthetic workspace of N entries (notebooks of 100,000) for benchmarks.
    #[arg(long, value_name = "N")]
    pub scale: Option<usize>,
    /// Seed of the generator: the same seed writes the same workspace.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn run(args: DemoArgs, ui: &UiArgs) -> CliResult {
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => tempfile::Builder::new()
            .prefix("celltime-demo-")
            .tempdir()
            .map_err(|e| CliError::failure(format!("cannot create a temporary folder: {e}")))?
            .keep(),
    };
    let report = generate(
        &dir,
        &DemoOptions {
            seed: args.seed,
            scale: args.scale,
        },
    )?;
    out(&format!(
        "demo workspace: {} ({} notebooks, {} entries)\n",
        report.workspace.display(),
        report.notebooks,
        report.entries
    ))?;
    if args.no_tui {
        return Ok(exit::OK);
    }
    ui.open(Some(report.workspace))
}
