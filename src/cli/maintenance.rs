//! `pin`, `unpin`, `consolidate`, `verify` and `gc`: keeping the store healthy.

use super::format::size;
use super::{CliError, CliResult, Skipped, WorkspaceArgs, exit, json, out};
use celltime_store::model::{NotebookKey, colliding_folder};
use celltime_store::store::{Issue, Notebook, Severity, Store, StoreError, VerifyReport};
use clap::Args;

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
    let mut changed = 0;
    for prefix in &args.ids {
        let (timeline, index) = super::resolve(history.as_ref(), prefix)?;
        changed += history.set_pinned(&timeline.notebook, &[timeline.rows[index].id], pinned)?;
    }
    let verb = if pinned { "pinned" } else { "unpinned" };
    out(&format!(
        "{verb} {changed} entr{}\n",
        if changed == 1 { "y" } else { "ies" }
    ))?;
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

pub fn consolidate(args: WorkspaceArgs) -> CliResult {
    let store = args.store()?;
    let skipped = each_notebook(&store, |mut notebook| {
        notebook.consolidate()?;
        out(&format!(
            "{}: {} entries in map.toml\n",
            notebook.key(),
            notebook.index().len()
        ))
    })?;
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
    let store = args.workspace.store()?;
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
    let store = args.workspace.store()?;
    let grace = args
        .grace
        .map_or(store.config().gc_grace, |span| span.to_duration());
    let mut reports = Vec::new();
    let skipped = each_notebook(&store, |mut notebook| {
        reports.push((notebook.key().to_string(), notebook.gc(grace)?));
        Ok(())
    })?;
    if args.json {
        json(&reports)?;
    } else {
        for (notebook, r) in &reports {
            out(&format!(
                "{notebook}: freed {} in {} objects and {} in {} pack rows; {} packs compacted; {} young unreferenced contents kept\n",
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
    }
    Ok(skipped.exit_code(exit::OK))
}
