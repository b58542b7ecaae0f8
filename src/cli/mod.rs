//! The command line: argument parsing and one module per group of commands.

mod demo;
mod diff;
pub mod format;
mod import;
pub mod json;
mod ls;
mod maintenance;
pub mod manual;
mod marimo;
mod op;
pub mod output;
pub mod policy_args;
mod prune;
mod put;
mod serve;
mod show;
mod trash;

use celltime_store::model::{BackendKind, History, Timeline};
use celltime_store::ops::OpLog;
use celltime_store::store::{Store, StoreError, StoreOptions, Workspace};
use celltime_store::units::Span;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes scripts can rely on.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    /// A usage or policy error: nothing was changed.
    pub const USAGE: u8 = 2;
    /// A prune budget could not be met.
    pub const BUDGET_NOT_MET: u8 = 3;
    /// EX_TEMPFAIL: the store lock was held for longer than `--lock-timeout`.
    pub const BUSY: u8 = 75;
}

#[derive(Debug, Parser)]
#[command(
    name = "celltime",
    version,
    about = "A time machine for marimo notebook results: browse, compare and prune cached runs.",
    override_usage = "celltime [OPTIONS] [PATH]\n       celltime [--color WHEN] [--quiet] <COMMAND> [ARGS]",
    after_help = "Without a command, opens the interactive UI on the workspace containing PATH."
)]
pub struct Cli {
    /// A folder inside the workspace (the folder holding __marimo__/); default: here.
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub ui: UiArgs,
    #[command(flatten)]
    pub output: output::OutputArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options of the interactive UI.
#[derive(Debug, Args, Clone, Default)]
pub struct UiArgs {
    /// Leave the mouse to the terminal (text selection keeps working).
    #[arg(long)]
    pub no_mouse: bool,
    /// Keymap and theme file instead of $CELLTIME_CONFIG or ~/.config/celltime/config.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// marimo's cache folder when it is not __marimo__/cache (a `save_path`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Only runs of one backend: celltime's store or marimo's cache folder (default: both,
    /// a run held by both as one row).
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
}

/// One backend, as `--backend` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// celltime's store, __marimo__/persist
    Store,
    /// marimo's cache folder, __marimo__/cache (or --cache-dir)
    Cache,
}

impl Backend {
    pub fn kind(self) -> BackendKind {
        match self {
            Backend::Store => BackendKind::Store,
            Backend::Cache => BackendKind::Legacy,
        }
    }
}

/// The command line as the operation log records it.
pub fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

impl UiArgs {
    /// Opens the UI on the history of the workspace around `path`: on a terminal that can
    /// show it; `TERM=dumb` gets the plain listing instead, and no terminal at all an error
    /// that names the command that prints.
    pub fn open(&self, path: Option<PathBuf>) -> CliResult {
        self.check_config()?;
        let workspace = WorkspaceArgs {
            cache_dir: self.cache_dir.clone(),
            ..WorkspaceArgs::at(path)
        };
        if crate::tui::term::dumb() {
            output::note(
                "TERM=dumb: this terminal cannot show the interactive UI; here is the plain listing (`celltime ls`, `celltime show ID` and `celltime diff ID` say more)",
            );
            return ls::plain_cells(workspace, self.backend);
        }
        if !crate::tui::term::available() {
            return Err(CliError::failure(NO_TERMINAL));
        }
        let history = workspace.history_of(self.backend)?;
        let ws = workspace.workspace()?;
        let options = crate::tui::TuiOptions {
            config: self.config.clone(),
            mouse: self.no_mouse.then_some(false),
            default_policy: saved_policy(&workspace),
        };
        let follow = celltime_store::follow::Targets {
            store: ws.persist_dir(),
            cache: celltime_store::legacy::scan::cache_root(ws.root(), self.cache_dir.as_deref()),
        };
        match crate::tui::run(std::sync::Arc::from(history), Some(follow), options) {
            Ok(crate::tui::Ending::Quit) => Ok(exit::OK),
            // A signal ends the UI as it ends any program: 128 + its number (SIGTERM: 143).
            Ok(crate::tui::Ending::Signal(signal)) => Ok(128u8.saturating_add(signal as u8)),
            Err(e) => Err(CliError::failure(e.to_string())),
        }
    }

    /// `--config FILE` names a file that must be there (only the default may be missing).
    pub fn check_config(&self) -> Result<(), CliError> {
        match &self.config {
            Some(path) if !path.is_file() => Err(CliError::usage(format!(
                "--config {}: no such file",
                path.display()
            ))),
            _ => Ok(()),
        }
    }
}

/// What the UI says when it has no terminal to run on.
pub const NO_TERMINAL: &str = "the interactive UI needs a terminal, and stdin/stdout are not one (nor is there a /dev/tty): `celltime ls` prints the history instead (`celltime --help` lists every command)";

/// The saved default policy (`[prune]` of persist.toml) as policy text, for the UI's `P`.
pub fn saved_policy(workspace: &WorkspaceArgs) -> Option<String> {
    let store = workspace.store().ok()?;
    let policy = celltime_store::policy::Policy::from_toml(store.config().prune_table()?).ok()?;
    Some(policy.to_text())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the built-in demo workspace and open it (or just write it, with --no-tui).
    Demo(demo::DemoArgs),
    /// List entries, or notebooks and cells, without reading any content.
    Ls(ls::LsArgs),
    /// Show one entry: its key, parts and their previews.
    Show(show::ShowArgs),
    /// Show how an entry's code differs from the previous code version of its cell.
    Diff(diff::DiffArgs),
    /// Remove entries a retention policy does not keep (see docs/PRUNE.md).
    Prune(Box<prune::PruneArgs>),
    /// Store a run: its execution key and content parts.
    Put(Box<put::PutArgs>),
    /// Pin entries: retention policies never remove them.
    Pin(maintenance::IdsArgs),
    /// Unpin entries.
    Unpin(maintenance::IdsArgs),
    /// Fold the transaction logs into each notebook's map.toml.
    Consolidate(WorkspaceArgs),
    /// Check that every content matches its hash and every entry's contents exist.
    Verify(maintenance::VerifyArgs),
    /// Sweep contents no entry references (older than the grace period) and compact packs.
    Gc(maintenance::GcArgs),
    /// List what prune moved out of marimo's cache folder; --restore puts the last batch back,
    /// --empty deletes it for good.
    Trash(trash::TrashArgs),
    /// Copy marimo's cache entries (__marimo__/cache) into the store; --watch keeps going.
    Import(import::ImportArgs),
    /// The operation log: what every command changed (`celltime op log`).
    #[command(subcommand)]
    Op(op::OpCommand),
    /// Undo the last operation (or OP): put back what it removed, unpin what it pinned, …
    Undo(op::UndoArgs),
    /// Serve marimo this run for its cell and module from now on (roll back to a run you liked).
    Serve(serve::ServeArgs),
    /// Make celltime marimo's cache store (enable, disable) or say which store marimo uses.
    Marimo(marimo::MarimoArgs),
    /// Print a shell completion script (`celltime completions bash > ~/.local/share/bash-completion/completions/celltime`).
    Completions(manual::CompletionsArgs),
    /// Print the manual page in roff (`celltime man | man -l -`).
    Man,
}

/// The workspace as a flag, for commands whose positional arguments are ids.
#[derive(Debug, Args, Clone)]
pub struct FlagWorkspaceArgs {
    /// A folder inside the workspace (the ids come first, so the workspace is a flag here);
    /// default: here.
    #[arg(short = 'C', long = "workspace", value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// How long to wait for another process's lock on a notebook before giving up (exit 75).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = value::<Span>)]
    pub lock_timeout: Span,
    /// marimo's cache folder when it is not __marimo__/cache (a `save_path`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl FlagWorkspaceArgs {
    pub fn workspace_args(&self) -> WorkspaceArgs {
        WorkspaceArgs {
            path: self.path.clone(),
            lock_timeout: self.lock_timeout,
            cache_dir: self.cache_dir.clone(),
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct WorkspaceArgs {
    /// A folder inside the workspace; default: here.
    pub path: Option<PathBuf>,
    /// How long to wait for another process's lock on a notebook before giving up (exit 75).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = value::<Span>)]
    pub lock_timeout: Span,
    /// marimo's cache folder when it is not __marimo__/cache (a `save_path`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// The clap value parser of every duration, size and count flag: the one grammar of
/// [`celltime_store::units`].
pub fn value<T: std::str::FromStr<Err = celltime_store::units::ValueError>>(
    text: &str,
) -> Result<T, celltime_store::units::ValueError> {
    text.parse()
}

impl WorkspaceArgs {
    /// The workspace around `path` (default: here), with the default lock timeout.
    pub fn at(path: Option<PathBuf>) -> WorkspaceArgs {
        WorkspaceArgs {
            path,
            lock_timeout: "10s".parse().expect("a valid duration"),
            cache_dir: None,
        }
    }

    pub fn workspace(&self) -> Result<Workspace, CliError> {
        let start = self.path.clone().unwrap_or_else(|| PathBuf::from("."));
        if !start.exists() {
            return Err(CliError::failure(format!(
                "{}: does not exist",
                start.display()
            )));
        }
        Ok(Workspace::discover(&start)?)
    }

    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            lock_timeout: self.lock_timeout.to_duration(),
            ..StoreOptions::default()
        }
    }

    /// The history a command works on: the store if `__marimo__/persist` exists, marimo's
    /// cache folder if `__marimo__/cache` (or `--cache-dir`) exists, both together when both do.
    pub fn history(&self) -> Result<Box<dyn History>, CliError> {
        self.history_of(None)
    }

    /// The history limited to one backend (`--backend`), or both.
    pub fn history_of(&self, backend: Option<Backend>) -> Result<Box<dyn History>, CliError> {
        Ok(celltime_store::workspace::open_history(
            &self.workspace()?,
            self.cache_dir.as_deref(),
            self.store_options(),
            backend.map(Backend::kind),
        )?)
    }

    /// The workspace's operation log.
    pub fn oplog(&self) -> Result<OpLog, CliError> {
        Ok(OpLog::at(&self.workspace()?))
    }

    pub fn store(&self) -> Result<Store, CliError> {
        Ok(Store::open_with(&self.workspace()?, self.store_options())?)
    }
}

/// An error to print, with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            code: exit::USAGE,
            message: message.into(),
        }
    }

    pub fn failure(message: impl Into<String>) -> CliError {
        CliError {
            code: exit::FAILURE,
            message: message.into(),
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> CliError {
        let code = match e {
            StoreError::Busy { .. } => exit::BUSY,
            StoreError::Key(_) | StoreError::UnknownEntry(_) => exit::USAGE,
            _ => exit::FAILURE,
        };
        CliError {
            code,
            message: e.to_string(),
        }
    }
}

impl From<celltime_store::model::HistoryError> for CliError {
    fn from(e: celltime_store::model::HistoryError) -> CliError {
        CliError {
            code: if e.busy { exit::BUSY } else { exit::FAILURE },
            message: e.message,
        }
    }
}

impl From<celltime_store::model::ResolveError> for CliError {
    fn from(e: celltime_store::model::ResolveError) -> CliError {
        match e {
            celltime_store::model::ResolveError::History(e) => e.into(),
            e => CliError::usage(e.to_string()),
        }
    }
}

impl From<celltime_store::legacy::LegacyError> for CliError {
    fn from(e: celltime_store::legacy::LegacyError) -> CliError {
        match e {
            celltime_store::legacy::LegacyError::Store(e) => e.into(),
            e => CliError::failure(e.to_string()),
        }
    }
}

impl From<celltime_store::workspace::OpenError> for CliError {
    fn from(e: celltime_store::workspace::OpenError) -> CliError {
        match e {
            celltime_store::workspace::OpenError::Store(e) => e.into(),
            celltime_store::workspace::OpenError::Legacy(e) => e.into(),
            e @ celltime_store::workspace::OpenError::NoStore(_) => {
                CliError::failure(e.to_string())
            }
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError::failure(e.to_string())
    }
}

pub type CliResult = Result<u8, CliError>;

/// Notebooks a command could not read or change: each is reported as it happens, the others
/// go on (one damaged folder fails only itself), and the command ends with the exit code of
/// the first failure.
#[derive(Debug, Default)]
pub struct Skipped {
    code: Option<u8>,
}

impl Skipped {
    pub fn report(&mut self, e: impl Into<CliError>) {
        let e = e.into();
        warn(&e.message);
        self.code.get_or_insert(e.code);
    }

    pub fn any(&self) -> bool {
        self.code.is_some()
    }

    /// `ok` when nothing was skipped, else the first failure's code.
    pub fn exit_code(&self, ok: u8) -> u8 {
        self.code.unwrap_or(ok)
    }
}

/// The one entry whose id starts with `prefix`, in any notebook (see
/// [`celltime_store::model::resolve`]).
pub fn resolve(history: &dyn History, prefix: &str) -> Result<(Timeline, usize), CliError> {
    celltime_store::model::resolve(history, prefix).map_err(|e| {
        let mut e = CliError::from(e);
        if std::path::Path::new(prefix).is_dir() {
            // `diff ID DIR` reads DIR as a base id: the workspace is a flag there.
            e.message.push_str(&format!(
                " ({prefix} is a folder: name the workspace with -C {prefix})"
            ));
        }
        e
    })
}

/// Writes text for people to stdout. Every character of it passes the one terminal-unsafe
/// predicate (names, paths and messages come from the workspace): newlines and tabs stay,
/// the rest is shown escaped. A closed pipe (`celltime ls | head`) ends quietly.
pub fn out(text: &str) -> Result<(), CliError> {
    write_stdout(celltime_text::escape_text(text).as_bytes())
}

/// Writes a message for people to stderr, escaped as [`out`] escapes.
pub fn warn(text: &str) {
    eprintln!("celltime: {}", celltime_text::escape_text(text));
}

/// Writes bytes to stdout unchanged (`show --raw`, escaped JSON).
pub fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Asks a yes/no question on the terminal; without a terminal the answer is no, and the
/// caller's `--yes` is the way to say yes.
pub fn confirm(question: &str, yes_flag: &str) -> Result<bool, CliError> {
    use std::io::{BufRead, IsTerminal};
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(format!(
            "{question} — stdin is not a terminal: pass {yes_flag} to go ahead"
        )));
    }
    eprint!("{} [y/N] ", celltime_text::escape_text(question));
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub fn run(cli: Cli) -> ExitCode {
    cli.output.apply();
    let result = match ui_args_without_ui(&cli) {
        Some(error) => Err(error),
        None => dispatch(cli),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            warn(&e.message);
            ExitCode::from(e.code)
        }
    }
}

/// The UI's options (and its PATH) mean nothing to a command other than `demo`: refused
/// rather than ignored. (Global options such as --color go anywhere.)
fn ui_args_without_ui(cli: &Cli) -> Option<CliError> {
    let command = cli.command.as_ref()?;
    let ui = &cli.ui;
    let ui_given =
        ui.no_mouse || ui.config.is_some() || ui.cache_dir.is_some() || ui.backend.is_some();
    let path_given = cli.path.is_some();
    let demo = matches!(command, Command::Demo(_));
    ((ui_given && !demo) || path_given).then(|| {
        CliError::usage(
            "PATH and the UI's options (--no-mouse, --config, --cache-dir, --backend) go without a command, or after it where it takes them (`celltime ls PATH`)",
        )
    })
}

fn dispatch(cli: Cli) -> CliResult {
    match cli.command {
        None => cli.ui.open(cli.path),
        Some(Command::Demo(args)) => demo::run(args, &cli.ui),
        Some(Command::Ls(args)) => ls::ls(args),
        Some(Command::Show(args)) => show::show(args),
        Some(Command::Diff(args)) => diff::diff(args),
        Some(Command::Put(args)) => put::run(*args),
        Some(Command::Prune(args)) => prune::run(*args),
        Some(Command::Pin(args)) => maintenance::pin(args, true),
        Some(Command::Unpin(args)) => maintenance::pin(args, false),
        Some(Command::Consolidate(args)) => maintenance::consolidate(args),
        Some(Command::Verify(args)) => maintenance::verify(args),
        Some(Command::Gc(args)) => maintenance::gc(args),
        Some(Command::Trash(args)) => trash::run(args),
        Some(Command::Import(args)) => import::run(args),
        Some(Command::Op(command)) => op::run(command),
        Some(Command::Undo(args)) => op::undo(args),
        Some(Command::Serve(args)) => serve::run(args),
        Some(Command::Marimo(args)) => marimo::run(args),
        Some(Command::Completions(args)) => manual::completions(args),
        Some(Command::Man) => manual::man(),
    }
}

#[cfg(test)]
mod tests {
    /// clap checks its own consistency rules (positional order, conflicts) here, not at runtime.
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
