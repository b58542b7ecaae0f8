//! `pin`, `unpin`, `consolidate`, `verify` and `gc`: keeping the store healthy.

use super::format::size;
use super::{CliError, CliResult, Skipped, WorkspaceArgs, command_line, exit, json, out};
use celltime_store::model::{Change, EntryId, NotebookKey, colliding_folder};
use celltime_store::ops::{self, OpKind, OpLog};
use celltime_store::store::{GcReport, Issue, Notebook, Severity, Store, StoreError, VerifyReport};
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
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = super::value::<celltime_store::units::Span>)]
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
    let journal = ops::Lazy::new(&oplog, kind, &command_line());
    let mut changed = 0;
    for (notebook, ids) in &by_notebook {
        match history.set_pinned(notebook, ids, pinned, &journal) {
            Ok(n) => changed += n,
            Err(e) => {
                journal.finish(&format!("failed: {}", e.message), false)?;
                return Err(e.into());
            }
        }
    }
    let verb = if pinned { "pinned" } else { "unpinned" };
    let text = format!(
        "{verb} {changed} entr{}",
        if changed == 1 { "y" } else { "ies" }
    );
    journal.finish(&text, true)?;
    out(&format!("{text}\n"))?;
    Ok(exit::OK)
}

/// Visits each notebook of the store, opened; a damaged folder, or one that cannot be opened
/// or visited, is reported and the others go on.
fn each_notebook(
    store: &Store,
    mut visit: impl FnMut(Notebook) -> Result<(), CliError>,
) -> Result<Skipped, CliError> {
    let mut skipped = Skipped::default();
    for folder in store.notebook_folders()? {
        match folder.key.and_then(|key| store.notebook(&key)) {
            Ok(notebook) => {
                if let Err(e) = visit(notebook) {
                    skipped.report(e);
                }
            }
            Err(e) => skipped.report(e),
        }
    }
    Ok(skipped)
}

/// The store, or a clear error when the workspace has none (a command about the store must
/// not report "ok" on nothing).
fn existing_store(args: &WorkspaceArgs, command: &str) -> Result<Store, CliError> {
    let store = args.store()?;
    if store.notebook_folders()?.is_empty() {
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
    let skipped = each_notebook(&store, |mut notebook| {
        notebook.consolidate()?;
        text.push_str(&format!(
            "{}: {} entries in map.toml\n",
            notebook.key(),
            notebook.index().len()
        ));
        Ok(())
    })?;
    // Nothing to undo, so recorded once done: a refused consolidation leaves no trace.
    if !text.is_empty() {
        OpLog::of(&store)
            .begin(OpKind::Consolidate, &command_line(), None)?
            .finish(
                &format!("folded the logs of {} notebooks", text.lines().count()),
                !skipped.any(),
            )?;
    }
    out(&text)?;
    Ok(skipped.exit_code(exit::OK))
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
    let mut seen: Vec<NotebookKey> = Vec::new();
    for folder in store.notebook_folders()? {
        let dir = store.persist_dir().join(&folder.name);
        let key = folder.key.as_ref().ok().cloned();
        let report = folder
            .key
            .and_then(|key| store.notebook(&key))
            .and_then(|notebook| notebook.verify());
        let mut report = match report {
            Ok(report) => report,
            Err(e @ StoreError::Busy { .. }) => return Err(e.into()),
            Err(e) => VerifyReport::unreadable(&folder.name, e.into_located(&dir)),
        };
        if let Some(key) = key {
            for other in &seen {
                if let Some(folder) = colliding_folder(&key, other) {
                    report.problems.push(Issue::warning(
                        &store.persist_dir().join(&folder),
                        format!(
                            "is the folder of notebook {:?} on macOS and Windows, which ignore case and Unicode normalisation: the two notebooks collide there",
                            other.as_str()
                        ),
                    ));
                }
            }
            seen.push(key);
        }
        reports.push(report);
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
                text.push_str(&format!("  {level}: {p}\n"));
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
    #[arg(long, value_name = "DURATION", value_parser = super::value::<celltime_store::units::Span>)]
    pub grace: Option<celltime_store::units::Span>,
    #[arg(long)]
    pub json: bool,
}

pub fn gc(args: GcArgs) -> CliResult {
    let store = existing_store(&args.workspace, "gc")?;
    let grace = args
        .grace
        .map_or(store.config().gc_grace, |span| span.to_duration());
    let oplog = OpLog::of(&store);
    let mut reports = Vec::new();
    let skipped = each_notebook(&store, |mut notebook| {
        reports.push((notebook.key().to_string(), notebook.gc(grace)?));
        Ok(())
    })?;
    let lost = no_longer_undoable(&oplog, &reports)?;
    let freed: u64 = reports
        .iter()
        .map(|(_, r)| r.object_bytes_freed + r.pack_bytes_dropped)
        .sum();
    // A gc refused everywhere changed nothing and leaves no trace.
    if !reports.is_empty() {
        oplog.begin(OpKind::Gc, &command_line(), None)?.finish(
            &format!(
                "freed {}; {} operations no longer undoable",
                size(freed),
                lost.len()
            ),
            !skipped.any(),
        )?;
    }
    if args.json {
        json(&reports)?;
    } else {
        for (notebook, r) in &reports {
            out(&format!(
                "{}: freed {} in {} objects and {} in {} pack rows; {} packs compacted; {} young unreferenced contents kept\n",
                notebook,
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
    Ok(skipped.exit_code(exit::OK))
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
