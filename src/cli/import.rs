//! `import`: copy marimo's cache entries into the store, once or (with `--watch`) as marimo
//! writes them, following the cache folder with file-system notifications.

use super::format::{sanitise, size};
use super::{CliError, CliResult, WorkspaceArgs, command_line, exit, json, out};
use celltime_store::legacy::{ImportReport, Watcher, import, watch};
use celltime_store::ops::{Lazy, OpKind, OpLog};
use clap::Args;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Keep importing as marimo writes, until Ctrl-C. Starts before marimo's first run (no
    /// cache folder yet) and survives the folder being deleted and made again.
    #[arg(long)]
    pub watch: bool,
    /// Machine-readable report (one JSON object per pass with --watch).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ImportArgs) -> CliResult {
    let workspace = args.workspace.workspace()?;
    let store = args.workspace.store()?;
    let oplog = OpLog::of(&store);
    let cache_dir = args.workspace.cache_dir.as_deref();
    let command = command_line();
    if !args.watch {
        let journal = Lazy::new(&oplog, OpKind::Import, &command);
        let report = import(workspace.root(), &store, cache_dir, &journal);
        let report = finish(journal, report)?;
        print(&report, args.json)?;
        return Ok(if report.failures.is_empty() {
            exit::OK
        } else {
            exit::FAILURE
        });
    }
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone())?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone())?;
    let mut watcher = Watcher::new(workspace.root(), store, cache_dir);
    if !args.json {
        let waiting = if watcher.root().is_dir() {
            ""
        } else {
            " (it does not exist yet: waiting for marimo's first run)"
        };
        eprintln!(
            "celltime: watching {}{waiting}; Ctrl-C stops",
            watcher.root().display()
        );
    }
    let as_json = args.json;
    watch(&mut watcher, &stop, |watcher| {
        let journal = Lazy::new(&oplog, OpKind::Import, &command);
        let report = watcher.pass(&journal);
        let report = finish(journal, report)
            .map_err(|e| celltime_store::legacy::LegacyError::Message(e.message))?;
        if report.imported > 0 || !report.failures.is_empty() {
            print(&report, as_json)
                .map_err(|e| celltime_store::legacy::LegacyError::Message(e.message))?;
        }
        Ok(())
    })?;
    Ok(exit::OK)
}

/// Ends the pass's operation (if it imported anything) with its summary.
fn finish(
    journal: Lazy<'_>,
    report: Result<ImportReport, celltime_store::legacy::LegacyError>,
) -> Result<ImportReport, CliError> {
    match report {
        Ok(report) => {
            journal.finish(
                &format!(
                    "imported {} entries ({}) from {}",
                    report.imported,
                    size(report.bytes),
                    report.cache_dir
                ),
                report.failures.is_empty(),
            )?;
            Ok(report)
        }
        Err(e) => {
            journal.finish(&format!("failed: {e}"), false)?;
            Err(e.into())
        }
    }
}

fn print(report: &ImportReport, as_json: bool) -> Result<(), CliError> {
    if as_json {
        return json(report);
    }
    let mut text = format!(
        "imported {} entries ({}) from {}; {} already in the store\n",
        report.imported,
        size(report.bytes),
        report.cache_dir,
        report.already_imported
    );
    for (notebook, count) in &report.notebooks {
        text.push_str(&format!("  {}: {count}\n", sanitise(notebook)));
    }
    if report.incomplete > 0 {
        text.push_str(&format!(
            "{} incomplete lazy entries (blobs without a manifest) left for later\n",
            report.incomplete
        ));
    }
    for failure in &report.failures {
        text.push_str(&format!("failed: {}\n", sanitise(failure)));
    }
    out(&text)
}
