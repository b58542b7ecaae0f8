//! Plan input from backend timelines: the bridge every caller of the planner (the `prune`
//! command, the TUI's "mark by policy") goes through, so both plan the same way.

use super::{Candidate, PlanInput};
use crate::model::{Row, Timeline};

/// Rows of several notebooks with their contents numbered in one space (contents are per
/// notebook folder, so two notebooks never share one), in one flat table.
pub struct TimelineInput<'t> {
    timelines: Vec<&'t Timeline>,
    /// (timeline, row) of each planner entry.
    rows: Vec<(u32, u32)>,
    /// Each planner entry's contents are `contents[spans[i].0..spans[i].1]`.
    spans: Vec<(u32, u32)>,
    contents: Vec<u32>,
    sizes: Vec<u64>,
}

impl<'t> TimelineInput<'t> {
    pub fn new(timelines: impl IntoIterator<Item = &'t Timeline>) -> TimelineInput<'t> {
        let timelines: Vec<&Timeline> = timelines.into_iter().collect();
        let rows = timelines.iter().map(|t| t.rows.len()).sum();
        let mut input = TimelineInput {
            timelines,
            rows: Vec::with_capacity(rows),
            spans: Vec::with_capacity(rows),
            contents: Vec::new(),
            sizes: Vec::new(),
        };
        for (t, timeline) in input.timelines.iter().enumerate() {
            let offset = input.sizes.len() as u32;
            input.sizes.extend_from_slice(&timeline.content_sizes);
            for (r, row) in timeline.rows.iter().enumerate() {
                input.rows.push((t as u32, r as u32));
                let start = input.contents.len() as u32;
                input
                    .contents
                    .extend(row.contents.iter().map(|c| c + offset));
                input.spans.push((start, input.contents.len() as u32));
            }
        }
        input
    }

    /// The planner's view of every row, in order.
    pub fn candidates(&self) -> Vec<Candidate<'_>> {
        self.rows
            .iter()
            .zip(&self.spans)
            .map(|(&(t, r), &(start, end))| {
                let timeline = self.timelines[t as usize];
                let row = &timeline.rows[r as usize];
                Candidate {
                    notebook: &timeline.notebook,
                    cell: &row.cell,
                    module: &row.module,
                    version: &row.version,
                    created_at: row.created_at.to_datetime(),
                    last_used: row.last_used.unwrap_or(row.created_at).to_datetime(),
                    pinned: row.pinned,
                    contents: &self.contents[start as usize..end as usize],
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
        let timeline = self.timelines[t as usize];
        (&timeline.notebook, &timeline.rows[r as usize])
    }
}
