//! `op log` and `undo`: the operation log every changing command writes (as jj has), and
//! reversing an operation — the last one, or one by id — through the same backends.

use super::format::sanitise;
use super::{CliError, CliResult, WorkspaceArgs, command_line, exit, json, out};
use celltime_store::ops::{self, Operation, undone_ids};
use clap::{Args, Subcommand};
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum OpCommand {
    /// List the operations, newest first: when, who, what changed, whether it can be undone.
    Log(OpLogArgs),
}

#[derive(Debug, Args)]
pub struct OpLogArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Machine-readable (schema `celltime.op-log.v1`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The operation to undo (an id prefix from `celltime op log`); default: the last one
    /// that changed entries and was not undone yet.
    pub op: Option<String>,
    /// A folder inside the workspace (the operation comes first, so the workspace is a flag).
    #[arg(short = 'C', long = "workspace", value_name = "PATH")]
    pub path: Option<std::path::PathBuf>,
    /// How long to wait for another process's lock on a notebook before giving up (exit 75).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = super::parse_span)]
    pub lock_timeout: celltime_store::units::Span,
    /// marimo's cache folder when it is not __marimo__/cache (a `save_path`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<std::path::PathBuf>,
}

pub fn run(command: OpCommand) -> CliResult {
    match command {
        OpCommand::Log(args) => log(args),
    }
}

#[derive(Serialize)]
struct OpLogJson {
    schema: &'static str,
    operations: Vec<OpJson>,
}

#[derive(Serialize)]
struct OpJson {
    id: String,
    kind: &'static str,
    started_at: String,
    finished_at: Option<String>,
    user: String,
    host: String,
    pid: u32,
    writer: String,
    command: String,
    undoes: Option<String>,
    summary: Option<String>,
    ok: Option<bool>,
    changes: usize,
    entries: usize,
    undone: bool,
}

fn log(args: OpLogArgs) -> CliResult {
    let oplog = args.workspace.oplog()?;
    let operations = oplog.list()?;
    let undone = undone_ids(&operations);
    let newest_first = operations.iter().rev();
    if args.json {
        let operations = newest_first
            .map(|op| OpJson {
                id: op.header.id.clone(),
                kind: op.header.kind.name(),
                started_at: op.header.at.to_rfc3339(),
                finished_at: op.end.as_ref().map(|e| e.at.to_rfc3339()),
                user: op.header.user.clone(),
                host: op.header.host.clone(),
                pid: op.header.pid,
                writer: op.header.writer.clone(),
                command: op.header.command.clone(),
                undoes: op.header.undoes.clone(),
                summary: op.end.as_ref().map(|e| e.summary.clone()),
                ok: op.end.as_ref().map(|e| e.ok),
                changes: op.changes.len(),
                entries: op.changes.iter().map(ops::change_size).sum(),
                undone: undone.contains(&*op.header.id),
            })
            .collect();
        return json(&OpLogJson {
            schema: "celltime.op-log.v1",
            operations,
        })
        .map(|()| exit::OK);
    }
    let mut text = String::new();
    for op in newest_first {
        text.push_str(&describe(op, undone.contains(&*op.header.id)));
    }
    for (path, reason) in oplog.damaged()? {
        text.push_str(&format!(
            "unreadable operation file {}: {}\n",
            path.display(),
            sanitise(&reason)
        ));
    }
    if text.is_empty() {
        text = "no operations yet: commands that change the workspace record them here\n".into();
    }
    out(&text)?;
    Ok(exit::OK)
}

fn describe(op: &Operation, undone: bool) -> String {
    let h = &op.header;
    let status = match (&op.end, undone) {
        (_, true) => " (undone)".to_string(),
        (None, _) => " (did not finish)".to_string(),
        (Some(end), _) if !end.ok => " (failed)".to_string(),
        _ => String::new(),
    };
    let summary = op
        .end
        .as_ref()
        .map_or("stopped before it finished", |e| e.summary.as_str());
    format!(
        "{}  {:<11} {}  {}@{} pid {}{status}\n    {}\n    {}\n",
        op.short_id(),
        h.kind.name(),
        h.at.to_rfc3339(),
        sanitise(&h.user),
        sanitise(&h.host),
        h.pid,
        sanitise(&h.command),
        sanitise(summary)
    )
}

pub fn undo(args: UndoArgs) -> CliResult {
    let workspace = WorkspaceArgs {
        path: args.path.clone(),
        lock_timeout: args.lock_timeout,
        cache_dir: args.cache_dir.clone(),
    };
    let oplog = workspace.oplog()?;
    let target = match &args.op {
        Some(prefix) => oplog.find(prefix).map_err(CliError::usage)?,
        None => {
            let operations = oplog.list()?;
            match ops::last_undoable(&operations) {
                Some(op) => op.clone(),
                None => {
                    out("nothing to undo: no operation that changed entries is left to undo\n")?;
                    return Ok(exit::OK);
                }
            }
        }
    };
    let history = workspace.history()?;
    let done = ops::undo(history.as_ref(), &oplog, &target, &command_line())?;
    out(&format!(
        "undid {} {} ({}): {} entries back as they were\n",
        target.header.kind.name(),
        target.short_id(),
        target
            .end
            .as_ref()
            .map_or("did not finish", |e| e.summary.as_str()),
        done.restored
    ))?;
    for failure in &done.failures {
        eprintln!("celltime: {}", sanitise(failure));
    }
    Ok(if done.failures.is_empty() {
        exit::OK
    } else {
        exit::FAILURE
    })
}
