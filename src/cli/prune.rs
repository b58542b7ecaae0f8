//! `prune`: plan with a retention policy, show why each entry stays, then remove the rest
//! through the backend. `--dry-run` is the same code path, stopped before the first write.

use super::format::{count, size};
use super::output::progress;
use super::policy_args::{PolicyArgs, policy_from_args};
use super::{
    Backend, CliError, CliResult, Skipped, WorkspaceArgs, command_line, confirm, exit, out,
};
use celltime_store::model::{
    Applied, EntryId, History, HistoryError, Journal, Removal, Timeline, Zone,
};
use celltime_store::ops::{self, Lazy, OpKind, OpLog};
use celltime_store::policy::{
    EntryLabel, Plan, PlanInput, Policy, PolicyError, ReportFormat, ReportWriter, TimelineInput,
    plan,
};
use celltime_store::store::Config;
use chrono::{DateTime, Utc};
use clap::Args;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{IsTerminal, Write};

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Only runs of one backend (default: both; a run held by both is one run, and pruning it
    /// removes both copies).
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// Print the plan and change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Machine-readable plan (schema celltime.prune.v2, docs/JSON.md and docs/PRUNE.md): what
    /// is removed, and per group a summary of what is kept.
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
                let mut error = CliError::from(PolicyError::Empty);
                error.message.push_str(
                    " (give keep rules or budgets, or save a default policy once with `celltime prune --keep-last 5 --save-default`)",
                );
                return Err(error);
            };
            let mut policy = Policy::from_toml(table)
                .map_err(|e| CliError::usage(format!("{}: {e}", config.path().display())))?;
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

/// Every notebook's timeline, as the plan's re-check sees them, and the notebooks that could
/// not be read (the policy applies to the rest).
fn load_timelines(history: &dyn History) -> Result<(Vec<Timeline>, Vec<HistoryError>), CliError> {
    let mut timelines = Vec::new();
    let mut unreadable = Vec::new();
    for info in history.notebooks()? {
        match readable(history.timeline(&info.notebook))? {
            Ok(timeline) => timelines.push(timeline),
            Err(e) => unreadable.push(e),
        }
    }
    Ok((timelines, unreadable))
}

/// A notebook's timeline, or why it cannot be read; a busy notebook stops the command.
fn readable(
    timeline: Result<Timeline, HistoryError>,
) -> Result<Result<Timeline, HistoryError>, CliError> {
    match timeline {
        Err(e) if e.busy => Err(e.into()),
        other => Ok(other),
    }
}

/// The runs a policy removes, by notebook.
fn removals<'t>(
    timelines: impl IntoIterator<Item = &'t Timeline>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, Vec<EntryId>>, PolicyError> {
    let input = TimelineInput::new(timelines);
    let candidates = input.candidates();
    let plan = plan(&input.plan_input(&candidates), policy, now, &Zone::Local)?;
    let mut by_notebook: BTreeMap<String, Vec<EntryId>> = BTreeMap::new();
    for entry in plan.removed() {
        let (notebook, row) = input.row(entry);
        by_notebook
            .entry(notebook.to_string())
            .or_default()
            .push(row.id);
    }
    Ok(by_notebook)
}

pub fn run(args: PruneArgs) -> CliResult {
    let mut config = args.workspace.store()?.config().clone();
    if args.save_default {
        return save_default(&args.policy, &mut config);
    }
    let policy = choose_policy(&args.policy, &config)?;
    let history = args.workspace.history_of(args.backend)?;
    let all: Vec<String> = history
        .notebooks()?
        .into_iter()
        .map(|n| n.notebook)
        .collect();
    let mut notebooks: Vec<String> = all
        .iter()
        .filter(|n| policy.takes_notebook(n))
        .cloned()
        .collect();
    if notebooks.is_empty() && !policy.notebook.is_empty() {
        super::warn(&format!(
            "no notebook matches --notebook {}; nothing to prune (notebooks: {})",
            policy.notebook.join(" --notebook "),
            all.join(", ")
        ));
        return Ok(exit::OK);
    }
    // Plans list their groups by notebook: so must the plans of each notebook.
    notebooks.sort();
    let tz_name = Zone::Local.name();
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
    // A notebook that cannot be read is reported and left alone; the policy applies to the rest.
    let mut skipped = Skipped::default();
    let planned = plan_all(
        history.as_ref(),
        &notebooks,
        &policy,
        now,
        &mut reports,
        !args.dry_run,
        &mut skipped,
    )?;
    if args.dry_run || planned.removed == 0 {
        reports[0].finish()?;
        return Ok(skipped.exit_code(exit_code(planned.budget_met)));
    }
    if asking && !ask(reports.last().expect("a text report"), planned.removed)? {
        out("nothing removed\n")?;
        return Ok(skipped.exit_code(exit::OK));
    }
    let fresh = Fresh {
        timelines: &planned.timelines,
        policy: &policy,
        now,
        planned: &planned.by_notebook,
    };
    // A first look without the lock, so a plan that no longer holds changes nothing at all;
    // each notebook is checked again under its lock right before its removal.
    fresh.check_all(&load_timelines(history.as_ref())?.0)?;
    let oplog = args.workspace.oplog()?;
    let recorder = Lazy::new(&oplog, OpKind::Prune, &command_line());
    let bar = progress(planned.removed as u64, "prune");
    let outcome = apply(history.as_ref(), &oplog, &recorder, &fresh, &bar);
    bar.finish_and_clear();
    reports[0].finish()?;
    let applied = match outcome {
        Ok(applied) => applied,
        Err(e) => {
            recorder.finish(&format!("failed: {}", e.message), false)?;
            return Err(e);
        }
    };
    let summary = closing_message(&applied, &config, &recorder.op_id());
    recorder.finish(summary.lines().next().unwrap_or_default(), true)?;
    if !args.json {
        out(&summary)?;
    }
    Ok(skipped.exit_code(exit_code(planned.budget_met)))
}

/// What the plans decided, kept for applying them: the ids to remove, by notebook, and (for a
/// real run, to check the plan again before applying it) the timelines planned on.
struct Planned {
    by_notebook: BTreeMap<String, Vec<EntryId>>,
    timelines: Vec<Timeline>,
    removed: usize,
    budget_met: bool,
}

/// Plans notebook by notebook when the policy allows it (see
/// `Policy::plans_notebooks_apart`), holding one notebook at a time unless `keep` asks for
/// the timelines; else all at once. Every report is written as each plan comes.
fn plan_all(
    history: &dyn History,
    notebooks: &[String],
    policy: &Policy,
    now: DateTime<Utc>,
    reports: &mut [Report<'_>],
    keep: bool,
    skipped: &mut Skipped,
) -> Result<Planned, CliError> {
    let mut planned = Planned {
        by_notebook: BTreeMap::new(),
        timelines: Vec::new(),
        removed: 0,
        budget_met: true,
    };
    for report in reports.iter_mut() {
        report.begin()?;
    }
    let mut load = |notebook: &str| -> Result<Option<Timeline>, CliError> {
        Ok(match readable(history.timeline(notebook))? {
            Ok(timeline) => Some(timeline),
            Err(e) => {
                skipped.report(e);
                None
            }
        })
    };
    if policy.plans_notebooks_apart() {
        for notebook in notebooks {
            let Some(timeline) = load(notebook)? else {
                continue;
            };
            plan_timelines(&[&timeline], policy, now, reports, &mut planned)?;
            if keep {
                planned.timelines.push(timeline);
            }
        }
    } else {
        let mut timelines: Vec<Timeline> = Vec::new();
        for notebook in notebooks {
            timelines.extend(load(notebook)?);
        }
        let all: Vec<&Timeline> = timelines.iter().collect();
        plan_timelines(&all, policy, now, reports, &mut planned)?;
        if keep {
            planned.timelines = timelines;
        }
    }
    Ok(planned)
}

fn plan_timelines(
    timelines: &[&Timeline],
    policy: &Policy,
    now: DateTime<Utc>,
    reports: &mut [Report<'_>],
    planned: &mut Planned,
) -> Result<(), CliError> {
    let input = TimelineInput::new(timelines.iter().copied());
    let candidates = input.candidates();
    let plan_input = input.plan_input(&candidates);
    let plan = plan(&plan_input, policy, now, &Zone::Local)?;
    // People read short ids; programs get the full ones (docs/JSON.md).
    let label = |entry: usize, full: bool| {
        let (_, row) = input.row(entry);
        EntryLabel {
            id: if full {
                row.id.to_hex()
            } else {
                row.id.short()
            },
            size: row.size,
        }
    };
    for report in reports.iter_mut() {
        let full = report.json;
        report.plan(&plan_input, &plan, |entry| label(entry, full))?;
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
    writer: ReportWriter<'r, Zone>,
    sink: Sink,
    json: bool,
}

enum Sink {
    Terminal(Escaped<std::io::BufWriter<std::io::Stdout>>),
    Memory(Vec<u8>),
}

/// The terminal end of a report as it is written: every piece passes the terminal-unsafe
/// predicate as [`out`] (text) or `json::write` (JSON) passes it. The report writes whole
/// strings, so each piece is text on its own.
struct Escaped<W> {
    inner: W,
    json: bool,
}

impl<W: Write> Write for Escaped<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let escaped = match self.json {
            true => celltime_text::escape_json(text),
            false => celltime_text::escape_text(text),
        };
        self.inner.write_all(escaped.as_bytes())?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
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
        now: DateTime<Utc>,
        tz_name: &'r str,
        format: ReportFormat,
        to_terminal: bool,
    ) -> Report<'r> {
        let json = matches!(format, ReportFormat::Json { .. });
        Report {
            writer: ReportWriter::new(policy, &Zone::Local, tz_name, now, format),
            sink: match to_terminal {
                true => Sink::Terminal(Escaped {
                    inner: std::io::BufWriter::new(std::io::stdout()),
                    json,
                }),
                false => Sink::Memory(Vec::new()),
            },
            json,
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
            Sink::Memory(_) if self.json => super::json::write(&self.text()),
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

/// What one apply did across notebooks.
#[derive(Default)]
struct Outcome {
    removed: usize,
    /// Bytes only removed runs referenced, of which `cache` in marimo's cache trash.
    unreferenced: u64,
    cache: u64,
    freed_now: u64,
}

/// Says what was removed, how to undo it, and which command really frees the space.
fn closing_message(o: &Outcome, config: &Config, op: &str) -> String {
    let short = &op[..ops::SHORT_OP_LEN];
    let mut text = format!(
        "removed {} (operation {short}; `celltime undo` puts them back)",
        count(o.removed, "run", "runs")
    );
    if o.freed_now > 0 {
        text.push_str(&format!(
            "; freed {} of older removals now",
            size(o.freed_now)
        ));
    }
    text.push('\n');
    let store = o.unreferenced.saturating_sub(o.cache);
    if store > 0 {
        text.push_str(&format!(
            "{} of the store's contents stay for undo until this operation is older than gc_grace ({}); then `celltime gc` frees them\n",
            size(store),
            celltime_store::units::duration_text(config.gc_grace)
        ));
    }
    if o.cache > 0 {
        text.push_str(&format!(
            "{} moved to marimo's cache trash; `celltime trash --empty` frees it now (the prune can then no longer be undone)\n",
            size(o.cache)
        ));
    }
    text
}

/// What the plan relied on, to check it again right before applying.
struct Fresh<'a> {
    timelines: &'a [Timeline],
    policy: &'a Policy,
    now: DateTime<Utc>,
    planned: &'a BTreeMap<String, Vec<EntryId>>,
}

impl Fresh<'_> {
    /// Plans again on `current` (every notebook as it is now) and refuses if the removals
    /// differ anywhere.
    fn check_all(&self, current: &[Timeline]) -> Result<(), CliError> {
        for timeline in current {
            self.check(timeline).map_err(stale)?;
        }
        for notebook in self.planned.keys() {
            if !current.iter().any(|t| &t.notebook == notebook) {
                return Err(stale(format!("notebook {notebook} is gone")));
            }
        }
        Ok(())
    }

    /// Plans again with `fresh` in place of its notebook's timeline; the notebook's removals
    /// must be exactly the planned ones.
    fn check(&self, fresh: &Timeline) -> Result<(), String> {
        // A notebook planned apart is planned again alone.
        let apart = self.policy.plans_notebooks_apart();
        let others = self
            .timelines
            .iter()
            .filter(|t| !apart && t.notebook != fresh.notebook);
        let now_removed =
            removals(others.chain([fresh]), self.policy, self.now).map_err(|e| e.to_string())?;
        let empty = Vec::new();
        let planned = self.planned.get(&fresh.notebook).unwrap_or(&empty);
        let now = now_removed.get(&fresh.notebook).unwrap_or(&empty);
        if planned.iter().collect::<BTreeSet<_>>() == now.iter().collect::<BTreeSet<_>>() {
            return Ok(());
        }
        let before = self.timelines.iter().find(|t| t.notebook == fresh.notebook);
        Err(what_changed(&fresh.notebook, planned, now, before, fresh))
    }
}

/// Names what changed between the plan and now.
fn what_changed(
    notebook: &str,
    planned: &[EntryId],
    now: &[EntryId],
    before: Option<&Timeline>,
    fresh: &Timeline,
) -> String {
    let present: HashSet<EntryId> = fresh.rows.iter().map(|r| r.id).collect();
    let pinned: HashSet<EntryId> = fresh
        .rows
        .iter()
        .filter(|r| r.pinned)
        .map(|r| r.id)
        .collect();
    let known: HashSet<EntryId> = before
        .map(|t| t.rows.iter().map(|r| r.id).collect())
        .unwrap_or_default();
    let short = |ids: Vec<&EntryId>| ids.iter().map(|i| i.short()).collect::<Vec<_>>().join(", ");
    let mut what = Vec::new();
    let gone: Vec<&EntryId> = planned.iter().filter(|i| !present.contains(i)).collect();
    if !gone.is_empty() {
        what.push(format!("removed by another process: {}", short(gone)));
    }
    let now_pinned: Vec<&EntryId> = planned.iter().filter(|i| pinned.contains(i)).collect();
    if !now_pinned.is_empty() {
        what.push(format!("pinned meanwhile: {}", short(now_pinned)));
    }
    let new: Vec<EntryId> = fresh
        .rows
        .iter()
        .map(|r| r.id)
        .filter(|i| !known.contains(i))
        .collect();
    if !new.is_empty() {
        what.push(format!("new runs: {}", short(new.iter().collect())));
    }
    let more: Vec<&EntryId> = now.iter().filter(|i| !planned.contains(i)).collect();
    if !more.is_empty() {
        what.push(format!("the policy now also removes {}", short(more)));
    }
    if what.is_empty() {
        what.push("the policy now keeps other runs".into());
    }
    format!(
        "notebook {notebook} changed since the plan was made ({}); nothing was removed — run prune again to see the new plan",
        what.join("; ")
    )
}

fn stale(message: String) -> CliError {
    CliError::failure(message)
}

/// Shows the plan and asks; refuses when nobody can answer.
fn ask(text: &Report<'_>, entries: usize) -> Result<bool, CliError> {
    if std::io::stdin().is_terminal() {
        out(&text.text())?;
    }
    confirm(
        &format!(
            "prune would remove {}. Remove {}?",
            count(entries, "entry", "entries"),
            super::format::plural(entries, "it", "them")
        ),
        "--yes",
    )
}

/// Removes notebook by notebook, each checked against the plan under its lock and recorded
/// in the operation; then frees what older removals left. If a later notebook no longer
/// matches the plan (or fails), the notebooks already pruned are put back: nothing is removed.
fn apply(
    history: &dyn History,
    oplog: &OpLog,
    recorder: &Lazy<'_>,
    fresh: &Fresh<'_>,
    bar: &indicatif::ProgressBar,
) -> Result<Outcome, CliError> {
    let mut outcome = Outcome::default();
    for (notebook, ids) in fresh.planned {
        bar.set_message(notebook.clone());
        let check = |timeline: &Timeline| fresh.check(timeline);
        let removal = Removal {
            notebook,
            ids,
            check: &check,
            journal: recorder as &dyn Journal,
        };
        let applied: Applied = match history.remove(&removal) {
            Ok(applied) if applied.failures.is_empty() => applied,
            Ok(applied) => {
                roll_back(history, oplog, recorder)?;
                return Err(CliError::failure(format!(
                    "{notebook}: {} ({} more); nothing was removed",
                    applied.failures[0],
                    count(applied.failures.len() - 1, "failure", "failures")
                )));
            }
            Err(e) => {
                roll_back(history, oplog, recorder)?;
                return Err(e.into());
            }
        };
        outcome.removed += applied.removed;
        outcome.unreferenced += applied.bytes;
        outcome.cache += applied.cache_bytes;
        bar.inc(ids.len() as u64);
    }
    for notebook in fresh.planned.keys() {
        outcome.freed_now += history.reclaim(notebook)?;
    }
    Ok(outcome)
}

/// Reverses what the operation changed so far.
fn roll_back(history: &dyn History, oplog: &OpLog, recorder: &Lazy<'_>) -> Result<(), CliError> {
    let Ok(op) = oplog.find(&recorder.op_id()) else {
        return Ok(()); // nothing was recorded, so nothing changed
    };
    if op.reversible() {
        ops::undo(history, oplog, &op, "celltime prune (rolling back)")?;
    }
    Ok(())
}

/// 0, or 3 when a budget could not be met (see docs/PRUNE.md).
fn exit_code(budget_met: bool) -> u8 {
    if budget_met {
        exit::OK
    } else {
        exit::BUDGET_NOT_MET
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use celltime_store::model::{Copies, PartMask, Row, Timestamp};
    use std::sync::Arc;

    fn row(cell: &str, t: i64) -> Row {
        Row {
            id: EntryId::of("nb", cell, "m", "0", Timestamp(t)),
            cell: Arc::from(cell),
            module: Arc::from("m"),
            version: Arc::from("0"),
            created_at: Timestamp(t),
            approximate_time: false,
            last_used: None,
            pinned: false,
            size: 10,
            parts: PartMask(1),
            contents: vec![t as u32],
            copies: Copies::STORE,
            code: None,
        }
    }

    fn timeline(rows: Vec<Row>) -> Timeline {
        Timeline {
            notebook: "nb".into(),
            content_sizes: vec![10; 10],
            rows,
        }
    }

    /// Plans `--keep-last 1` on three runs of one cell, and checks fresh timelines against it.
    fn check(fresh: Timeline) -> Result<(), String> {
        let planned_on = vec![timeline(vec![row("a", 1), row("a", 2), row("a", 3)])];
        let policy = crate::cli::policy_args::policy_from_text("--keep-last 1").unwrap();
        let now = DateTime::from_timestamp(1_000, 0).unwrap();
        let planned = removals(&planned_on, &policy, now).unwrap();
        assert_eq!(planned["nb"].len(), 2);
        let fresh_check = Fresh {
            timelines: &planned_on,
            policy: &policy,
            now,
            planned: &planned,
        };
        fresh_check.check(&fresh)
    }

    #[test]
    fn an_unchanged_notebook_passes_the_check() {
        check(timeline(vec![row("a", 1), row("a", 2), row("a", 3)])).unwrap();
    }

    #[test]
    fn a_pin_made_while_the_plan_waited_is_named() {
        let mut pinned = row("a", 1);
        pinned.pinned = true;
        let err = check(timeline(vec![pinned, row("a", 2), row("a", 3)])).unwrap_err();
        assert!(err.contains("pinned meanwhile"), "{err}");
        assert!(err.contains("nothing was removed"), "{err}");
    }

    #[test]
    fn a_new_run_in_a_counted_group_is_named() {
        let err = check(timeline(vec![
            row("a", 1),
            row("a", 2),
            row("a", 3),
            row("a", 4),
        ]))
        .unwrap_err();
        assert!(err.contains("new runs"), "{err}");
    }

    #[test]
    fn entries_removed_by_another_process_are_named() {
        let err = check(timeline(vec![row("a", 2), row("a", 3)])).unwrap_err();
        assert!(err.contains("removed by another process"), "{err}");
    }
}
