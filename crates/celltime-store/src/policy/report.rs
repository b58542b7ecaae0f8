//! The dry-run report: restic-style text for people, versioned JSON for programs
//! (`celltime.prune.v2`, docs/JSON.md and docs/PRUNE.md). The planner knows entries by index only; the caller names them.

use std::collections::BTreeMap;
use std::fmt::{Display, Write as _};
use std::io::{self, Write};

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

use super::keep::KeepReason;
use super::plan::{Budget, BudgetStatus, GroupPlan, Plan, Totals};
use super::rules::Policy;
use super::{Candidate, PlanInput};
use crate::model::Timestamp;
use crate::units::{Size, human_bytes, plural};

/// The document's kind and version in celltime's JSON family (docs/JSON.md); the version is
/// bumped on any change a JSON consumer could notice. 2: kept entries are summarised per group
/// unless asked for (`verbose`).
pub const SCHEMA: &str = "celltime.prune.v2";

/// How the caller wants an entry shown: its display id (a short hash, a file name) and the
/// size to print (for example [`PlanInput::entry_size`], or bytes on disk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryLabel {
    pub id: String,
    pub size: u64,
}

/// Everything a report of one plan is drawn from.
pub struct ReportContext<'r, 'a, Tz: TimeZone> {
    pub input: &'r PlanInput<'a>,
    pub policy: &'r Policy,
    pub plan: &'r Plan,
    /// The zone the calendar buckets used; times are printed in it.
    pub tz: &'r Tz,
    /// Its name for the header and the JSON (`Europe/Berlin`): chrono zones carry none.
    pub tz_name: &'r str,
}

/// What a report looks like: text for people, or the versioned JSON document of
/// docs/PRUNE.md (`verbose` lists every kept entry instead of a summary per group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json { dry_run: bool, verbose: bool },
}

/// Writes a report while plans come in — one plan for everything, or one per notebook when
/// the policy lets notebooks be planned apart — holding only the group being written: the
/// header, every group of every plan, then the summary of them all.
pub struct ReportWriter<'r, Tz: TimeZone> {
    policy: &'r Policy,
    tz: &'r Tz,
    tz_name: &'r str,
    now: DateTime<Utc>,
    format: ReportFormat,
    totals: Totals,
    groups_touched: usize,
    budget: BudgetStatus,
    groups_written: usize,
}

#[derive(Serialize)]
struct JsonGroup<'g> {
    notebook: &'g Option<String>,
    cell: &'g Option<String>,
    kept: KeptSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep: Option<Vec<JsonKept>>,
    remove: Vec<JsonRemoved>,
}

/// The kept entries of a group in a few numbers: how many, their size, and how many were
/// kept for each reason.
#[derive(Serialize)]
struct KeptSummary {
    entries: usize,
    bytes: u64,
    reasons: BTreeMap<String, usize>,
}

#[derive(Serialize)]
struct JsonKept {
    id: String,
    created_at: String,
    last_used_at: String,
    size: u64,
    reasons: Vec<KeepReason>,
}

#[derive(Serialize)]
struct JsonRemoved {
    id: String,
    created_at: String,
    last_used_at: String,
    size: u64,
    removed_by: Option<Budget>,
}

/// RFC 3339 UTC with milliseconds, as every celltime document writes times (through
/// [`Timestamp`], which writes them without chrono's formatting machinery: a report of
/// 100,000 removals writes 200,000 of them).
fn rfc3339(t: DateTime<Utc>) -> String {
    Timestamp(t.timestamp_millis()).to_rfc3339()
}

fn json_line(value: &impl Serialize) -> io::Result<String> {
    serde_json::to_string(value).map_err(io::Error::other)
}

impl<'r, Tz: TimeZone> ReportWriter<'r, Tz>
where
    Tz::Offset: Display,
{
    pub fn new(
        policy: &'r Policy,
        tz: &'r Tz,
        tz_name: &'r str,
        now: DateTime<Utc>,
        format: ReportFormat,
    ) -> ReportWriter<'r, Tz> {
        ReportWriter {
            policy,
            tz,
            tz_name,
            now,
            format,
            totals: Totals::default(),
            groups_touched: 0,
            budget: BudgetStatus::default(),
            groups_written: 0,
        }
    }

    /// The header: the policy line, or the JSON document up to its `groups`.
    pub fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        match self.format {
            ReportFormat::Text => writeln!(
                out,
                "Policy: {} (time zone {}, now {})",
                self.policy,
                self.tz_name,
                self.local(self.now)
            ),
            ReportFormat::Json { dry_run, .. } => {
                writeln!(out, "{{")?;
                writeln!(out, "  \"schema\": \"{SCHEMA}\",")?;
                writeln!(out, "  \"now\": {},", json_line(&rfc3339(self.now))?)?;
                writeln!(out, "  \"time_zone\": {},", json_line(&self.tz_name)?)?;
                writeln!(out, "  \"dry_run\": {dry_run},")?;
                writeln!(out, "  \"policy\": {},", json_line(self.policy)?)?;
                let text = self.policy.to_text();
                writeln!(out, "  \"policy_text\": {},", json_line(&text)?)?;
                write!(out, "  \"groups\": [")
            }
        }
    }

    /// Every group of one plan; `label` names its entries.
    pub fn plan(
        &mut self,
        out: &mut dyn Write,
        input: &PlanInput<'_>,
        plan: &Plan,
        label: impl Fn(usize) -> EntryLabel,
    ) -> io::Result<()> {
        for group in &plan.groups {
            match self.format {
                ReportFormat::Text => {
                    writeln!(out)?;
                    self.group_text(out, input, group, &label)?;
                }
                ReportFormat::Json { verbose, .. } => {
                    let separator = if self.groups_written == 0 { "" } else { "," };
                    let group = json_group(input, group, &label, verbose);
                    write!(out, "{separator}\n    {}", json_line(&group)?)?;
                }
            }
            self.groups_written += 1;
        }
        let t = &plan.totals;
        let sum = &mut self.totals;
        sum.groups += t.groups;
        sum.entries_in_scope += t.entries_in_scope;
        sum.entries_kept += t.entries_kept;
        sum.entries_removed += t.entries_removed;
        sum.contents_freed += t.contents_freed;
        sum.bytes_freed += t.bytes_freed;
        sum.contents_shared_kept += t.contents_shared_kept;
        self.groups_touched += plan.groups.iter().filter(|g| !g.remove.is_empty()).count();
        // Budgets are planned over all notebooks at once: there is one plan when they count.
        self.budget = plan.budget;
        Ok(())
    }

    /// The summary of every plan written so far, or the rest of the JSON document.
    pub fn end(&self, out: &mut dyn Write) -> io::Result<()> {
        match self.format {
            ReportFormat::Text => {
                writeln!(out)?;
                out.write_all(self.summary().as_bytes())
            }
            ReportFormat::Json { .. } => {
                let close = if self.groups_written == 0 {
                    "]"
                } else {
                    "\n  ]"
                };
                writeln!(out, "{close},")?;
                writeln!(out, "  \"totals\": {},", json_line(&self.totals)?)?;
                writeln!(out, "  \"budget_met\": {},", self.budget.met())?;
                writeln!(out, "  \"budget\": {}", json_line(&self.budget)?)?;
                writeln!(out, "}}")
            }
        }
    }

    fn local(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(self.tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    fn group_text(
        &self,
        out: &mut dyn Write,
        input: &PlanInput<'_>,
        group: &GroupPlan,
        label: &impl Fn(usize) -> EntryLabel,
    ) -> io::Result<()> {
        let header = match (&group.notebook, &group.cell) {
            (Some(nb), Some(cell)) => format!("notebook {nb} · cell {cell}"),
            (Some(nb), None) => format!("notebook {nb}"),
            _ => "all notebooks".to_string(),
        };
        writeln!(out, "{header}")?;
        let kept: Vec<Row> = group
            .keep
            .iter()
            .map(|k| self.row(input, k.entry, label, join(&k.reasons)))
            .collect();
        let removed: Vec<Row> = group
            .remove
            .iter()
            .map(|r| {
                let by = r.by.map(|b| b.to_string()).unwrap_or_default();
                self.row(input, r.entry, label, by)
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
        let table = |out: &mut dyn Write, verb: &str, rows: &[Row], last_column: &str| {
            let noun = plural(rows.len(), "entry", "entries");
            if rows.is_empty() {
                return writeln!(out, "{verb} 0 entries");
            }
            writeln!(out, "{verb} {} {noun}:", rows.len())?;
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
                writeln!(out, "{}", line.trim_end())?;
            }
            Ok(())
        };
        table(out, "keep", &kept, "Reasons")?;
        let by_column = if self.policy.has_budgets() {
            "Removed by"
        } else {
            ""
        };
        table(out, "remove", &removed, by_column)
    }

    fn row(
        &self,
        input: &PlanInput<'_>,
        entry: usize,
        label: &impl Fn(usize) -> EntryLabel,
        last: String,
    ) -> Row {
        let EntryLabel { id, size } = label(entry);
        let e: &Candidate<'_> = &input.entries[entry];
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
        let t = &self.totals;
        let mut out = String::new();
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
                self.groups_touched,
                plural(self.groups_touched, "group", "groups"),
                t.entries_kept,
                t.contents_freed,
                plural(t.contents_freed, "content", "contents"),
                human_bytes(t.bytes_freed),
                t.contents_shared_kept,
                plural(t.contents_shared_kept, "content stays", "contents stay"),
            );
        }
        if let Some(f) = self.budget.max_size.filter(|f| !f.met()) {
            let _ = writeln!(
                out,
                "budget not met: protected entries total {}, over --max-size {} ({})",
                human_bytes(f.after),
                Size(f.limit),
                human_bytes(f.limit)
            );
        }
        if let Some(f) = self.budget.max_entries.filter(|f| !f.met()) {
            let _ = writeln!(
                out,
                "budget not met: {} protected entries, over --max-entries {}",
                f.after, f.limit
            );
        }
        out
    }
}

fn json_group<'g>(
    input: &PlanInput<'_>,
    group: &'g GroupPlan,
    label: &impl Fn(usize) -> EntryLabel,
    verbose: bool,
) -> JsonGroup<'g> {
    let entries = input.entries;
    let mut kept = KeptSummary {
        entries: group.keep.len(),
        bytes: 0,
        reasons: BTreeMap::new(),
    };
    for k in &group.keep {
        kept.bytes += label(k.entry).size;
        for reason in &k.reasons {
            *kept.reasons.entry(reason.to_string()).or_default() += 1;
        }
    }
    let keep = verbose.then(|| {
        group
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
            .collect()
    });
    let remove = group
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
        .collect();
    JsonGroup {
        notebook: &group.notebook,
        cell: &group.cell,
        kept,
        keep,
        remove,
    }
}

impl<Tz: TimeZone> ReportContext<'_, '_, Tz>
where
    Tz::Offset: Display,
{
    /// The whole report of this one plan, as text or JSON.
    pub fn render(&self, format: ReportFormat, label: impl Fn(usize) -> EntryLabel) -> String {
        let mut writer = self.writer(format);
        let mut out = Vec::new();
        // Writing into memory cannot fail.
        let _ = writer
            .begin(&mut out)
            .and_then(|()| writer.plan(&mut out, self.input, self.plan, label))
            .and_then(|()| writer.end(&mut out));
        String::from_utf8_lossy(&out).into_owned()
    }

    /// One block per group (keep table with reasons, remove table), then the summary.
    pub fn text(&self, label: impl Fn(usize) -> EntryLabel) -> String {
        self.render(ReportFormat::Text, label)
    }

    /// The closing lines of the text.
    pub fn summary(&self) -> String {
        let mut writer = self.writer(ReportFormat::Text);
        let _ = writer.plan(&mut io::sink(), self.input, self.plan, |_| EntryLabel {
            id: String::new(),
            size: 0,
        });
        writer.summary()
    }

    fn writer(&self, format: ReportFormat) -> ReportWriter<'_, Tz> {
        ReportWriter::new(self.policy, self.tz, self.tz_name, self.plan.now, format)
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;

    /// Times in reports read as chrono writes them: before 1970, with nanoseconds past the
    /// millisecond, and at the ends of the four-digit years.
    #[test]
    fn report_times_are_written_as_chrono_writes_them() {
        let times = [
            Utc.with_ymd_and_hms(2026, 11, 21, 0, 52, 48).unwrap(),
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        ];
        for time in times {
            for nanos in [0, 1, 999_999, 1_000_000, 123_456_789, 999_999_999] {
                let t = time + chrono::Duration::nanoseconds(nanos);
                assert_eq!(rfc3339(t), t.to_rfc3339_opts(SecondsFormat::Millis, true));
            }
        }
    }
}
