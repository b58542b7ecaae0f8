//! `prune`: plan with a retention policy, show why each entry stays, then remove the rest
//! through the backend. `--dry-run` is the same code path, stopped before the first write.

use super::format::size;
use super::policy_args::{PolicyArgs, policy_from_args};
use super::{CliError, CliResult, Skipped, WorkspaceArgs, confirm, exit, json, out};
use celltime_store::model::{EntryId, History, Timeline, Zone};
use celltime_store::policy::{
    EntryLabel, Plan, Policy, PolicyError, ReportContext, TimelineInput, plan,
};
use celltime_store::store::Config;
use chrono::Utc;
use clap::Args;
use std::collections::BTreeMap;
use std::io::IsTerminal;

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print the plan and change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Machine-readable plan (schema in docs/PRUNE.md).
    #[arg(long)]
    pub json: bool,
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

pub fn run(args: PruneArgs) -> CliResult {
    let mut config = args.workspace.store()?.config().clone();
    if args.save_default {
        return save_default(&args.policy, &mut config);
    }
    let policy = choose_policy(&args.policy, &config)?;
    let history = args.workspace.history()?;
    // A notebook that cannot be read is reported and left alone; the policy applies to the rest.
    let mut skipped = Skipped::default();
    let mut timelines: Vec<Timeline> = Vec::new();
    for info in history.notebooks()? {
        match history.timeline(&info.notebook) {
            Ok(timeline) => timelines.push(timeline),
            Err(e) => skipped.report(e),
        }
    }
    let input = TimelineInput::new(&timelines);
    let candidates = input.candidates();
    let plan_input = input.plan_input(&candidates);
    let plan = plan(&plan_input, &policy, Utc::now(), &Zone::Local)?;
    let tz_name = Zone::Local.name();
    let report = ReportContext {
        input: &plan_input,
        policy: &policy,
        plan: &plan,
        tz: &Zone::Local,
        tz_name: &tz_name,
    };
    let label = |entry: usize| {
        let (_, row) = input.row(entry);
        EntryLabel {
            id: row.id.short(),
            size: row.size,
        }
    };
    let removals = plan.removed();
    if args.dry_run || removals.is_empty() {
        print_report(&report, args.json, true, label)?;
        return Ok(skipped.exit_code(plan_exit_code(&plan)));
    }
    if !args.yes && !ask(&report, removals.len(), &label)? {
        out("nothing removed\n")?;
        return Ok(skipped.exit_code(exit::OK));
    }
    let mut by_notebook: BTreeMap<&str, Vec<EntryId>> = BTreeMap::new();
    for entry in removals {
        let (notebook, row) = input.row(entry);
        by_notebook.entry(notebook).or_default().push(row.id);
    }
    let outcome = apply(history.as_ref(), &by_notebook);
    print_report(&report, args.json, false, label)?;
    match outcome {
        Ok((removed, unreferenced, freed_now)) => {
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
            Ok(skipped.exit_code(plan_exit_code(&plan)))
        }
        Err(e) => Err(e),
    }
}

/// Shows the plan and asks; refuses when nobody can answer.
fn ask(
    report: &ReportContext<'_, '_, Zone>,
    count: usize,
    label: &impl Fn(usize) -> EntryLabel,
) -> Result<bool, CliError> {
    if std::io::stdin().is_terminal() {
        out(&report.text(label))?;
    }
    confirm(
        &format!("prune would remove {count} entries. Remove them?"),
        "--yes",
    )
}

fn print_report(
    report: &ReportContext<'_, '_, Zone>,
    as_json: bool,
    dry_run: bool,
    label: impl Fn(usize) -> EntryLabel,
) -> Result<(), CliError> {
    if as_json {
        json(&report.json(dry_run, label))
    } else {
        out(&report.text(label))
    }
}

/// Removes notebook by notebook, then frees the space; stops at the first failure, which
/// leaves every notebook before it pruned and the rest untouched. Returns the entries removed,
/// the bytes they alone referenced, and the bytes freed now.
fn apply(
    history: &dyn History,
    by_notebook: &BTreeMap<&str, Vec<EntryId>>,
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
fn plan_exit_code(plan: &Plan) -> u8 {
    if plan.budget_met() {
        exit::OK
    } else {
        exit::BUDGET_NOT_MET
    }
}
