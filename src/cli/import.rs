//! `import`: copy marimo's cache entries into the store, once or (with `--watch`) as marimo
//! writes them, following the cache folder with file-system notifications.

use super::format::{count, size};
use super::json::{self, Kind};
use super::output::{note, progress};
use super::{CliError, CliResult, WorkspaceArgs, command_line, exit, out};
use celltime_store::legacy::{ImportKeys, ImportReport, Watcher, import_with, watch};
use celltime_store::model::NotebookKey;
use celltime_store::ops::{Lazy, OpKind, OpLog};
use clap::Args;
use serde::Serialize;
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
    /// Machine-readable report (schema celltime.import.v1, docs/JSON.md); with --watch one
    /// document per line and pass (JSON Lines).
    #[arg(long)]
    pub json: bool,
    /// Import the cache's notebook NAME under the store key KEY (`log=marimo/log`): for
    /// notebooks whose names the store cannot take (`log`, `con`, …); repeatable.
    #[arg(long = "key", value_name = "NAME=KEY", value_parser = parse_key)]
    pub keys: Vec<(String, NotebookKey)>,
}

fn parse_key(text: &str) -> Result<(String, NotebookKey), String> {
    let (name, key) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected NAME=KEY"))?;
    Ok((
        name.to_string(),
        NotebookKey::new(key).map_err(|e| e.to_string())?,
    ))
}

pub fn run(args: ImportArgs) -> CliResult {
    let workspace = args.workspace.workspace()?;
    let store = args.workspace.store()?;
    let oplog = OpLog::of(&store);
    let cache_dir = args.workspace.cache_dir.as_deref();
    let command = command_line();
    let keys: ImportKeys = args.keys.iter().cloned().collect();
    if !args.watch {
        let journal = Lazy::new(&oplog, OpKind::Import, &command);
        let bar = progress(0, "import");
        let report = import_with(workspace.root(), &store, cache_dir, &keys, &journal, &|p| {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
            bar.set_message(celltime_text::escape_line(p.notebook).into_owned());
        });
        bar.finish_and_clear();
        let report = finish(journal, report)?;
        print(&report, args.json, false)?;
        return Ok(if report.failures.is_empty() {
            exit::OK
        } else {
            exit::FAILURE
        });
    }
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone())?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone())?;
    let mut watcher = Watcher::new(workspace.root(), store, cache_dir).with_keys(keys);
    if !args.json {
        let waiting = if watcher.root().is_dir() {
            ""
        } else {
            " (it does not exist yet: waiting for marimo's first run)"
        };
        note(&format!(
            "watching {}{waiting}; Ctrl-C stops",
            watcher.root().display()
        ));
    }
    let as_json = args.json;
    watch(&mut watcher, &stop, |watcher| {
        let journal = Lazy::new(&oplog, OpKind::Import, &command);
        let report = watcher.pass(&journal);
        let report = finish(journal, report)
            .map_err(|e| celltime_store::legacy::LegacyError::Message(e.message))?;
        if report.imported > 0 || !report.failures.is_empty() {
            print(&report, as_json, true)
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
                    "imported {} ({}) from {}",
                    count(report.imported, "entry", "entries"),
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

#[derive(Serialize)]
struct ImportJson<'a> {
    cache_dir: &'a str,
    imported: usize,
    already_imported: usize,
    bytes: u64,
    notebooks: Vec<NotebookImportJson<'a>>,
    /// Lazy entries whose blobs have no manifest yet: left for a later import.
    incomplete: usize,
    failures: &'a [String],
}

#[derive(Serialize)]
struct NotebookImportJson<'a> {
    notebook: &'a str,
    imported: usize,
}

/// The report as text, or as one JSON document (one line per pass with `--watch`).
fn print(report: &ImportReport, as_json: bool, lines: bool) -> Result<(), CliError> {
    if as_json {
        let document = ImportJson {
            cache_dir: &report.cache_dir,
            imported: report.imported,
            already_imported: report.already_imported,
            bytes: report.bytes,
            notebooks: report
                .notebooks
                .iter()
                .map(|(notebook, imported)| NotebookImportJson {
                    notebook,
                    imported: *imported,
                })
                .collect(),
            incomplete: report.incomplete,
            failures: &report.failures,
        };
        return if lines {
            json::print_line(Kind::Import, &document)
        } else {
            json::print(Kind::Import, &document)
        };
    }
    let mut text = format!(
        "imported {} ({}) from {}; {} already in the store\n",
        count(report.imported, "entry", "entries"),
        size(report.bytes),
        report.cache_dir,
        report.already_imported
    );
    for (notebook, count) in &report.notebooks {
        text.push_str(&format!("  {notebook}: {count}\n"));
    }
    if report.incomplete > 0 {
        text.push_str(&format!(
            "{} (blobs without a manifest) left for later\n",
            count(
                report.incomplete,
                "incomplete lazy entry",
                "incomplete lazy entries"
            )
        ));
    }
    for failure in &report.failures {
        text.push_str(&format!("failed: {failure}\n"));
    }
    out(&text)
}
