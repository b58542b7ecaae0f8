//! `demo`: writes the generated demo workspace and opens it; a temporary folder (the
//! default) is removed when the UI closes unless `--keep`.

use super::output::{note, progress};
use super::{CliError, CliResult, UiArgs, exit, out};
use crate::demo::{DemoOptions, generate_with};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Only write the workspace and print where; do not open the interactive UI (the folder
    /// is kept).
    #[arg(long)]
    pub no_tui: bool,
    /// Where to write it (a folder without __marimo__/, kept afterwards); default: a new
    /// temporary folder.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Keep the temporary folder after the UI closes (it is removed otherwise).
    #[arg(long)]
    pub keep: bool,
    /// Write a synthetic workspace of N entries (notebooks of 100,000) for benchmarks.
    #[arg(long, value_name = "N")]
    pub scale: Option<usize>,
    /// Seed of the generator: the same seed writes the same workspace.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn run(args: DemoArgs, ui: &UiArgs) -> CliResult {
    ui.check_config()?;
    if !args.no_tui && !crate::tui::term::dumb() && !crate::tui::term::available() {
        return Err(CliError::failure(format!(
            "{}; `celltime demo --no-tui --dir DIR` writes the demo without it",
            super::NO_TERMINAL
        )));
    }
    let (dir, temporary) = match &args.dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("celltime-demo-")
                .tempdir()
                .map_err(|e| CliError::failure(format!("cannot create a temporary folder: {e}")))?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let what = match args.scale {
        Some(n) => format!("{n} synthetic runs"),
        None => "four notebooks with weeks of runs".to_string(),
    };
    note(&format!(
        "writing a demo workspace ({what}) to {}",
        dir.display()
    ));
    let bar = progress(0, "demo");
    let report = generate_with(
        &dir,
        &DemoOptions {
            seed: args.seed,
            scale: args.scale,
        },
        &|step| {
            bar.set_length(step.total as u64);
            bar.set_position(step.done as u64);
            bar.set_message(step.what.to_string());
        },
    )?;
    bar.finish_and_clear();
    out(&format!(
        "demo workspace: {} ({}, {})\n",
        report.workspace.display(),
        super::format::count(report.notebooks, "notebook", "notebooks"),
        super::format::count(report.entries, "entry", "entries")
    ))?;
    let keep = args.keep || args.no_tui;
    let temporary = match temporary {
        Some(temporary) if !keep => temporary,
        other => {
            // Kept: the folder outlives this command (a --dir was never ours to remove).
            let _ = other.map(tempfile::TempDir::keep);
            if args.no_tui {
                return Ok(exit::OK);
            }
            return ui.open(Some(report.workspace));
        }
    };
    note("opening it in the UI; the folder is removed when the UI closes (--keep keeps it)");
    let code = ui.open(Some(report.workspace));
    let path = temporary.path().display().to_string();
    match temporary.close() {
        Ok(()) => note(&format!("removed the demo workspace {path}")),
        Err(e) => note(&format!("could not remove the demo workspace {path}: {e}")),
    }
    code
}
