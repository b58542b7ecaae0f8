//! `import`: copy marimo's cache entries into the store, once or (with `--watch`) as marimo
//! writes them.

use super::format::size;
use super::{CliError, CliResult, WorkspaceArgs, exit, json, out};
use celltime_store::legacy::{ImportKeys, ImportReport, Watcher, import_with_keys, watch};
use celltime_store::model::NotebookKey;
use celltime_store::units::Span;
use clap::Args;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Keep importing as marimo writes, until Ctrl-C.
    #[arg(long)]
    pub watch: bool,
    /// How long to wait between two looks at the cache folder with --watch (`2s`, `1min`).
    #[arg(
        long,
        default_value = "2s",
        value_name = "DURATION",
        value_parser = super::value::<Span>,
        requires = "watch"
    )]
    pub interval: Span,
    /// Machine-readable report (one JSON object per pass with --watch).
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
    let cache_dir = args.workspace.cache_dir.as_deref();
    let keys: ImportKeys = args.keys.iter().cloned().collect();
    if !args.watch {
        let report = import_with_keys(workspace.root(), &store, cache_dir, &keys)?;
        print(&report, args.json)?;
        return Ok(if report.failures.is_empty() {
            exit::OK
        } else {
            exit::FAILURE
        });
    }
    let interval = args.interval.to_duration();
    if !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&interval) {
        return Err(CliError::usage("--interval takes 1s to 1h"));
    }
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone())?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone())?;
    let mut watcher = Watcher::new(workspace.root(), store, cache_dir)?.with_keys(keys);
    if !args.json {
        super::warn(&format!(
            "watching {}; Ctrl-C stops",
            watcher.root().display()
        ));
    }
    let mut failed = None;
    watch(&mut watcher, interval, &stop, |report| {
        if let Err(e) = print(report, args.json) {
            failed = Some(e);
        }
    })?;
    failed.map_or(Ok(exit::OK), Err)
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
        text.push_str(&format!("  {notebook}: {count}\n"));
    }
    if report.incomplete > 0 {
        text.push_str(&format!(
            "{} incomplete lazy entries (blobs without a manifest) left for later\n",
            report.incomplete
        ));
    }
    for failure in &report.failures {
        text.push_str(&format!("failed: {failure}\n"));
    }
    out(&text)
}
