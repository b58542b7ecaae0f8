//! `pin`, `unpin`, `consolidate`, `verify` and `gc`: keeping the store healthy.

use super::format::{sanitise, size};
use super::{CliError, CliResult, WorkspaceArgs, command_line, exit, json, out};
use celltime_store::model::{Change, EntryId};
use celltime_store::ops::{self, OpKind, OpLog};
use celltime_store::store::{GcReport, Severity, Store, VerifyReport};
use clap::Args;
use std::collections::BTreeMap;

#[derive(Debug, Args)]
pub struct IdsArgs {
    /// Entry ids or unique prefixes.
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// A folder inside the workspace (the ids come first, so the workspace is a flag here).
    #[arg(short = 'C', long = "workspace", value_name = "PATH")]
    pub path: Option<std::path::PathBuf>,
    /// How long to wait for another process's lock on a notebook before giving up (exit 75).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = super::parse_span)]
    pub lock_timeout: celltime_store::units::Span,
}

pub fn pin(args: IdsArgs, pinned: bool) -> CliResult {
    let workspace = WorkspaceArgs {
        path: args.path.clone(),
        lock_timeout: args.lock_timeout,
        cache_dir: None,
    };
    let history = workspace.history()?;
    // Every id is resolved before anything changes: one bad id changes nothing.
    let mut by_notebook: BTreeMap<String, Vec<EntryId>> = BTreeMap::new();
    for prefix in &args.ids {
        let (timeline, index) = super::resolve(history.as_ref(), prefix)?;
        by_notebook
            .entry(timeline.notebook.clone())
            .or_default()
            .push(timeline.rows[index].id);
    }
    let oplog = workspace.oplog()?;
    let kind = if pinned { OpKind::Pin } else { OpKind::Unpin };
    let verb = if pinned { "pinned" } else { "unpinned" };
    let changed = ops::journaled(
        &oplog,
        kind,
        &command_line(),
        |journal| {
            let mut changed = 0;
            for (notebook, ids) in &by_notebook {
                changed += history.set_pinned(notebook, ids, pinned, journal)?;
            }
            Ok(changed)
        },
        |&changed| {
            format!(
                "{verb} {changed} entr{}",
                if changed == 1 { "y" } else { "ies" }
            )
        },
    )?;
    let text = format!(
        "{verb} {changed} entr{}",
        if changed == 1 { "y" } else { "ies" }
    );
    out(&format!("{text}\n"))?;
    Ok(exit::OK)
}

/// The store, or a clear error when the workspace has none (a command about the store must
/// not report "ok" on nothing).
fn existing_store(args: &WorkspaceArgs, command: &str) -> Result<Store, CliError> {
    let store = args.store()?;
    if store.notebook_keys()?.is_empty() {
        let ws = args.workspace()?;
        return Err(CliError::failure(format!(
            "{command}: {} has no celltime store with notebooks (__marimo__/persist); nothing to {command} (`celltime import` copies marimo's cache into one)",
            ws.root().display()
        )));
    }
    Ok(store)
}

pub fn consolidate(args: WorkspaceArgs) -> CliResult {
    let store = existing_store(&args, "consolidate")?;
    let mut text = String::new();
    for key in store.notebook_keys()? {
        let mut notebook = store.notebook(&key)?;
        notebook.consolidate()?;
        text.push_str(&format!(
            "{}: {} entries in map.toml\n",
            sanitise(key.as_str()),
            notebook.index().len()
        ));
    }
    // Nothing to undo, so recorded once done: a refused consolidation leaves no trace.
    OpLog::of(&store)
        .begin(OpKind::Consolidate, &command_line(), None)?
        .finish(
            &format!("folded the logs of {} notebooks", text.lines().count()),
            true,
        )?;
    out(&text)?;
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Machine-readable report.
    #[arg(long)]
    pub json: bool,
}

pub fn verify(args: VerifyArgs) -> CliResult {
    let store = existing_store(&args.workspace, "verify")?;
    let mut reports: Vec<VerifyReport> = Vec::new();
    for key in store.notebook_keys()? {
        reports.push(store.notebook(&key)?.verify()?);
    }
    let errors: usize = reports.iter().map(VerifyReport::errors).sum();
    if args.json {
        json(&reports)?;
    } else {
        let mut text = String::new();
        for report in &reports {
            text.push_str(&format!(
                "{}: {} entries, {} contents checked ({}), garbage: {} contents ({})\n",
                report.notebook,
                report.entries,
                report.contents_checked,
                size(report.bytes_hashed),
                report.garbage_contents,
                size(report.garbage_bytes)
            ));
            for p in &report.problems {
                let level = match p.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "note",
                };
                let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
                text.push_str(&format!(
                    "  {level}: {}{line}: {}\n",
                    p.path.display(),
                    p.message
                ));
            }
        }
        text.push_str(if errors == 0 {
            "verify: ok\n"
        } else {
            "verify: FAILED\n"
        });
        out(&text)?;
    }
    Ok(if errors == 0 { exit::OK } else { exit::FAILURE })
}

#[derive(Debug, Args)]
pub struct GcArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Keep unreferenced contents younger than this (`1h`, `2d`); default: gc_grace of persist.toml.
    #[arg(long, value_name = "DURATION")]
    pub grace: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn gc(args: GcArgs) -> CliResult {
    let store = existing_store(&args.workspace, "gc")?;
    let grace = match &args.grace {
        Some(text) => text
            .parse::<celltime_store::units::Span>()
            .map(|span| celltime_store::store::span_duration(&span))
            .map_err(|e| CliError::usage(format!("--grace: {e}")))?,
        None => store.config().gc_grace,
    };
    let oplog = OpLog::of(&store);
    let mut reports = Vec::new();
    for key in store.notebook_keys()? {
        let report = store.notebook(&key)?.gc(grace)?;
        reports.push((key.to_string(), report));
    }
    let lost = no_longer_undoable(&oplog, &reports)?;
    let freed: u64 = reports
        .iter()
        .map(|(_, r)| r.object_bytes_freed + r.pack_bytes_dropped)
        .sum();
    oplog.begin(OpKind::Gc, &command_line(), None)?.finish(
        &format!(
            "freed {}; {} operations no longer undoable",
            size(freed),
            lost.len()
        ),
        true,
    )?;
    if args.json {
        json(&reports)?;
    } else {
        for (notebook, r) in &reports {
            out(&format!(
                "{}: freed {} in {} objects and {} in {} pack rows; {} packs compacted; {} young unreferenced contents kept\n",
                sanitise(notebook),
                size(r.object_bytes_freed),
                r.objects_removed,
                size(r.pack_bytes_dropped),
                r.pack_rows_dropped,
                r.packs_compacted,
                r.young_garbage_kept
            ))?;
            for unknown in &r.unknown_files {
                out(&format!(
                    "  left alone (not a store object): {}\n",
                    unknown.display()
                ))?;
            }
        }
        for op in &lost {
            out(&format!(
                "no longer undoable: operation {} ({} at {}): contents it removed are swept\n",
                op.short_id(),
                op.header.kind.name(),
                op.header.at.to_rfc3339()
            ))?;
        }
    }
    Ok(exit::OK)
}

/// Operations whose removed entries needed a content this gc swept.
fn no_longer_undoable(
    oplog: &OpLog,
    reports: &[(String, GcReport)],
) -> Result<Vec<ops::Operation>, CliError> {
    let operations = oplog.list()?;
    let done = ops::undone_ids(&operations);
    Ok(operations
        .iter()
        .filter(|op| !done.contains(&*op.header.id))
        .filter(|op| {
            op.changes.iter().any(|change| {
                let Change::StoreRemoved { notebook, entries } = change else {
                    return false;
                };
                let Some((_, report)) = reports.iter().find(|(n, _)| n == notebook) else {
                    return false;
                };
                entries
                    .iter()
                    .flat_map(|e| e.parts.iter())
                    .any(|p| report.swept.contains(&p.content))
            })
        })
        .cloned()
        .collect())
}
