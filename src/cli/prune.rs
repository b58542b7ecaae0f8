//! `prune`: plan with a retention policy, show why each entry stays, then remove the rest
//! through the backend. `--dry-run` is the same code path, stopped before the first write.

use super::format::size;
use super::policy_args::{PolicyArgs, policy_from_args};
use super::{CliError, CliResult, WorkspaceArgs, confirm, exit, out};
use celltime_store::model::{EntryId, History, Timeline};
use celltime_store::policy::{
    EntryLabel, Plan, PlanInput, Policy, PolicyError, ReportFormat, ReportWriter, TimelineInput,
    plan,
};
use celltime_store::store::Config;
use chrono::{Local, Utc};
use clap::Args;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print the plan and change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Machine-readable plan (schema in docs/PRUNE.md): what is removed, and per group a
    /// summary of what is kept.
    #[arg(long)]
    pub json: bool,
    /// With --json, also list every kept entry with its reasons.
    #[arg(short, long, requires = "json")]
    pub verbose: bool,
    /// Apply without asking; required when stdin is not a terminal.
    #[arg(short, long)]
    pub yes: bool,
    /// Save the given rules as the default policy ([prune] in persist.toml) instead of pruning.
    #[arg(long, conflicts_with_all = ["dry_run", "yes"])]
    pub save_default: bool,
}

impl From<PolicyError> for CliError {
    fn from(e: PolicyError) -> CliError {
        CliError {
            code: if e.is_usage() {
                exit::USAGE
            } else {
                exit::FAILURE
            },
            message: e.to_string(),
        }
    }
}

/// The policy of the command line, or `persist.toml`'s `[prune]` when the command line has
/// no rule (its scope flags still apply).
fn choose_policy(args: &PolicyArgs, config: &Config) -> Result<Policy, CliError> {
    match policy_from_args(args) {
        Err(PolicyError::Empty) => {
            let Some(table) = config.prune_table() else {
                return Err(PolicyError::Empty.into());
            };
            let mut policy = Policy::from_toml(table).map_err(|e| {
                CliError::usage(format!("{}: [prune] {e}", config.path().display()))
            })?;
            if !args.notebook.is_empty() {
                policy.notebook = args.notebook.clone();
            }
            if !args.cell.is_empty() {
                policy.cell = args.cell.clone();
            }
            if let Some(group_by) = args.group_by {
                policy.group_by = group_by;
            }
            policy.unsafe_allow_remove_all |= args.unsafe_allow_remove_all;
            Ok(policy.normalised()?)
        }
        other => Ok(other?),
    }
}

/// Writes the command line's rules into `[prune]`, keeping the file's comments.
fn save_default(args: &PolicyArgs, config: &mut Config) -> CliResult {
    let policy = policy_from_args(args)?;
    let path = config.path().display().to_string();
    let doc = config.document_mut();
    if !doc.contains_table("prune") {
        doc["prune"] = toml_edit::table();
    }
    let table = doc["prune"]
        .as_table_mut()
        .ok_or_else(|| CliError::usage(format!("{path}: prune is not a table")))?;
    policy.write_toml(table);
    let fs = celltime_store::store::fs::RealFs;
    config.save(&fs)?;
    out(&format!(
        "saved the default policy in {}: {}\n",
        config.path().display(),
        policy.to_text()
    ))?;
    Ok(exit::OK)
}

fn time_zone_name() -> String {
    std::env::var("TZ").unwrap_or_else(|_| "local time".to_string())
}

pub fn run(args: PruneArgs) -> CliResult {
    let mut config = args.workspace.store()?.config().clone();
    if args.save_default {
        return save_default(&args.policy, &mut config);
    }
    let policy = choose_policy(&args.policy, &config)?;
    let history = args.workspace.history()?;
    let tz_name = time_zone_name();
    let now = Utc::now();
    let format = if args.json {
        ReportFormat::Json {
            dry_run: args.dry_run,
            verbose: args.verbose,
        }
    } else {
        ReportFormat::Text
    };
    // A dry run prints the report while it plans; a real run keeps it until the removals
    // are done (and shows the text first when it asks).
    let asking = !args.dry_run && !args.yes;
    let mut reports = vec![Report::new(&policy, now, &tz_name, format, args.dry_run)];
    if asking && args.json {
        reports.push(Report::new(
            &policy,
            now,
            &tz_name,
            ReportFormat::Text,
            false,
        ));
    }
    let planned = plan_all(history.as_ref(), &policy, now, &mut reports)?;
    if args.dry_run || planned.removed == 0 {
        reports[0].finish()?;
        return Ok(exit_code(planned.budget_met));
    }
    if asking && !ask(reports.last().expect("a text report"), planned.removed)? {
        out("nothing removed\n")?;
        return Ok(exit::OK);
    }
    let outcome = apply(history.as_ref(), &planned.by_notebook);
    reports[0].finish()?;
    let (removed, unreferenced, freed_now) = outcome?;
    if !args.json {
        let pending = unreferenced.saturating_sub(freed_now);
        let later = if pending > 0 {
            format!(
                "; {} more once older than the grace period of persist.toml (`celltime gc` sweeps it)",
                size(pending)
            )
        } else {
            String::new()
        };
        out(&format!(
            "removed {removed} entries; freed {} now{later}\n",
            size(freed_now)
        ))?;
    }
    Ok(exit_code(planned.budget_met))
}

/// What the plans decided, kept for applying them: the ids to remove, by notebook.
struct Planned {
    by_notebook: BTreeMap<String, Vec<EntryId>>,
    removed: usize,
    budget_met: bool,
}

/// Plans notebook by notebook when the policy allows it (see
/// `Policy::plans_notebooks_apart`), holding one notebook at a time; else all at once. Every
/// report is written as each plan comes.
fn plan_all(
    history: &dyn History,
    policy: &Policy,
    now: chrono::DateTime<Utc>,
    reports: &mut [Report<'_>],
) -> Result<Planned, CliError> {
    let mut notebooks: Vec<String> = Vec::new();
    for info in history.notebooks()? {
        if policy.covers_notebook(&info.notebook)? {
            notebooks.push(info.notebook);
        }
    }
    // Plans list their groups by notebook: so must the plans of each notebook.
    notebooks.sort();
    let mut planned = Planned {
        by_notebook: BTreeMap::new(),
        removed: 0,
        budget_met: true,
    };
    for report in reports.iter_mut() {
        report.begin()?;
    }
    if policy.plans_notebooks_apart() {
        for notebook in &notebooks {
            let timeline = history.timeline(notebook)?;
            plan_timelines(&[&timeline], policy, now, reports, &mut planned)?;
        }
    } else {
        let timelines: Vec<Timeline> = notebooks
            .iter()
            .map(|n| history.timeline(n))
            .collect::<Result<_, _>>()?;
        let all: Vec<&Timeline> = timelines.iter().collect();
        plan_timelines(&all, policy, now, reports, &mut planned)?;
    }
    Ok(planned)
}

fn plan_timelines(
    timelines: &[&Timeline],
    policy: &Policy,
    now: chrono::DateTime<Utc>,
    reports: &mut [Report<'_>],
    planned: &mut Planned,
) -> Result<(), CliError> {
    let input = TimelineInput::new(timelines.iter().copied());
    let candidates = input.candidates();
    let plan_input = input.plan_input(&candidates);
    let plan = plan(&plan_input, policy, now, &Local)?;
    let label = |entry: usize| {
        let (_, row) = input.row(entry);
        EntryLabel {
            id: row.id.short(),
            size: row.size,
        }
    };
    for report in reports.iter_mut() {
        report.plan(&plan_input, &plan, label)?;
    }
    for entry in plan.removed() {
        let (notebook, row) = input.row(entry);
        planned
            .by_notebook
            .entry(notebook.to_string())
            .or_default()
            .push(row.id);
        planned.removed += 1;
    }
    planned.budget_met &= plan.budget_met();
    Ok(())
}

/// One report being written: straight to the terminal for a dry run, else into memory until
/// the removals are done.
struct Report<'r> {
    writer: ReportWriter<'r, Local>,
    sink: Sink,
}

enum Sink {
    Terminal(std::io::BufWriter<std::io::Stdout>),
    Memory(Vec<u8>),
}

impl Sink {
    fn write(&mut self) -> &mut dyn Write {
        match self {
            Sink::Terminal(terminal) => terminal,
            Sink::Memory(buffer) => buffer,
        }
    }
}

impl<'r> Report<'r> {
    fn new(
        policy: &'r Policy,
        now: chrono::DateTime<Utc>,
        tz_name: &'r str,
        format: ReportFormat,
        to_terminal: bool,
    ) -> Report<'r> {
        Report {
            writer: ReportWriter::new(policy, &Local, tz_name, now, format),
            sink: match to_terminal {
                true => Sink::Terminal(std::io::BufWriter::new(std::io::stdout())),
                false => Sink::Memory(Vec::new()),
            },
        }
    }

    fn begin(&mut self) -> Result<(), CliError> {
        printed(self.writer.begin(self.sink.write()))
    }

    fn plan(
        &mut self,
        input: &PlanInput<'_>,
        plan: &Plan,
        label: impl Fn(usize) -> EntryLabel,
    ) -> Result<(), CliError> {
        printed(self.writer.plan(self.sink.write(), input, plan, label))
    }

    /// The whole report as it stands, from memory.
    fn text(&self) -> String {
        let mut text = match &self.sink {
            Sink::Memory(buffer) => buffer.clone(),
            Sink::Terminal(_) => Vec::new(),
        };
        // Writing into memory cannot fail.
        let _ = self.writer.end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    }

    /// Ends the report and shows it.
    fn finish(&mut self) -> Result<(), CliError> {
        match &mut self.sink {
            Sink::Terminal(terminal) => {
                printed(self.writer.end(terminal).and_then(|()| terminal.flush()))
            }
            Sink::Memory(_) => out(&self.text()),
        }
    }
}

/// A report that cannot be written: a reader that went away (`| head`) is no error.
fn printed(result: std::io::Result<()>) -> Result<(), CliError> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Shows the plan and asks; refuses when nobody can answer.
fn ask(text: &Report<'_>, count: usize) -> Result<bool, CliError> {
    if std::io::stdin().is_terminal() {
        out(&text.text())?;
    }
    confirm(
        &format!("prune would remove {count} entries. Remove them?"),
        "--yes",
    )
}

/// Removes notebook by notebook, then frees the space; stops at the first failure, which
/// leaves every notebook before it pruned and the rest untouched. Returns the entries removed,
/// the bytes they alone referenced, and the bytes freed now.
fn apply(
    history: &dyn History,
    by_notebook: &BTreeMap<String, Vec<EntryId>>,
) -> Result<(usize, u64, u64), CliError> {
    let mut removed = 0;
    let mut unreferenced = 0;
    let mut freed = 0;
    for (notebook, ids) in by_notebook {
        let applied = history.remove(notebook, ids)?;
        if let Some(failure) = applied.failures.first() {
            return Err(CliError::failure(format!(
                "{notebook}: {failure} ({} more failures)",
                applied.failures.len() - 1
            )));
        }
        removed += applied.removed;
        unreferenced += applied.bytes;
        freed += history.reclaim(notebook)?;
    }
    Ok((removed, unreferenced, freed))
}

/// 0, or 3 when a budget could not be met (see docs/PRUNE.md).
fn exit_code(budget_met: bool) -> u8 {
    if budget_met {
        exit::OK
    } else {
        exit::BUDGET_NOT_MET
    }
}
