//! Retention policies: restic-style keep rules that protect entries, and ccache-style budgets
//! that evict the least recently used of the rest. See docs/PRUNE.md.
//!
//! The planner never touches a store: backends (celltime's own store, marimo's legacy cache
//! folder) describe their entries as [`Candidate`] rows, and apply the returned [`Plan`]
//! themselves. The same plan serves `prune --dry-run`, `prune` and the TUI's "mark by policy".

mod config;
mod keep;
mod plan;
mod report;
mod rules;
mod timelines;

use chrono::{DateTime, Utc};

pub use crate::units::{Count, Size, Span, ValueError, human_bytes};
pub use keep::KeepReason;
pub use plan::{Budget, BudgetFigure, BudgetStatus, GroupPlan, Kept, Plan, Removed, Totals, plan};
pub use report::{EntryLabel, ReportContext, ReportFormat, ReportWriter, SCHEMA};
pub use rules::{GroupBy, Policy, PolicyError};
pub use timelines::TimelineInput;

/// One entry (one cached run) as the planner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub notebook: &'a str,
    pub cell: &'a str,
    pub module: &'a str,
    pub version: &'a str,
    /// Millisecond precision.
    pub created_at: DateTime<Utc>,
    /// Equal to `created_at` if the entry was never read back.
    pub last_used: DateTime<Utc>,
    pub pinned: bool,
    /// Indices into [`PlanInput::content_sizes`]; entries may share contents (deduplication).
    pub contents: &'a [u32],
}

/// Every entry of the store, in and out of scope: out-of-scope entries are never removed, but
/// their references keep shared contents alive.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub entries: &'a [Candidate<'a>],
    pub content_sizes: &'a [u64],
}

impl PlanInput<'_> {
    /// The bytes of all of an entry's contents, shared or not: the LRU tie-break and the
    /// default size column. Panics on an index out of range, which [`plan`] reports as
    /// [`PolicyError::InvalidInput`] before it gets here.
    pub fn entry_size(&self, entry: usize) -> u64 {
        self.entries[entry]
            .contents
            .iter()
            .map(|&c| self.content_sizes[c as usize])
            .sum()
    }
}
