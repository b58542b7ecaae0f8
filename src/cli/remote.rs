//! `remote add | ls | rm`: where contents are shared, recorded in `persist.toml`; and
//! `push` / `pull`: moving contents to and from a remote, with a progress bar and a summary.

use super::format::size;
use super::json::{self, Kind};
use super::maintenance::severity;
use super::output::byte_progress;
use super::{CliError, CliResult, WorkspaceArgs, exit, out};
use celltime_store::remote::{
    self, Phase, Progress, PullOptions, PushOptions, Remote, RemoteError, RemoteGcOptions,
    RemoteVerifyReport, TransferReport,
};
use celltime_store::store::{RemoteSettings, Store};
use celltime_store::units::duration_text;
use celltime_text::escape_line;
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

impl From<RemoteError> for CliError {
    fn from(e: RemoteError) -> CliError {
        match e {
            RemoteError::Store(e) => e.into(),
            RemoteError::Usage(_) | RemoteError::Unknown { .. } => CliError::usage(e.to_string()),
            e => CliError::failure(e.to_string()),
        }
    }
}

/// The workspace as a flag, so that the positional argument can name the remote.
#[derive(Debug, Args, Clone)]
pub struct At {
    /// A folder inside the workspace; default: here.
    #[arg(short = 'C', long = "workspace", value_name = "PATH")]
    pub path: Option<PathBuf>,
}

impl At {
    fn store(&self) -> Result<Store, CliError> {
        WorkspaceArgs::at(self.path.clone()).store()
    }
}

#[derive(Debug, Args)]
pub struct RemoteArgs {
    #[command(subcommand)]
    pub command: RemoteCommand,
}

#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Record a remote in persist.toml: s3://bucket/prefix, gs://bucket/prefix,
    /// az://container/prefix or file:///folder. Credentials come from each cloud's
    /// environment variables and profiles (AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_ENDPOINT_URL,
    /// GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT_NAME, …), never from the file.
    Add(AddArgs),
    /// List the remotes of persist.toml.
    Ls(LsArgs),
    /// Remove a remote from persist.toml (nothing on the remote is touched).
    Rm(RmArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// A name for the remote: letters, digits, '-' and '_'.
    pub name: String,
    /// Where contents go: s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or
    /// file:///folder.
    pub url: String,
    /// A client setting that is not a secret, e.g. endpoint=http://127.0.0.1:9000,
    /// region=eu-west-1, allow_http=true (object_store's names). Repeatable.
    #[arg(long = "option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
    /// Do not fetch contents missing locally from this remote on first read.
    #[arg(long)]
    pub no_fetch: bool,
    /// Also list packs/ and objects/ in the store's .gitignore: git then carries maps and
    /// logs, and the remote carries contents.
    #[arg(long)]
    pub gitignore_contents: bool,
    #[command(flatten)]
    pub at: At,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Machine-readable list (schema celltime.remote-list.v1, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub at: At,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// The remote to forget.
    pub name: String,
    #[command(flatten)]
    pub at: At,
}

pub fn run(args: RemoteArgs) -> CliResult {
    match args.command {
        RemoteCommand::Add(args) => add(args),
        RemoteCommand::Ls(args) => ls(args),
        RemoteCommand::Rm(args) => rm(args),
    }
}

fn add(args: AddArgs) -> CliResult {
    let store = args.at.store()?;
    let options = args
        .options
        .iter()
        .map(|o| {
            o.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| CliError::usage(format!("--option {o:?}: expected KEY=VALUE")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let settings = RemoteSettings {
        name: args.name.clone(),
        url: args.url.clone(),
        fetch: !args.no_fetch,
        options,
        line: None,
    };
    remote::add_remote(&store, &settings)?;
    let mut text = format!(
        "added remote {} ({}) to {}\n",
        escape_line(&args.name),
        escape_line(&args.url),
        escape_line(&store.config().path().display().to_string())
    );
    if args.gitignore_contents && remote::ignore_contents_in_git(&store)? {
        text.push_str("packs/ and objects/ are now in the store's .gitignore: git carries maps and logs, the remote carries contents\n");
    }
    out(&text)?;
    Ok(exit::OK)
}

#[derive(Serialize)]
struct RemoteList<'a> {
    remotes: Vec<RemoteRow<'a>>,
}

#[derive(Serialize)]
struct RemoteRow<'a> {
    name: &'a str,
    url: &'a str,
    fetch: bool,
    options: std::collections::BTreeMap<&'a str, &'a str>,
}

fn ls(args: LsArgs) -> CliResult {
    let store = args.at.store()?;
    let remotes = &store.config().remotes;
    if args.json {
        let rows: Vec<RemoteRow> = remotes
            .iter()
            .map(|r| RemoteRow {
                name: &r.name,
                url: &r.url,
                fetch: r.fetch,
                options: r
                    .options
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            })
            .collect();
        json::print(Kind::RemoteList, &RemoteList { remotes: rows })?;
        return Ok(exit::OK);
    }
    let mut text = String::new();
    for r in remotes {
        let mut notes: Vec<String> = r.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !r.fetch {
            notes.push("no fetch on read".into());
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  ({})", notes.join(", "))
        };
        text.push_str(&escape_line(&format!("{}\t{}{notes}", r.name, r.url)));
        text.push('\n');
    }
    if remotes.is_empty() {
        text.push_str("no remotes; add one with `celltime remote add NAME URL`\n");
    }
    out(&text)?;
    Ok(exit::OK)
}

fn rm(args: RmArgs) -> CliResult {
    let store = args.at.store()?;
    remote::remove_remote(&store, &args.name)?;
    out(&format!(
        "removed remote {} from {}\n",
        escape_line(&args.name),
        escape_line(&store.config().path().display().to_string())
    ))?;
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The remote; default: the only one in persist.toml.
    pub remote: Option<String>,
    /// Only notebooks matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub notebook: Vec<String>,
    /// Machine-readable summary (schema celltime.push.v1, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub at: At,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// The remote; default: the only one in persist.toml.
    pub remote: Option<String>,
    /// Only notebooks matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub notebook: Vec<String>,
    /// Only the runs of this cell (repeatable).
    #[arg(long, value_name = "NAME")]
    pub cell: Vec<String>,
    /// Machine-readable summary (schema celltime.pull.v1, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub at: At,
}

pub fn push(args: PushArgs) -> CliResult {
    let store = args.at.store()?;
    let remote = Remote::open(&store, args.remote.as_deref())?;
    let bar = Bar::new("push");
    let options = PushOptions {
        notebooks: args.notebook,
        ..PushOptions::default()
    };
    let report = remote.push(&store, &options, bar.clone());
    bar.finish();
    summary(&report?, Kind::Push, "pushed to", args.json)
}

pub fn pull(args: PullArgs) -> CliResult {
    let store = args.at.store()?;
    let remote = Remote::open(&store, args.remote.as_deref())?;
    let bar = Bar::new("pull");
    let options = PullOptions {
        notebooks: args.notebook,
        cells: args.cell,
    };
    let report = remote.pull(&store, &options, bar.clone());
    bar.finish();
    summary(&report?, Kind::Pull, "pulled from", args.json)
}

/// Prints what a transfer did; contents neither side holds make it fail (exit 1).
fn summary(report: &TransferReport, kind: Kind, verb: &str, as_json: bool) -> CliResult {
    let code = if report.unavailable == 0 {
        exit::OK
    } else {
        exit::FAILURE
    };
    if as_json {
        json::print(kind, report)?;
        return Ok(code);
    }
    let mut text = format!(
        "{verb} {} ({}): {} contents ({}) in {} objects, {} already there, {:.1} s\n",
        escape_line(&report.remote),
        escape_line(&report.url),
        report.contents,
        size(report.bytes),
        report.objects,
        report.already_there,
        report.elapsed_ms as f64 / 1000.0
    );
    for nb in &report.notebooks {
        if nb.contents > 0 {
            text.push_str(&format!(
                "  {}: {} contents ({})\n",
                escape_line(&nb.notebook),
                nb.contents,
                size(nb.bytes)
            ));
        }
        if !nb.unavailable.is_empty() {
            text.push_str(&format!(
                "  {}: {} contents the map references are neither here nor on the remote (first: {}); push them from the machine that made them\n",
                escape_line(&nb.notebook),
                nb.unavailable.len(),
                nb.unavailable[0]
            ));
        }
    }
    out(&text)?;
    Ok(code)
}

/// A byte progress bar on stderr (only on a terminal, never with --quiet).
struct Bar(ProgressBar);

impl Bar {
    fn new(verb: &'static str) -> Arc<Bar> {
        Arc::new(Bar(byte_progress(verb)))
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn phase(&self, notebook: &str, phase: Phase) {
        let what = match phase {
            Phase::Listing => "listing",
            Phase::Transferring => "transferring",
            Phase::Committing => "committing",
            Phase::Checking => "checking",
        };
        self.0
            .set_message(format!("{} {what}", escape_line(notebook)));
    }

    fn add_total(&self, _contents: u64, bytes: u64) {
        self.0.inc_length(bytes);
    }

    fn advance(&self, _contents: u64, bytes: u64) {
        self.0.inc(bytes);
    }
}

#[derive(Serialize)]
struct VerifyJson<'a> {
    remote: &'a str,
    url: &'a str,
    read: bool,
    ok: bool,
    errors: usize,
    notebooks: Vec<VerifyNotebookJson<'a>>,
}

#[derive(Serialize)]
struct VerifyNotebookJson<'a> {
    notebook: &'a str,
    entries: usize,
    contents: usize,
    on_remote: usize,
    bytes_read: u64,
    problems: Vec<ProblemJson<'a>>,
}

#[derive(Serialize)]
struct ProblemJson<'a> {
    severity: &'static str,
    object: &'a str,
    message: &'a str,
}

fn verify_json(report: &RemoteVerifyReport) -> VerifyNotebookJson<'_> {
    VerifyNotebookJson {
        notebook: &report.notebook,
        entries: report.entries,
        contents: report.contents,
        on_remote: report.on_remote,
        bytes_read: report.bytes_read,
        problems: report
            .problems
            .iter()
            .map(|p| ProblemJson {
                severity: severity(p.severity),
                object: &p.object,
                message: &p.message,
            })
            .collect(),
    }
}

/// `verify --remote NAME`: every content the maps reference is on the remote (and, with
/// `read`, hashes right).
pub fn verify(
    store: &Store,
    name: &str,
    notebooks: &[String],
    read: bool,
    as_json: bool,
) -> CliResult {
    let remote = Remote::open(store, Some(name))?;
    let reports = remote.verify(store, notebooks, read)?;
    let errors: usize = reports.iter().map(RemoteVerifyReport::errors).sum();
    if as_json {
        json::print(
            Kind::RemoteVerify,
            &VerifyJson {
                remote: remote.name(),
                url: remote.url(),
                read,
                ok: errors == 0,
                errors,
                notebooks: reports.iter().map(verify_json).collect(),
            },
        )?;
    } else {
        let mut text = String::new();
        for r in &reports {
            let hashed = if read {
                format!(", {} read and hashed", size(r.bytes_read))
            } else {
                String::new()
            };
            text.push_str(&format!(
                "{}: {} entries, {} of {} contents on {}{hashed}\n",
                escape_line(&r.notebook),
                r.entries,
                r.on_remote,
                r.contents,
                escape_line(remote.name()),
            ));
            for p in &r.problems {
                text.push_str(&format!(
                    "  {}: {}: {}\n",
                    severity(p.severity),
                    escape_line(&p.object),
                    escape_line(&p.message)
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

/// `gc --remote NAME`: frees remote contents no map references, in two runs `grace` apart.
pub fn gc(
    store: &Store,
    name: &str,
    grace: std::time::Duration,
    notebooks: &[String],
    as_json: bool,
) -> CliResult {
    let remote = Remote::open(store, Some(name))?;
    let options = RemoteGcOptions {
        grace,
        notebooks: notebooks.to_vec(),
    };
    let report = remote.gc(store, &options)?;
    if as_json {
        json::print(Kind::RemoteGc, &report)?;
        return Ok(exit::OK);
    }
    let mut text = String::new();
    for nb in &report.notebooks {
        let mut also = String::new();
        if nb.bundles_repacked > 0 {
            also.push_str(&format!(", {} repacked", nb.bundles_repacked));
        }
        if nb.bundles_rescued > 0 {
            also.push_str(&format!(
                ", {} kept because a push uses them again",
                nb.bundles_rescued
            ));
        }
        text.push_str(&format!(
            "{}: freed {} in {} bundles; condemned {} (deleted by a gc at least {} from now){also}; {} young unreferenced bundles kept\n",
            escape_line(&nb.notebook),
            size(nb.freed_bytes),
            nb.bundles_deleted,
            nb.bundles_condemned,
            duration_text(grace),
            nb.young_kept
        ));
        for unknown in &nb.unknown {
            text.push_str(&format!(
                "  left alone (not a celltime object): {}\n",
                escape_line(unknown)
            ));
        }
    }
    out(&text)?;
    Ok(exit::OK)
}
