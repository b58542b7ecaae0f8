//! The dry-run report: restic-style text for people, versioned JSON for programs
//! (schema in docs/PRUNE.md). The planner knows entries by index only; the caller names them.

use std::fmt::{Display, Write};

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::Serialize;

use super::keep::KeepReason;
use super::plan::{Budget, BudgetStatus, GroupPlan, Plan, Totals};
use super::rules::Policy;
use super::{Candidate, PlanInput};
use crate::units::{Size, human_bytes, plural};

/// The document's kind and version in celltime's JSON family (docs/JSON.md); the version is
/// bumped on any change a JSON consumer could notice.
pub const SCHEMA: &str = "celltime.prune.v1";

/// How the caller wants an entry shown: its display id (a short hash, a file name) and the
/// size to print (for example [`PlanInput::entry_size`], or bytes on disk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryLabel {
    pub id: String,
    pub size: u64,
}

/// Everything a report is drawn from.
pub struct ReportContext<'r, 'a, Tz: TimeZone> {
    pub input: &'r PlanInput<'a>,
    pub policy: &'r Policy,
    pub plan: &'r Plan,
    /// The zone the calendar buckets used; times are printed in it.
    pub tz: &'r Tz,
    /// Its name for the header and the JSON (`Europe/Berlin`): chrono zones carry none.
    pub tz_name: &'r str,
}

/// The `--json` document. Serialize it; the fields are the schema.
#[derive(Debug, Clone, Serialize)]
pub struct JsonReport {
    schema: &'static str,
    now: String,
    time_zone: String,
    dry_run: bool,
    policy: Policy,
    policy_text: String,
    groups: Vec<JsonGroup>,
    totals: Totals,
    budget_met: bool,
    budget: BudgetStatus,
}

#[derive(Debug, Clone, Serialize)]
struct JsonGroup {
    notebook: Option<String>,
    cell: Option<String>,
    keep: Vec<JsonKept>,
    remove: Vec<JsonRemoved>,
}

#[derive(Debug, Clone, Serialize)]
struct JsonKept {
    id: String,
    created_at: String,
    last_used_at: String,
    size: u64,
    reasons: Vec<KeepReason>,
}

#[derive(Debug, Clone, Serialize)]
struct JsonRemoved {
    id: String,
    created_at: String,
    last_used_at: String,
    size: u64,
    removed_by: Option<Budget>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl<Tz: TimeZone> ReportContext<'_, '_, Tz>
where
    Tz::Offset: Display,
{
    pub fn json(&self, dry_run: bool, label: impl Fn(usize) -> EntryLabel) -> JsonReport {
        let entries = self.input.entries;
        let groups = self
            .plan
            .groups
            .iter()
            .map(|g| JsonGroup {
                notebook: g.notebook.clone(),
                cell: g.cell.clone(),
                keep: g
                    .keep
                    .iter()
                    .map(|k| {
                        let (l, e) = (label(k.entry), &entries[k.entry]);
                        JsonKept {
                            id: l.id,
                            created_at: rfc3339(e.created_at),
                            last_used_at: rfc3339(e.last_used),
                            size: l.size,
                            reasons: k.reasons.clone(),
                        }
                    })
                    .collect(),
                remove: g
                    .remove
                    .iter()
                    .map(|r| {
                        let (l, e) = (label(r.entry), &entries[r.entry]);
                        JsonRemoved {
                            id: l.id,
                            created_at: rfc3339(e.created_at),
                            last_used_at: rfc3339(e.last_used),
                            size: l.size,
                            removed_by: r.by,
                        }
                    })
                    .collect(),
            })
            .collect();
        JsonReport {
            schema: SCHEMA,
            now: rfc3339(self.plan.now),
            time_zone: self.tz_name.to_string(),
            dry_run,
            policy: self.policy.clone(),
            policy_text: self.policy.to_text(),
            groups,
            totals: self.plan.totals,
            budget_met: self.plan.budget.met(),
            budget: self.plan.budget,
        }
    }

    /// One block per group (keep table with reasons, remove table), then the summary.
    /// (`writeln!` into a `String` cannot fail, hence the ignored results.)
    pub fn text(&self, label: impl Fn(usize) -> EntryLabel) -> String {
        let mut out = String::new();
        let now = self.local(self.plan.now);
        let _ = writeln!(
            out,
            "Policy: {} (time zone {}, now {now})",
            self.policy, self.tz_name
        );
        for group in &self.plan.groups {
            out.push('\n');
            self.group_text(&mut out, group, &label);
        }
        out.push('\n');
        out.push_str(&self.summary());
        out
    }

    fn local(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(self.tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    fn group_text(
        &self,
        out: &mut String,
        group: &GroupPlan,
        label: &impl Fn(usize) -> EntryLabel,
    ) {
        let header = match (&group.notebook, &group.cell) {
            (Some(nb), Some(cell)) => format!("notebook {nb} · cell {cell}"),
            (Some(nb), None) => format!("notebook {nb}"),
            _ => "all notebooks".to_string(),
        };
        let _ = writeln!(out, "{header}");
        let kept: Vec<Row> = group
            .keep
            .iter()
            .map(|k| self.row(k.entry, label, join(&k.reasons)))
            .collect();
        let removed: Vec<Row> = group
            .remove
            .iter()
            .map(|r| {
                self.row(
                    r.entry,
                    label,
                    r.by.map(|b| b.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        let id_width = kept
            .iter()
            .chain(&removed)
            .map(|r| r.id.chars().count())
            .max()
            .unwrap_or(0)
            .max(2);
        let size_width = kept
            .iter()
            .chain(&removed)
            .map(|r| r.size.chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        let table = |out: &mut String, verb: &str, rows: &[Row], last_column: &str| {
            let noun = plural(rows.len(), "entry", "entries");
            if rows.is_empty() {
                let _ = writeln!(out, "{verb} 0 entries");
                return;
            }
            let _ = writeln!(out, "{verb} {} {noun}:", rows.len());
            let header = Row {
                id: "ID".into(),
                created: "Created".into(),
                last_used: "Last used".into(),
                size: "Size".into(),
                last: last_column.into(),
            };
            for row in std::iter::once(&header).chain(rows) {
                let line = format!(
                    "  {:<id_width$}  {:<19}  {:<19}  {:>size_width$}  {}",
                    row.id, row.created, row.last_used, row.size, row.last
                );
                let _ = writeln!(out, "{}", line.trim_end());
            }
        };
        table(out, "keep", &kept, "Reasons");
        let by_column = if self.policy.has_budgets() {
            "Removed by"
        } else {
            ""
        };
        table(out, "remove", &removed, by_column);
    }

    fn row(&self, entry: usize, label: &impl Fn(usize) -> EntryLabel, last: String) -> Row {
        let EntryLabel { id, size } = label(entry);
        let e: &Candidate<'_> = &self.input.entries[entry];
        Row {
            id,
            created: self.local(e.created_at),
            last_used: self.local(e.last_used),
            size: human_bytes(size),
            last,
        }
    }

    /// The closing lines: what goes, what it frees, and any budget that could not be met.
    pub fn summary(&self) -> String {
        let t = &self.plan.totals;
        let mut out = String::new();
        let groups_touched = self
            .plan
            .groups
            .iter()
            .filter(|g| !g.remove.is_empty())
            .count();
        if t.entries_removed == 0 {
            let _ = writeln!(
                out,
                "Summary: nothing to remove; keep {} {} in {} {}.",
                t.entries_kept,
                plural(t.entries_kept, "entry", "entries"),
                t.groups,
                plural(t.groups, "group", "groups"),
            );
        } else {
            let _ = writeln!(
                out,
                "Summary: remove {} {} in {} {}, keep {}; free {} {} ({}); {} {} shared with kept entries.",
                t.entries_removed,
                plural(t.entries_removed, "entry", "entries"),
                groups_touched,
                plural(groups_touched, "group", "groups"),
                t.entries_kept,
                t.contents_freed,
                plural(t.contents_freed, "content", "contents"),
                human_bytes(t.bytes_freed),
                t.contents_shared_kept,
                plural(t.contents_shared_kept, "content stays", "contents stay"),
            );
        }
        if let Some(f) = self.plan.budget.max_size.filter(|f| !f.met()) {
            let _ = writeln!(
                out,
                "budget not met: protected entries total {}, over --max-size {} ({})",
                human_bytes(f.after),
                Size(f.limit),
                human_bytes(f.limit)
            );
        }
        if let Some(f) = self.plan.budget.max_entries.filter(|f| !f.met()) {
            let _ = writeln!(
                out,
                "budget not met: {} protected entries, over --max-entries {}",
                f.after, f.limit
            );
        }
        out
    }
}

struct Row {
    id: String,
    created: String,
    last_used: String,
    size: String,
    last: String,
}

fn join(reasons: &[KeepReason]) -> String {
    reasons
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
