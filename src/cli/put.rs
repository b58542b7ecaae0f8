//! `put`: store one run from files, the way a marimo-side writer would through the library.

use super::{CliError, CliResult, WorkspaceArgs, exit, out};
use celltime_store::model::{
    CellKey, ExecKey, ModuleHash, NewEntry, NewPart, NotebookKey, Timestamp, Version,
};
use celltime_store::store::StoreError;
use celltime_store::store::history::StoreHistory;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct PutArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Notebook key: the notebook's path in the workspace without `.py` (`analysis/eda`).
    #[arg(long)]
    pub notebook: String,
    /// Cell name, persistent_cache block name, or module code hash.
    #[arg(long)]
    pub cell: String,
    /// The module hash marimo computed for this run.
    #[arg(long)]
    pub module: String,
    /// Alternative number of a non-deterministic result.
    #[arg(long, default_value = "0")]
    pub version: String,
    /// When the run started, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    pub created_at: Option<String>,
    /// The module's code snapshot.
    #[arg(long, value_name = "FILE")]
    pub code: Option<PathBuf>,
    /// Variables: `NAME=FORMAT:FILE` (NAME may be empty for the whole namespace); repeatable.
    #[arg(long = "var", value_name = "NAME=FORMAT:FILE")]
    pub vars: Vec<String>,
    /// An output: `MIME=FILE` (`text/html=out.html`); repeatable.
    #[arg(long = "output", value_name = "MIME=FILE")]
    pub outputs: Vec<String>,
    /// What the run printed on stdout.
    #[arg(long, value_name = "FILE")]
    pub stdout: Option<PathBuf>,
    /// What the run printed on stderr.
    #[arg(long, value_name = "FILE")]
    pub stderr: Option<PathBuf>,
    /// A watched file: `PATH=FILE` (the path as the notebook names it); repeatable.
    #[arg(long = "watched", value_name = "PATH=FILE")]
    pub watched: Vec<String>,
    /// An upstream entry this run was computed from (id or unique prefix); repeatable.
    #[arg(long = "parent", value_name = "ID")]
    pub parents: Vec<String>,
    /// Pin the new entry.
    #[arg(long)]
    pub pin: bool,
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::failure(format!("{}: {e}", path.display())))
}

fn split<'a>(flag: &str, text: &'a str, sep: char) -> Result<(&'a str, &'a str), CliError> {
    text.split_once(sep).ok_or_else(|| {
        CliError::usage(format!(
            "--{flag} {text:?}: expected the form shown in --help"
        ))
    })
}

pub fn run(args: PutArgs) -> CliResult {
    let store = args.workspace.store()?;
    let notebook = NotebookKey::new(&args.notebook).map_err(|e| CliError::usage(e.to_string()))?;
    let mut entry = NewEntry::new(
        notebook.clone(),
        CellKey::new(&args.cell).map_err(|e| CliError::usage(e.to_string()))?,
        ModuleHash::new(&args.module).map_err(|e| CliError::usage(e.to_string()))?,
    );
    entry.version = Version::new(&args.version).map_err(|e| CliError::usage(e.to_string()))?;
    entry.created_at = args
        .created_at
        .as_deref()
        .map(|t| {
            t.parse::<Timestamp>()
                .map_err(|e| CliError::usage(e.to_string()))
        })
        .transpose()?;
    entry.pinned = args.pin;
    if let Some(code) = &args.code {
        entry.parts.push(NewPart::new(
            celltime_store::model::PartKind::Code,
            "",
            "",
            read(code)?,
        ));
    }
    for var in &args.vars {
        let (name, rest) = split("var", var, '=')?;
        let (format, file) = split("var", rest, ':')?;
        entry
            .parts
            .push(NewPart::variables(name, format, read(Path::new(file))?));
    }
    for output in &args.outputs {
        // A mime type may carry parameters (`text/plain;charset=utf-8`): the file follows the last `=`.
        let (mime, file) = output
            .rsplit_once('=')
            .ok_or_else(|| CliError::usage(format!("--output {output:?}: expected MIME=FILE")))?;
        entry
            .parts
            .push(NewPart::output(mime, read(Path::new(file))?));
    }
    for (stream, file) in [("stdout", &args.stdout), ("stderr", &args.stderr)] {
        if let Some(file) = file {
            entry.parts.push(NewPart::new(
                celltime_store::model::PartKind::Console,
                stream,
                "",
                read(file)?,
            ));
        }
    }
    for watched in &args.watched {
        let (path, file) = split("watched", watched, '=')?;
        entry
            .parts
            .push(NewPart::watched(path, read(Path::new(file))?));
    }
    let history = StoreHistory::new(store.clone());
    for parent in &args.parents {
        let (timeline, index) = super::resolve(&history, parent)?;
        let key = NotebookKey::new(&timeline.notebook).map_err(StoreError::from)?;
        let parent_notebook = store.notebook(&key)?;
        let parent_entry = parent_notebook
            .index()
            .get(timeline.rows[index].id)
            .ok_or_else(|| StoreError::UnknownEntry(parent.clone()))?;
        entry.parents.push(parent_entry.key);
    }
    // The entry is committed once appended to the log; the map catches up only when the log
    // has grown past the threshold (docs/FORMAT.md §10.5), so a put costs the same at any size.
    let appended = store.append(&notebook, vec![entry])?;
    let key: &ExecKey = &appended.keys[0];
    // Its id is printed whatever happens next, so that nobody retries and makes a duplicate.
    let id = key.id().to_hex();
    out(&format!("{id}\n"))?;
    if let Err(e) = appended.consolidated {
        super::warn(&format!(
            "entry {id} is committed; folding the log into map.toml failed: {e}; `celltime consolidate` folds it later"
        ));
    }
    Ok(exit::OK)
}
