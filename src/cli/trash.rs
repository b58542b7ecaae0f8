//! `trash`: what prune moved out of marimo's cache folder — list it, put the last batch back,
//! or empty it (the only way the entries really go).

use super::format::size;
use super::{CliResult, WorkspaceArgs, confirm, exit, out};
use celltime_store::legacy::scan::cache_root;
use celltime_store::legacy::trash;
use clap::Args;

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
        let restored = trash::restore(&root, newest)?;
        out(&format!(
            "restored {} entries from {}\n",
            restored.restored,
            newest.display()
        ))?;
        for failure in &restored.failures {
            super::warn(&failure.to_string());
        }
        return Ok(if restored.failures.is_empty() {
            exit::OK
        } else {
            exit::FAILURE
        });
    }
    if args.empty {
        let question = format!("Delete {} trash batches for good?", batches.len());
        if !args.yes && !confirm(&question, "--yes")? {
            out("nothing deleted\n")?;
            return Ok(exit::OK);
        }
        let count = trash::empty_trash(&root)?;
        out(&format!(
            "deleted {count} trash batches from {}\n",
            root.display()
        ))?;
        return Ok(exit::OK);
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
