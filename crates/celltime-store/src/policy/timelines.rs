//! Plan input from backend timelines: the bridge every caller of the planner (the `prune`
//! command, the TUI's "mark by policy") goes through, so both plan the same way.

use super::{Candidate, PlanInput};
use crate::model::{Row, Timeline};

/// Rows of several notebooks with their contents numbered in one space (contents are per
/// notebook folder, so two notebooks never share one).
pub struct TimelineInput<'t> {
    timelines: Vec<&'t Timeline>,
    /// (timeline, row) of each planner entry.
    rows: Vec<(usize, usize)>,
    contents: Vec<Vec<u32>>,
    sizes: Vec<u64>,
}

impl<'t> TimelineInput<'t> {
    pub fn new(timelines: impl IntoIterator<Item = &'t Timeline>) -> TimelineInput<'t> {
        let mut input = TimelineInput {
            timelines: timelines.into_iter().collect(),
            rows: Vec::new(),
            contents: Vec::new(),
            sizes: Vec::new(),
        };
        for (t, timeline) in input.timelines.iter().enumerate() {
            let offset = input.sizes.len() as u32;
            input.sizes.extend_from_slice(&timeline.content_sizes);
            for (r, row) in timeline.rows.iter().enumerate() {
                input.rows.push((t, r));
                input
                    .contents
                    .push(row.contents.iter().map(|c| c + offset).collect());
            }
        }
        input
    }

    /// The planner's view of every row, in order.
    pub fn candidates(&self) -> Vec<Candidate<'_>> {
        self.rows
            .iter()
            .zip(&self.contents)
            .map(|(&(t, r), contents)| {
                let timeline = self.timelines[t];
                let row = &timeline.rows[r];
                Candidate {
                    notebook: &timeline.notebook,
                    cell: &row.cell,
                    module: &row.module,
                    version: &row.version,
                    created_at: row.created_at.to_datetime(),
                    last_used: row.last_used.unwrap_or(row.created_at).to_datetime(),
                    pinned: row.pinned,
                    contents,
                }
            })
            .collect()
    }

    pub fn plan_input<'c>(&'c self, candidates: &'c [Candidate<'c>]) -> PlanInput<'c> {
        PlanInput {
            entries: candidates,
            content_sizes: &self.sizes,
        }
    }

    /// The notebook and row of planner entry `entry`.
    pub fn row(&self, entry: usize) -> (&'t str, &'t Row) {
        let (t, r) = self.rows[entry];
        let timeline = self.timelines[t];
        (&timeline.notebook, &timeline.rows[r])
    }
}
