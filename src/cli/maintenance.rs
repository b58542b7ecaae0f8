//! `pin`, `unpin`, `consolidate`, `verify` and `gc`: keeping the store healthy.

use super::format::{sanitise, size};
use super::{CliError, CliResult, WorkspaceArgs, exit, json, out};
use celltime_store::remote::{Remote, RemoteGcOptions, RemoteVerifyReport};
use celltime_store::store::{Severity, Store, VerifyReport};
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

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub fn consolidate(args: WorkspaceArgs) -> CliResult {
    let store = args.store()?;
    for key in store.notebook_keys()? {
        let mut notebook = store.notebook(&key)?;
        notebook.consolidate()?;
        out(&format!(
            "{key}: {} entries in map.toml\n",
            notebook.index().len()
        ))?;
    }
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Machine-readable report.
    #[arg(long)]
    pub json: bool,
    /// Check this remote instead: every content the maps reference is on it.
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// With --remote: also download every content and check its hash.
    #[arg(long, requires = "remote")]
    pub read: bool,
    /// With --remote: only notebooks matching this glob (repeatable).
    #[arg(long, value_name = "GLOB", requires = "remote")]
    pub notebook: Vec<String>,
}

pub fn verify(args: VerifyArgs) -> CliResult {
    if let Some(name) = &args.remote {
        return verify_remote(&args, name);
    }
    let store = args.workspace.store()?;
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
                let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
                text.push_str(&format!(
                    "  {}: {}{line}: {}\n",
                    level(p.severity),
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
    /// Collect this remote's garbage instead (two runs a grace period apart free the space).
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// With --remote: only notebooks matching this glob (repeatable).
    #[arg(long, value_name = "GLOB", requires = "remote")]
    pub notebook: Vec<String>,
}

pub fn gc(args: GcArgs) -> CliResult {
    let store = args.workspace.store()?;
    let grace = match &args.grace {
        Some(text) => text
            .parse::<celltime_store::units::Span>()
            .map(|span| celltime_store::store::span_duration(&span))
            .map_err(|e| CliError::usage(format!("--grace: {e}")))?,
        None => store.config().gc_grace,
    };
    if let Some(name) = &args.remote {
        return gc_remote(&store, name, grace, &args);
    }
    let mut reports = Vec::new();
    for key in store.notebook_keys()? {
        let report = store.notebook(&key)?.gc(grace)?;
        reports.push((key.to_string(), report));
    }
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
    Ok(exit::OK)
}

fn verify_remote(args: &VerifyArgs, name: &str) -> CliResult {
    let store = args.workspace.store()?;
    let remote = Remote::open(&store, Some(name))?;
    let reports = remote.verify(&store, &args.notebook, args.read)?;
    let errors: usize = reports.iter().map(RemoteVerifyReport::errors).sum();
    if args.json {
        json(&serde_json::json!({
            "schema": "celltime.remote-verify.v1",
            "remote": remote.name(),
            "url": remote.url(),
            "read": args.read,
            "errors": errors,
            "notebooks": reports,
        }))?;
    } else {
        let mut text = String::new();
        for r in &reports {
            text.push_str(&sanitise(&format!(
                "{}: {} entries, {} of {} contents on {}{}\n",
                r.notebook,
                r.entries,
                r.on_remote,
                r.contents,
                remote.name(),
                if args.read {
                    format!(", {} read and hashed", size(r.bytes_read))
                } else {
                    String::new()
                }
            )));
            for p in &r.problems {
                text.push_str(&sanitise(&format!(
                    "  {}: {}: {}\n",
                    level(p.severity),
                    p.object,
                    p.message
                )));
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

fn gc_remote(store: &Store, name: &str, grace: std::time::Duration, args: &GcArgs) -> CliResult {
    let remote = Remote::open(store, Some(name))?;
    let options = RemoteGcOptions {
        grace,
        notebooks: args.notebook.clone(),
    };
    let report = remote.gc(store, &options)?;
    if args.json {
        json(&report)?;
        return Ok(exit::OK);
    }
    let mut text = String::new();
    for nb in &report.notebooks {
        text.push_str(&sanitise(&format!(
            "{}: freed {} in {} bundles; condemned {} (deleted by a gc at least {} from now){}{}; {} young unreferenced bundles kept\n",
            nb.notebook,
            size(nb.bytes_freed),
            nb.bundles_deleted,
            nb.bundles_condemned,
            humantime_grace(grace),
            if nb.bundles_repacked > 0 {
                format!(", {} repacked", nb.bundles_repacked)
            } else {
                String::new()
            },
            if nb.bundles_rescued > 0 {
                format!(", {} kept because a push uses them again", nb.bundles_rescued)
            } else {
                String::new()
            },
            nb.young_kept
        )));
        for unknown in &nb.unknown {
            text.push_str(&sanitise(&format!(
                "  left alone (not a celltime object): {unknown}\n"
            )));
        }
    }
    out(&text)?;
    Ok(exit::OK)
}

fn humantime_grace(grace: std::time::Duration) -> String {
    let secs = grace.as_secs();
    match secs {
        0 => "now".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}min", s / 60),
        s => format!("{s}s"),
    }
}
