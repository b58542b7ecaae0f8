//! `pin`, `unpin`, `consolidate`, `verify` and `gc`: keeping the store healthy.

use super::format::{count, sanitise, size};
use super::json::{self, Kind};
use super::output::{Paint, paint, progress};
use super::{CliError, CliResult, FlagWorkspaceArgs, WorkspaceArgs, command_line, exit, out};
use celltime_store::model::{Change, EntryId};
use celltime_store::ops::{self, OpKind, OpLog};
use celltime_store::store::{GcReport, Severity, Store, VerifyReport};
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Args)]
pub struct IdsArgs {
    /// Entry ids or unique prefixes.
    #[arg(required = true)]
    pub ids: Vec<String>,
    #[command(flatten)]
    pub workspace: FlagWorkspaceArgs,
}

pub fn pin(args: IdsArgs, pinned: bool) -> CliResult {
    let workspace = args.workspace.workspace_args();
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
        |&changed| format!("{verb} {}", count(changed, "entry", "entries")),
    )?;
    let text = format!("{verb} {}", count(changed, "entry", "entries"));
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
            "{}: {} in map.toml\n",
            sanitise(key.as_str()),
            count(notebook.index().len(), "entry", "entries")
        ));
    }
    // Nothing to undo, so recorded once done: a refused consolidation leaves no trace.
    OpLog::of(&store)
        .begin(OpKind::Consolidate, &command_line(), None)?
        .finish(
            &format!(
                "folded the logs of {}",
                count(text.lines().count(), "notebook", "notebooks")
            ),
            true,
        )?;
    out(&text)?;
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Machine-readable report (schema celltime.verify.v1, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct VerifyJson {
    ok: bool,
    errors: usize,
    notebooks: Vec<VerifyNotebookJson>,
}

#[derive(Serialize)]
struct VerifyNotebookJson {
    notebook: String,
    entries: usize,
    contents_checked: usize,
    bytes_hashed: u64,
    garbage_contents: usize,
    garbage_bytes: u64,
    problems: Vec<ProblemJson>,
}

#[derive(Serialize)]
struct ProblemJson {
    severity: &'static str,
    path: String,
    line: Option<usize>,
    message: String,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn verify_json(reports: &[VerifyReport], errors: usize) -> VerifyJson {
    VerifyJson {
        ok: errors == 0,
        errors,
        notebooks: reports
            .iter()
            .map(|r| VerifyNotebookJson {
                notebook: r.notebook.clone(),
                entries: r.entries,
                contents_checked: r.contents_checked,
                bytes_hashed: r.bytes_hashed,
                garbage_contents: r.garbage_contents,
                garbage_bytes: r.garbage_bytes,
                problems: r
                    .problems
                    .iter()
                    .map(|p| ProblemJson {
                        severity: severity(p.severity),
                        path: p.path.display().to_string(),
                        line: p.line,
                        message: p.message.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub fn verify(args: VerifyArgs) -> CliResult {
    let store = existing_store(&args.workspace, "verify")?;
    let keys = store.notebook_keys()?;
    let bar = progress(keys.len() as u64, "verify");
    let mut reports: Vec<VerifyReport> = Vec::new();
    for key in keys {
        bar.set_message(key.to_string());
        reports.push(store.notebook(&key)?.verify()?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let errors: usize = reports.iter().map(VerifyReport::errors).sum();
    if args.json {
        json::print(Kind::Verify, &verify_json(&reports, errors))?;
    } else {
        let mut text = String::new();
        for report in &reports {
            text.push_str(&format!(
                "{}: {}, {} checked ({}), garbage: {} ({})\n",
                sanitise(&report.notebook),
                count(report.entries, "entry", "entries"),
                count(report.contents_checked, "content", "contents"),
                size(report.bytes_hashed),
                count(report.garbage_contents, "content", "contents"),
                size(report.garbage_bytes)
            ));
            for p in &report.problems {
                let level = match p.severity {
                    Severity::Error => paint(Paint::Error, "error"),
                    other => severity(other).to_string(),
                };
                let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
                text.push_str(&format!(
                    "  {level}: {}{line}: {}\n",
                    sanitise(&p.path.display().to_string()),
                    sanitise(&p.message)
                ));
            }
        }
        text.push_str(&if errors == 0 {
            format!("verify: {}\n", paint(Paint::Good, "ok"))
        } else {
            format!("verify: {}\n", paint(Paint::Error, "FAILED"))
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
    /// Machine-readable report (schema celltime.gc.v1, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct GcJson {
    freed_bytes: u64,
    notebooks: Vec<GcNotebookJson>,
    /// Operations that can no longer be undone: contents they removed are swept.
    no_longer_undoable: Vec<LostOpJson>,
}

#[derive(Serialize)]
struct GcNotebookJson {
    notebook: String,
    objects_removed: usize,
    object_bytes_freed: u64,
    pack_rows_dropped: usize,
    pack_bytes_dropped: u64,
    packs_compacted: usize,
    young_garbage_kept: usize,
    temp_files_removed: usize,
    unknown_files: Vec<String>,
}

#[derive(Serialize)]
struct LostOpJson {
    id: String,
    kind: &'static str,
    started_at: String,
}

fn gc_json(reports: &[(String, GcReport)], lost: &[ops::Operation], freed: u64) -> GcJson {
    GcJson {
        freed_bytes: freed,
        notebooks: reports
            .iter()
            .map(|(notebook, r)| GcNotebookJson {
                notebook: notebook.clone(),
                objects_removed: r.objects_removed,
                object_bytes_freed: r.object_bytes_freed,
                pack_rows_dropped: r.pack_rows_dropped,
                pack_bytes_dropped: r.pack_bytes_dropped,
                packs_compacted: r.packs_compacted,
                young_garbage_kept: r.young_garbage_kept,
                temp_files_removed: r.temp_files_removed,
                unknown_files: r
                    .unknown_files
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
            })
            .collect(),
        no_longer_undoable: lost
            .iter()
            .map(|op| LostOpJson {
                id: op.header.id.clone(),
                kind: op.header.kind.name(),
                started_at: json::time(op.header.at),
            })
            .collect(),
    }
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
    let keys = store.notebook_keys()?;
    let bar = progress(keys.len() as u64, "gc");
    let mut reports = Vec::new();
    for key in keys {
        bar.set_message(key.to_string());
        let report = store.notebook(&key)?.gc(grace)?;
        reports.push((key.to_string(), report));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let lost = no_longer_undoable(&oplog, &reports)?;
    let freed: u64 = reports
        .iter()
        .map(|(_, r)| r.object_bytes_freed + r.pack_bytes_dropped)
        .sum();
    oplog.begin(OpKind::Gc, &command_line(), None)?.finish(
        &format!(
            "freed {}; {} no longer undoable",
            size(freed),
            count(lost.len(), "operation", "operations")
        ),
        true,
    )?;
    if args.json {
        json::print(Kind::Gc, &gc_json(&reports, &lost, freed))?;
    } else {
        for (notebook, r) in &reports {
            out(&format!(
                "{}: freed {} in {} and {} in {}; {} compacted; {} kept\n",
                sanitise(notebook),
                size(r.object_bytes_freed),
                count(r.objects_removed, "object", "objects"),
                size(r.pack_bytes_dropped),
                count(r.pack_rows_dropped, "pack row", "pack rows"),
                count(r.packs_compacted, "pack", "packs"),
                count(
                    r.young_garbage_kept,
                    "young unreferenced content",
                    "young unreferenced contents"
                )
            ))?;
            for unknown in &r.unknown_files {
                out(&format!(
                    "  left alone (not a store object): {}\n",
                    sanitise(&unknown.display().to_string())
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
