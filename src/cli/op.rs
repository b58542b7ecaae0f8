//! `op log` and `undo`: the operation log every changing command writes (as jj has), and
//! reversing an operation — the last one, or one by id — through the same backends.

use super::format::count;
use super::json::{self, Kind};
use super::{CliError, CliResult, FlagWorkspaceArgs, WorkspaceArgs, command_line, exit, out};
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
    /// Machine-readable (schema celltime.op-log.v1, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The operation to undo (an id prefix from `celltime op log`); default: the last one
    /// that changed entries and was not undone yet.
    pub op: Option<String>,
    #[command(flatten)]
    pub workspace: FlagWorkspaceArgs,
}

pub fn run(command: OpCommand) -> CliResult {
    match command {
        OpCommand::Log(args) => log(args),
    }
}

#[derive(Serialize)]
struct OpLogJson {
    operations: Vec<OpJson>,
    /// Operation files that could not be read.
    damaged: Vec<DamagedJson>,
}

#[derive(Serialize)]
struct DamagedJson {
    path: String,
    reason: String,
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
                started_at: json::time(op.header.at),
                finished_at: op.end.as_ref().map(|e| json::time(e.at)),
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
        let damaged = oplog
            .damaged()?
            .into_iter()
            .map(|(path, reason)| DamagedJson {
                path: path.display().to_string(),
                reason,
            })
            .collect();
        return json::print(
            Kind::OpLog,
            &OpLogJson {
                operations,
                damaged,
            },
        )
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
            celltime_text::escape_line(&reason)
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
        celltime_text::escape_line(&h.user),
        celltime_text::escape_line(&h.host),
        h.pid,
        celltime_text::escape_line(&h.command),
        celltime_text::escape_line(summary)
    )
}

pub fn undo(args: UndoArgs) -> CliResult {
    let workspace: WorkspaceArgs = args.workspace.workspace_args();
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
        "undid {} {} ({}): {} back as they were\n",
        target.header.kind.name(),
        target.short_id(),
        target
            .end
            .as_ref()
            .map_or("did not finish", |e| e.summary.as_str()),
        count(done.restored, "entry", "entries")
    ))?;
    for failure in &done.failures {
        super::warn(failure);
    }
    Ok(if done.failures.is_empty() {
        exit::OK
    } else {
        exit::FAILURE
    })
}
