//! "Mark by policy": the loaded notebooks as planner input, the plan back as marks and keep
//! reasons. The same planner as `celltime prune`, so the TUI marks what prune would remove.

use super::data::NotebookView;
use celltime_store::model::{EntryId, Timestamp, Zone};
use celltime_store::policy::{self, Policy, TimelineInput};
use std::sync::Arc;

/// What a policy would do: entries to mark, and why each kept entry stays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyMarks {
    /// (notebook, entry) to remove.
    pub remove: Vec<(String, EntryId)>,
    pub keep: Vec<(EntryId, String)>,
}

/// Plans over every loaded notebook: out-of-scope entries still keep shared contents alive.
pub fn plan(
    views: &[Arc<NotebookView>],
    policy: &Policy,
    now: Timestamp,
    tz: &Zone,
) -> Result<PolicyMarks, String> {
    let input = TimelineInput::new(views.iter().map(|v| &v.timeline));
    let candidates = input.candidates();
    let plan = policy::plan(
        &input.plan_input(&candidates),
        policy,
        now.to_datetime(),
        tz,
    )
    .map_err(|e| e.to_string())?;
    let remove = plan
        .removed()
        .into_iter()
        .map(|i| {
            let (notebook, row) = input.row(i);
            (notebook.to_string(), row.id)
        })
        .collect();
    let keep = plan
        .groups
        .iter()
        .flat_map(|g| &g.keep)
        .map(|k| {
            let reasons: Vec<String> = k.reasons.iter().map(|r| r.to_string()).collect();
            (input.row(k.entry).1.id, reasons.join(", "))
        })
        .collect();
    Ok(PolicyMarks { remove, keep })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::data::tests::{row, view};

    #[test]
    fn keep_last_marks_the_older_runs_and_explains_the_kept_ones() {
        let v = Arc::new(view(
            vec![
                row("a", "m", "0", 1_000, &[0]),
                row("a", "m", "0", 2_000, &[1]),
                row("a", "m", "0", 3_000, &[2]),
                row("b", "m", "0", 4_000, &[3]),
            ],
            4,
        ));
        let policy = crate::cli::policy_args::policy_from_text("--keep-last 1").unwrap();
        let utc = Zone::Fixed(chrono::FixedOffset::east_opt(0).unwrap());
        let marks = plan(std::slice::from_ref(&v), &policy, Timestamp(10_000), &utc).unwrap();
        let removed: Vec<i64> = marks
            .remove
            .iter()
            .map(|(_, id)| v.row(*id).unwrap().created_at.0)
            .collect();
        assert_eq!(removed, vec![1_000, 2_000]);
        assert_eq!(marks.keep.len(), 2);
        assert!(
            marks.keep.iter().all(|(_, why)| why.contains("last")),
            "{:?}",
            marks.keep
        );
    }
}
