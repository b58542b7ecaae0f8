//! `pin`, `unpin`, `consolidate`, `verify` and `gc`: keeping the store healthy.

use super::format::{count, size};
use super::json::{self, Kind};
use super::output::{Paint, paint, progress};
use super::{
    CliError, CliResult, FlagWorkspaceArgs, Skipped, WorkspaceArgs, command_line, exit, out,
    write_stdout,
};
use celltime_store::model::{Change, EntryId, NotebookKey, colliding_folder};
use celltime_store::ops::{self, OpKind, OpLog};
use celltime_store::store::{
    GcReport, Issue, Notebook, NotebookFolder, Severity, Store, StoreError, VerifyReport,
};
use celltime_text::escape_line;
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

/// Visits each notebook of the store, opened; a damaged folder, or one that cannot be opened
/// or visited, is reported and the others go on.
fn each_notebook(
    store: &Store,
    folders: Vec<NotebookFolder>,
    mut visit: impl FnMut(Notebook) -> Result<(), CliError>,
) -> Result<Skipped, CliError> {
    let mut skipped = Skipped::default();
    for folder in folders {
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

/// The store and its notebook folders (listed once: the tree walk is the command's), or a
/// clear error when the workspace has none (a command about the store must not report "ok"
/// on nothing).
fn existing_store(
    args: &WorkspaceArgs,
    command: &str,
) -> Result<(Store, Vec<NotebookFolder>), CliError> {
    let store = args.store()?;
    let folders = store.notebook_folders()?;
    if folders.is_empty() {
        let ws = args.workspace()?;
        return Err(CliError::failure(format!(
            "{command}: {} has no celltime store with notebooks (__marimo__/persist); nothing to {command} (`celltime import` copies marimo's cache into one)",
            ws.root().display()
        )));
    }
    Ok((store, folders))
}

pub fn consolidate(args: WorkspaceArgs) -> CliResult {
    let (store, folders) = existing_store(&args, "consolidate")?;
    let mut text = String::new();
    let skipped = each_notebook(&store, folders, |mut notebook| {
        notebook.consolidate()?;
        text.push_str(&format!(
            "{}: {} in map.toml\n",
            notebook.key(),
            count(notebook.index().len(), "entry", "entries")
        ));
        Ok(())
    })?;
    // Nothing to undo, so recorded once done: a refused consolidation leaves no trace.
    if !text.is_empty() {
        OpLog::of(&store)
            .begin(OpKind::Consolidate, &command_line(), None)?
            .finish(
                &format!(
                    "folded the logs of {}",
                    count(text.lines().count(), "notebook", "notebooks")
                ),
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
    /// Machine-readable report (schema celltime.verify.v1, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    /// Check this remote instead: every content the maps reference is on it (--json: schema
    /// celltime.remote-verify.v1).
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// With --remote: also download every content and check its hash.
    #[arg(long, requires = "remote")]
    pub read: bool,
    /// With --remote: only notebooks matching this glob (repeatable).
    #[arg(long, value_name = "GLOB", requires = "remote")]
    pub notebook: Vec<String>,
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

/// A problem's severity as people and JSON documents name it.
pub(super) fn severity(s: Severity) -> &'static str {
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
                        path: p.at.path.display().to_string(),
                        line: p.at.line,
                        message: p.at.message.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub fn verify(args: VerifyArgs) -> CliResult {
    if let Some(name) = &args.remote {
        let (store, _) = existing_store(&args.workspace, "verify")?;
        return super::remote::verify(&store, name, &args.notebook, args.read, args.json);
    }
    let (store, folders) = existing_store(&args.workspace, "verify")?;
    let bar = progress(folders.len() as u64, "verify");
    let mut reports: Vec<VerifyReport> = Vec::new();
    let mut seen: Vec<NotebookKey> = Vec::new();
    for folder in folders {
        bar.set_message(escape_line(&folder.name).into_owned());
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
                escape_line(&report.notebook),
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
                text.push_str(&format!("  {level}: {}\n", escape_line(&p.to_string())));
            }
        }
        text.push_str(&if errors == 0 {
            format!("verify: {}\n", paint(Paint::Good, "ok"))
        } else {
            format!("verify: {}\n", paint(Paint::Error, "FAILED"))
        });
        // Escaped piece by piece above: the colours are celltime's, the names the workspace's.
        write_stdout(text.as_bytes())?;
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
    /// Machine-readable report (schema celltime.gc.v1, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    /// Collect this remote's garbage instead (two runs a grace period apart free the space;
    /// --json: schema celltime.remote-gc.v1).
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// With --remote: only notebooks matching this glob (repeatable).
    #[arg(long, value_name = "GLOB", requires = "remote")]
    pub notebook: Vec<String>,
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
    let (store, folders) = existing_store(&args.workspace, "gc")?;
    let grace = args
        .grace
        .map_or(store.config().gc_grace, |span| span.to_duration());
    if let Some(name) = &args.remote {
        return super::remote::gc(&store, name, grace, &args.notebook, args.json);
    }
    let oplog = OpLog::of(&store);
    let bar = progress(folders.len() as u64, "gc");
    let mut reports = Vec::new();
    let skipped = each_notebook(&store, folders, |mut notebook| {
        bar.set_message(escape_line(notebook.key().as_str()).into_owned());
        bar.inc(1);
        reports.push((notebook.key().to_string(), notebook.gc(grace)?));
        Ok(())
    })?;
    bar.finish_and_clear();
    let lost = no_longer_undoable(&oplog, &reports)?;
    let freed: u64 = reports
        .iter()
        .map(|(_, r)| r.object_bytes_freed + r.pack_bytes_dropped)
        .sum();
    // A gc refused everywhere changed nothing and leaves no trace.
    if !reports.is_empty() {
        oplog.begin(OpKind::Gc, &command_line(), None)?.finish(
            &format!(
                "freed {}; {} no longer undoable",
                size(freed),
                count(lost.len(), "operation", "operations")
            ),
            !skipped.any(),
        )?;
    }
    if args.json {
        json::print(Kind::Gc, &gc_json(&reports, &lost, freed))?;
    } else {
        for (notebook, r) in &reports {
            out(&format!(
                "{}: freed {} in {} and {} in {}; {} compacted; {} kept\n",
                notebook,
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
