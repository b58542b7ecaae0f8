//! `trash`: what prune moved out of marimo's cache folder — list it, put the last batch back,
//! or empty it (the only way the entries really go).

use super::format::{count, size};
use super::json::{self, Kind};
use super::{CliResult, WorkspaceArgs, command_line, confirm, exit, out};
use celltime_store::legacy::LegacyHistory;
use celltime_store::legacy::scan::cache_root;
use celltime_store::legacy::trash;
use celltime_store::model::Change;
use celltime_store::ops::{self, OpKind, Operation};
use clap::Args;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Args)]
pub struct TrashArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Put the newest batch back where it came from (undo the last prune).
    #[arg(long, conflicts_with = "empty")]
    pub restore: bool,
    /// Delete every batch for good.
    #[arg(long)]
    pub empty: bool,
    /// Empty without asking; required when stdin is not a terminal.
    #[arg(short, long, requires = "empty")]
    pub yes: bool,
    /// List the batches machine-readably (schema celltime.trash.v1, docs/JSON.md).
    #[arg(long, conflicts_with_all = ["restore", "empty"])]
    pub json: bool,
}

#[derive(Serialize)]
struct TrashJson {
    cache_dir: String,
    batches: Vec<BatchJson>,
}

#[derive(Serialize)]
struct BatchJson {
    name: String,
    path: String,
    size: u64,
}

pub fn run(args: TrashArgs) -> CliResult {
    let workspace = args.workspace.workspace()?;
    let root = cache_root(workspace.root(), args.workspace.cache_dir.as_deref());
    let batches = trash::batches(&root)?;
    if args.restore {
        let Some(newest) = batches.last() else {
            out("the trash is empty; nothing to restore\n")?;
            return Ok(exit::OK);
        };
        // The operation that filled the batch is undone whole: its store copies come back
        // with the cache files.
        let oplog = args.workspace.oplog()?;
        let operations = oplog.list()?;
        if let Some(op) = made_batch(&operations, newest) {
            let history = args.workspace.history()?;
            let done = ops::undo(history.as_ref(), &oplog, op, &command_line())?;
            out(&format!(
                "undid {} {}: {} back (cache files from {} and their store copies)\n",
                op.header.kind.name(),
                op.short_id(),
                count(done.restored, "entry", "entries"),
                newest.display()
            ))?;
            for failure in &done.failures {
                super::warn(failure);
            }
            return Ok(if done.failures.is_empty() {
                exit::OK
            } else {
                exit::FAILURE
            });
        }
        // A batch no operation names (an older celltime made it): moved back as an
        // operation of its own, so it too can be undone.
        let name = newest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let journal = ops::Lazy::new(&oplog, OpKind::TrashRestore, &command_line());
        let cache = LegacyHistory::at(workspace.root(), root.clone());
        let restored = cache.reverse_cache(
            &Change::CacheTrashed {
                cache_dir: root.clone(),
                batch: name,
                ids: Vec::new(),
            },
            &journal,
        );
        let summary = match &restored {
            Ok(n) => format!(
                "restored {} from {}",
                count(*n, "entry", "entries"),
                newest.display()
            ),
            Err(e) => format!("failed: {}", e.message),
        };
        journal.finish(&summary, restored.is_ok())?;
        out(&format!("{summary}\n"))?;
        return Ok(if restored.is_ok() {
            exit::OK
        } else {
            exit::FAILURE
        });
    }
    if args.empty {
        let question = format!(
            "Delete {} for good?",
            count(batches.len(), "trash batch", "trash batches")
        );
        if !args.yes && !confirm(&question, "--yes")? {
            out("nothing deleted\n")?;
            return Ok(exit::OK);
        }
        let oplog = args.workspace.oplog()?;
        let operations = oplog.list()?;
        let lost: Vec<&Operation> = batches
            .iter()
            .filter_map(|b| made_batch(&operations, b))
            .collect();
        let recorder = oplog.begin(OpKind::TrashEmpty, &command_line(), None)?;
        let deleted = trash::empty_trash(&root)?;
        recorder.finish(
            &format!(
                "deleted {}; {} no longer undoable",
                count(deleted, "trash batch", "trash batches"),
                count(lost.len(), "operation", "operations")
            ),
            true,
        )?;
        let mut text = format!(
            "deleted {} from {}\n",
            count(deleted, "trash batch", "trash batches"),
            root.display()
        );
        for op in lost {
            text.push_str(&format!(
                "no longer undoable: operation {} ({} at {})\n",
                op.short_id(),
                op.header.kind.name(),
                op.header.at.to_rfc3339()
            ));
        }
        out(&text)?;
        return Ok(exit::OK);
    }
    if args.json {
        let batches = batches
            .iter()
            .map(|batch| BatchJson {
                name: batch
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                path: batch.display().to_string(),
                size: trash::batch_size(batch).unwrap_or(0),
            })
            .collect();
        let document = TrashJson {
            cache_dir: root.display().to_string(),
            batches,
        };
        return json::print(Kind::Trash, &document).map(|()| exit::OK);
    }
    let mut text = String::new();
    for batch in &batches {
        let bytes = trash::batch_size(batch).unwrap_or(0);
        text.push_str(&format!("{}  {}\n", batch.display(), size(bytes)));
    }
    if batches.is_empty() {
        text.push_str("the trash is empty\n");
    }
    out(&text)?;
    Ok(exit::OK)
}

/// The operation (not undone yet) that moved entries into `batch`.
fn made_batch<'o>(operations: &'o [Operation], batch: &Path) -> Option<&'o Operation> {
    let name = batch.file_name()?.to_str()?;
    let undone = ops::undone_ids(operations);
    operations.iter().rev().find(|op| {
        !undone.contains(&*op.header.id)
            && op
                .changes
                .iter()
                .any(|c| matches!(c, Change::CacheTrashed { batch: b, .. } if b == name))
    })
}
