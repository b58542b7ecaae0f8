//! The planner: scope, groups, protection, budgets and what the removals free. Pure: the
//! same input, policy, `now` and time zone always give the same plan, which is what makes a
//! dry run the same code path as the real run.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Serialize, Serializer};

use super::keep::{self, KeepReason, Marks};
use super::rules::{GroupBy, Policy, PolicyError};
use super::{Candidate, PlanInput};
use crate::model::NotebookGlobs;

/// The budget rule that removed an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    MaxAge,
    MaxSize,
    MaxEntries,
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Budget::MaxAge => "max-age",
            Budget::MaxSize => "max-size",
            Budget::MaxEntries => "max-entries",
        })
    }
}

impl Serialize for Budget {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub entry: usize,
    pub reasons: Vec<KeepReason>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub entry: usize,
    /// `None` when no keep rule protected the entry and no budget was given.
    pub by: Option<Budget>,
}

/// One group, both lists newest first. Labels are `None` where `--group-by` merged them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPlan {
    pub notebook: Option<String>,
    pub cell: Option<String>,
    pub keep: Vec<Kept>,
    pub remove: Vec<Removed>,
}

/// A budget's limit and the in-scope figure before and after the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BudgetFigure {
    pub limit: u64,
    pub before: u64,
    pub after: u64,
}

impl BudgetFigure {
    pub fn met(&self) -> bool {
        self.after <= self.limit
    }
}

/// `--max-age` only removes, so it is always met; the other two can fail when protected
/// entries alone exceed them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BudgetStatus {
    /// Bytes of distinct contents referenced by in-scope entries.
    pub max_size: Option<BudgetFigure>,
    /// In-scope entries.
    pub max_entries: Option<BudgetFigure>,
}

impl BudgetStatus {
    pub fn met(&self) -> bool {
        self.max_size.is_none_or(|f| f.met()) && self.max_entries.is_none_or(|f| f.met())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub groups: usize,
    pub entries_in_scope: usize,
    pub entries_kept: usize,
    pub entries_removed: usize,
    /// Contents whose last reference, among all entries, is removed.
    pub contents_freed: usize,
    pub bytes_freed: u64,
    /// Contents referenced by a removed entry that stay referenced by another entry.
    pub contents_shared_kept: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub now: DateTime<Utc>,
    pub groups: Vec<GroupPlan>,
    pub totals: Totals,
    pub budget: BudgetStatus,
    /// Indices into `content_sizes` of the contents the removals free, ascending.
    pub freed_contents: Vec<u32>,
}

impl Plan {
    /// Removed entry indices, ascending.
    pub fn removed(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .groups
            .iter()
            .flat_map(|g| g.remove.iter().map(|r| r.entry))
            .collect();
        out.sort_unstable();
        out
    }

    /// Kept in-scope entry indices, ascending.
    pub fn kept(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .groups
            .iter()
            .flat_map(|g| g.keep.iter().map(|k| k.entry))
            .collect();
        out.sort_unstable();
        out
    }

    /// Whether every budget is met (`prune` then exits 0; see docs/PRUNE.md).
    pub fn budget_met(&self) -> bool {
        self.budget.met()
    }
}

/// Plans which in-scope entries to keep (with every reason) and which to remove.
///
/// Calendar buckets use `tz`; "future" and `--max-age` use `now`. O(n log n) in the number of
/// entries plus linear in the number of content references.
pub fn plan<Tz: TimeZone>(
    input: &PlanInput<'_>,
    policy: &Policy,
    now: DateTime<Utc>,
    tz: &Tz,
) -> Result<Plan, PolicyError> {
    policy.check()?;
    check_input(input)?;
    let entries = input.entries;
    let mut scope = in_scope(entries, policy)?;
    let groups = group_ranges(entries, &mut scope, policy.group_by);
    let marks = protect(entries, &scope, &groups, policy, now, tz);

    let unprotected: Vec<usize> = scope
        .iter()
        .copied()
        .filter(|&i| !marks[i].is_protected())
        .collect();
    let mut fate = vec![Fate::Keep; entries.len()];
    let budget = if policy.has_budgets() {
        apply_budgets(input, policy, now, &scope, unprotected, &mut fate)
    } else {
        // KEEP rules alone: everything they do not protect goes (restic `forget`).
        for i in unprotected {
            fate[i] = Fate::Remove(None);
        }
        BudgetStatus::default()
    };

    let removed: Vec<usize> = scope
        .iter()
        .copied()
        .filter(|&i| fate[i] != Fate::Keep)
        .collect();
    let (freed_contents, contents_shared_kept) = freed(input, &removed);
    Ok(Plan {
        now,
        totals: Totals {
            groups: groups.len(),
            entries_in_scope: scope.len(),
            entries_kept: scope.len() - removed.len(),
            entries_removed: removed.len(),
            contents_freed: freed_contents.len(),
            bytes_freed: freed_contents
                .iter()
                .map(|&c| input.content_sizes[c as usize])
                .sum(),
            contents_shared_kept,
        },
        groups: group_plans(entries, &scope, groups, policy, &marks, &fate),
        budget,
        freed_contents,
    })
}

/// The reasons every in-scope entry is protected for: pins, future dates, the floor and the
/// keep rules. Entries with no mark are what the budgets may take.
fn protect<Tz: TimeZone>(
    entries: &[Candidate<'_>],
    scope: &[usize],
    groups: &[Range<usize>],
    policy: &Policy,
    now: DateTime<Utc>,
    tz: &Tz,
) -> Vec<Marks> {
    let mut marks = vec![Marks::default(); entries.len()];
    let mut walk = Vec::new();
    // The floor is per cell; when groups are cells the group's first entry is enough.
    let groups_are_cells = policy.group_by == GroupBy::NotebookCell;
    let mut floor_seen: HashSet<(&str, &str)> = HashSet::new();
    for range in groups {
        walk.clear();
        for &i in &scope[range.clone()] {
            let e = &entries[i];
            if e.pinned {
                marks[i].set(Marks::PINNED);
            }
            if e.created_at > now {
                marks[i].set(Marks::FUTURE);
                continue;
            }
            // Newest first, so the first non-future entry seen of a cell is its newest.
            let newest_of_cell = if groups_are_cells {
                walk.is_empty()
            } else {
                floor_seen.insert((e.notebook, e.cell))
            };
            if newest_of_cell && !policy.unsafe_allow_remove_all {
                marks[i].set(Marks::NEWEST_OF_CELL);
            }
            walk.push(i);
        }
        keep::mark_group(entries, &walk, policy, tz, &mut marks);
    }
    marks
}

fn group_plans(
    entries: &[Candidate<'_>],
    scope: &[usize],
    groups: Vec<Range<usize>>,
    policy: &Policy,
    marks: &[Marks],
    fate: &[Fate],
) -> Vec<GroupPlan> {
    groups
        .into_iter()
        .map(|range| {
            let first = &entries[scope[range.start]];
            let mut group = GroupPlan {
                notebook: (policy.group_by != GroupBy::None).then(|| first.notebook.to_string()),
                cell: (policy.group_by == GroupBy::NotebookCell).then(|| first.cell.to_string()),
                keep: Vec::new(),
                remove: Vec::new(),
            };
            for &i in &scope[range] {
                match fate[i] {
                    Fate::Remove(by) => group.remove.push(Removed { entry: i, by }),
                    Fate::Keep => {
                        let mut m = marks[i];
                        if !m.is_protected() {
                            // Unprotected and still here: the budgets let it stay.
                            m.set(Marks::UNDER_BUDGET);
                        }
                        group.keep.push(Kept {
                            entry: i,
                            reasons: m.reasons(policy.keep_within),
                        });
                    }
                }
            }
            group
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Keep,
    Remove(Option<Budget>),
}

fn check_input(input: &PlanInput<'_>) -> Result<(), PolicyError> {
    let sizes = input.content_sizes.len();
    for (entry, e) in input.entries.iter().enumerate() {
        if let Some(&content) = e.contents.iter().find(|&&c| c as usize >= sizes) {
            return Err(PolicyError::InvalidInput {
                entry,
                content,
                sizes,
            });
        }
    }
    Ok(())
}

/// In-scope entry indices. Globs are matched once per distinct notebook key.
fn in_scope(entries: &[Candidate<'_>], policy: &Policy) -> Result<Vec<usize>, PolicyError> {
    let globs = NotebookGlobs::new(&policy.notebook)?;
    let mut notebook_ok: HashMap<&str, bool> = HashMap::new();
    Ok((0..entries.len())
        .filter(|&i| {
            let e = &entries[i];
            let nb = *notebook_ok
                .entry(e.notebook)
                .or_insert_with(|| globs.matches(e.notebook));
            nb && (policy.cell.is_empty() || policy.cell.iter().any(|c| c == e.cell))
        })
        .collect())
}

/// Sorts `scope` by group, then newest first, and returns each group's range in it.
///
/// Equal `created_at` are ordered by index, the later index counting as newer: backends list
/// entries in the order they were recorded.
fn group_ranges(
    entries: &[Candidate<'_>],
    scope: &mut [usize],
    group_by: GroupBy,
) -> Vec<Range<usize>> {
    let key = |i: usize| -> (&str, &str) {
        let e = &entries[i];
        match group_by {
            GroupBy::NotebookCell => (e.notebook, e.cell),
            GroupBy::Notebook => (e.notebook, ""),
            GroupBy::None => ("", ""),
        }
    };
    // Rank each distinct key once so that the big sort compares integers, not strings
    // (string compares were half of the planning time at 100k entries).
    let mut ids: HashMap<(&str, &str), usize> = HashMap::new();
    let group_of: Vec<usize> = scope
        .iter()
        .map(|&i| {
            let next = ids.len();
            *ids.entry(key(i)).or_insert(next)
        })
        .collect();
    let mut keys: Vec<((&str, &str), usize)> = ids.into_iter().collect();
    keys.sort_unstable();
    let mut rank = vec![0; keys.len()];
    for (r, &(_, id)) in keys.iter().enumerate() {
        rank[id] = r;
    }
    let mut order: Vec<(usize, Reverse<DateTime<Utc>>, Reverse<usize>)> = scope
        .iter()
        .zip(&group_of)
        .map(|(&i, &g)| (rank[g], Reverse(entries[i].created_at), Reverse(i)))
        .collect();
    order.sort_unstable();

    let mut ranges = Vec::with_capacity(keys.len());
    let mut start = 0;
    for (pos, &(group, _, Reverse(i))) in order.iter().enumerate() {
        scope[pos] = i;
        if pos + 1 == order.len() || order[pos + 1].0 != group {
            ranges.push(start..pos + 1);
            start = pos + 1;
        }
    }
    ranges
}

/// Removes the shortest prefix of the unprotected entries, in LRU order, that meets every
/// budget (all of them when that is not enough).
fn apply_budgets(
    input: &PlanInput<'_>,
    policy: &Policy,
    now: DateTime<Utc>,
    scope: &[usize],
    unprotected: Vec<usize>,
    fate: &mut [Fate],
) -> BudgetStatus {
    let entries = input.entries;
    // LRU: last used first; among equals the bigger entry first, as it frees more.
    let mut lru: Vec<(DateTime<Utc>, Reverse<u64>, usize)> = unprotected
        .into_iter()
        .map(|i| (entries[i].last_used, Reverse(input.entry_size(i)), i))
        .collect();
    lru.sort_unstable();

    // Each budget needs some prefix removed; the plan removes the longest of them.
    let k_age = policy.max_age.map_or(0, |span| {
        let cut = span.before(now);
        lru.partition_point(|&(last_used, ..)| last_used < cut)
    });
    let k_entries = policy
        .max_entries
        .map_or(0, |n| scope.len().saturating_sub(n as usize).min(lru.len()));
    let mut size = policy
        .max_size
        .map(|limit| SizeTracker::new(input, scope, limit.0));
    let mut k = lru.len();
    let mut k_size = 0;
    for (pos, &(.., i)) in lru.iter().enumerate() {
        let size_ok = size.as_ref().is_none_or(SizeTracker::within);
        if size_ok && pos >= k_age && pos >= k_entries {
            k = pos;
            break;
        }
        if let Some(s) = &mut size {
            if !s.within() {
                k_size = pos + 1;
            }
            s.remove(entries[i].contents);
        }
    }

    for (pos, &(.., i)) in lru[..k].iter().enumerate() {
        let by = if pos < k_age {
            Budget::MaxAge
        } else if pos < k_size {
            Budget::MaxSize
        } else {
            Budget::MaxEntries
        };
        fate[i] = Fate::Remove(Some(by));
    }
    BudgetStatus {
        max_size: size.map(|s| s.figure()),
        max_entries: policy.max_entries.map(|n| BudgetFigure {
            limit: u64::from(n),
            before: scope.len() as u64,
            after: (scope.len() - k) as u64,
        }),
    }
}

/// Bytes of distinct contents referenced by the in-scope entries still standing.
struct SizeTracker<'a> {
    refs: Vec<u32>,
    sizes: &'a [u64],
    limit: u64,
    before: u64,
    total: u64,
}

impl<'a> SizeTracker<'a> {
    fn new(input: &PlanInput<'a>, scope: &[usize], limit: u64) -> Self {
        let mut refs = vec![0u32; input.content_sizes.len()];
        let mut total = 0;
        for &i in scope {
            for &c in input.entries[i].contents {
                let r = &mut refs[c as usize];
                if *r == 0 {
                    total += input.content_sizes[c as usize];
                }
                *r += 1;
            }
        }
        SizeTracker {
            refs,
            sizes: input.content_sizes,
            limit,
            before: total,
            total,
        }
    }

    fn within(&self) -> bool {
        self.total <= self.limit
    }

    fn remove(&mut self, contents: &[u32]) {
        for &c in contents {
            let r = &mut self.refs[c as usize];
            *r -= 1;
            if *r == 0 {
                self.total -= self.sizes[c as usize];
            }
        }
    }

    fn figure(&self) -> BudgetFigure {
        BudgetFigure {
            limit: self.limit,
            before: self.before,
            after: self.total,
        }
    }
}

/// Contents whose last reference among all entries is removed (ascending), and the number of
/// contents touched by a removal that other entries still reference.
fn freed(input: &PlanInput<'_>, removed: &[usize]) -> (Vec<u32>, usize) {
    let mut refs = vec![0u32; input.content_sizes.len()];
    for e in input.entries {
        for &c in e.contents {
            refs[c as usize] += 1;
        }
    }
    // Marked rather than collected and sorted: one pass over the contents gives them in order.
    let mut touched = vec![false; refs.len()];
    for &i in removed {
        for &c in input.entries[i].contents {
            refs[c as usize] -= 1;
            touched[c as usize] = true;
        }
    }
    let mut gone = Vec::new();
    let mut shared = 0;
    for (c, _) in touched.iter().enumerate().filter(|(_, touched)| **touched) {
        match refs[c] {
            0 => gone.push(c as u32),
            _ => shared += 1,
        }
    }
    (gone, shared)
}
