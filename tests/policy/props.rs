//! Properties of the planner over random stores and policies (restic/ccache invariants).

use celltime::cli::policy_args::policy_from_text;
use std::collections::{BTreeSet, HashMap, HashSet};

use celltime_store::policy::{
    Budget, Candidate, Count, GroupBy, KeepReason, Plan, PlanInput, Policy, Size, Span, plan,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use proptest::prelude::*;

const NOTEBOOKS: [&str; 3] = ["nb0", "nb1", "deep/nb2"];
const CELLS: [&str; 3] = ["a", "b", "c"];
const MODULES: [&str; 2] = ["m0", "m1"];
const VERSIONS: [&str; 3] = ["0", "1", "x"];

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// `now` sits 380 days after `base`; entries reach 390 days, so some are in the future.
fn now() -> DateTime<Utc> {
    base() + Duration::days(380)
}

#[derive(Debug, Clone)]
struct Row {
    notebook: usize,
    cell: usize,
    module: usize,
    version: usize,
    created_hours: i64,
    unused_hours: i64,
    pinned: bool,
    contents: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Store {
    rows: Vec<Row>,
    sizes: Vec<u64>,
}

impl Store {
    fn entries(&self) -> Vec<Candidate<'_>> {
        self.rows
            .iter()
            .map(|r| {
                let created = base() + Duration::hours(r.created_hours);
                Candidate {
                    notebook: NOTEBOOKS[r.notebook],
                    cell: CELLS[r.cell],
                    module: MODULES[r.module],
                    version: VERSIONS[r.version],
                    created_at: created,
                    last_used: created + Duration::hours(r.unused_hours),
                    pinned: r.pinned,
                    contents: &r.contents,
                }
            })
            .collect()
    }

    /// The store after applying a plan: the removed rows are gone, the rest keep their order.
    fn without(&self, removed: &[usize]) -> Store {
        let gone: HashSet<usize> = removed.iter().copied().collect();
        Store {
            rows: (0..self.rows.len())
                .filter(|i| !gone.contains(i))
                .map(|i| self.rows[i].clone())
                .collect(),
            sizes: self.sizes.clone(),
        }
    }
}

fn run(store: &Store, policy: &Policy) -> Plan {
    let entries = store.entries();
    let input = PlanInput {
        entries: &entries,
        content_sizes: &store.sizes,
    };
    plan(&input, policy, now(), &Berlin).expect("valid policy and input")
}

fn row() -> impl Strategy<Value = Row> {
    (
        (0..3usize, 0..3usize, 0..2usize, 0..3usize),
        // A few fixed hours make equal timestamps common.
        prop_oneof![0..390 * 24i64, Just(100 * 24), Just(370 * 24)],
        prop_oneof![Just(0i64), 0..200 * 24i64],
        prop::bool::weighted(0.1),
        prop::collection::vec(0..12u32, 0..4),
    )
        .prop_map(
            |((notebook, cell, module, version), created_hours, unused_hours, pinned, contents)| {
                Row {
                    notebook,
                    cell,
                    module,
                    version,
                    created_hours,
                    unused_hours,
                    pinned,
                    contents,
                }
            },
        )
}

fn store() -> impl Strategy<Value = Store> {
    (
        prop::collection::vec(row(), 0..40),
        prop::collection::vec(1..1000u64, 12),
    )
        .prop_map(|(rows, sizes)| Store { rows, sizes })
}

fn count() -> impl Strategy<Value = Option<Count>> {
    prop_oneof![
        3 => Just(None),
        2 => (1..6u32).prop_map(|n| Some(Count::N(n))),
        1 => Just(Some(Count::All)),
    ]
}

fn span() -> impl Strategy<Value = Span> {
    (0..3u32, 0..40u32, 0..48u32).prop_map(|(months, days, hours)| Span {
        months,
        days,
        hours,
        ..Span::default()
    })
}

fn keep_rules() -> impl Strategy<Value = Policy> {
    (
        (count(), prop::option::of(span()), count(), count(), count()),
        prop::option::weighted(0.3, 1..4u32),
        prop_oneof![
            Just(GroupBy::NotebookCell),
            Just(GroupBy::Notebook),
            Just(GroupBy::None)
        ],
    )
        .prop_map(
            |((last, within, daily, weekly, monthly), versions, group_by)| Policy {
                group_by,
                keep_last: last,
                keep_within: within,
                keep_daily: daily,
                keep_weekly: weekly,
                keep_monthly: monthly,
                keep_versions: versions,
                ..Policy::default()
            },
        )
}

fn scope(policy: Policy) -> impl Strategy<Value = Policy> {
    (
        prop::sample::subsequence(vec!["nb0", "nb*", "deep/**"], 0..=2),
        prop::sample::subsequence(vec!["a", "b"], 0..=1),
        prop::bool::weighted(0.2),
    )
        .prop_map(move |(notebooks, cells, unsafe_all)| {
            let mut p = policy.clone();
            p.notebook = notebooks.into_iter().map(String::from).collect();
            p.cell = cells.into_iter().map(String::from).collect();
            p.unsafe_allow_remove_all = unsafe_all && !(p.notebook.is_empty() && p.cell.is_empty());
            p
        })
}

fn budgets(policy: Policy) -> impl Strategy<Value = Policy> {
    (
        prop::option::of(span()),
        prop::option::of(0..6000u64),
        prop::option::of(0..40u32),
    )
        .prop_map(move |(age, size, entries)| Policy {
            max_age: age,
            max_size: size.map(Size),
            max_entries: entries,
            ..policy.clone()
        })
}

/// Any valid policy: keep rules, scope and budgets, each possibly absent.
fn policy() -> impl Strategy<Value = Policy> {
    keep_rules()
        .prop_flat_map(scope)
        .prop_flat_map(budgets)
        .prop_filter_map("empty policy", |p| p.normalised().ok())
}

fn in_scope(e: &Candidate<'_>, p: &Policy) -> bool {
    let nb_ok = p.notebook.is_empty()
        || p.notebook.iter().any(|g| match g.as_str() {
            "nb*" => e.notebook.starts_with("nb"),
            "deep/**" => e.notebook.starts_with("deep/"),
            exact => e.notebook == exact,
        });
    nb_ok && (p.cell.is_empty() || p.cell.iter().any(|c| c == e.cell))
}

fn removed_set(p: &Plan) -> BTreeSet<usize> {
    p.removed().into_iter().collect()
}

fn without_budgets(p: &Policy) -> Policy {
    Policy {
        max_age: None,
        max_size: None,
        max_entries: None,
        ..p.clone()
    }
}

/// Raises one keep rule (chosen by `which`), or adds it.
fn raise_keep(p: &Policy, which: usize) -> Policy {
    let more = |c: Option<Count>| match c {
        None | Some(Count::N(0)) => Some(Count::N(1)),
        Some(Count::N(n)) if n % 2 == 0 => Some(Count::All),
        Some(Count::N(n)) => Some(Count::N(n + 1)),
        Some(Count::All) => Some(Count::All),
    };
    let mut q = p.clone();
    match which {
        0 => q.keep_last = more(q.keep_last),
        1 => q.keep_daily = more(q.keep_daily),
        2 => q.keep_weekly = more(q.keep_weekly),
        3 => q.keep_monthly = more(q.keep_monthly),
        4 => q.keep_versions = Some(q.keep_versions.unwrap_or(0) + 1),
        5 => {
            let mut s = q.keep_within.unwrap_or_default();
            s.days += 3;
            q.keep_within = Some(s);
        }
        _ => {
            let mut s = q.keep_within.unwrap_or_default();
            s.months += 1;
            q.keep_within = Some(s);
        }
    }
    q
}

const PROTECTING: fn(&KeepReason) -> bool = |r| *r != KeepReason::UnderBudget;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn kept_and_removed_partition_the_scope(store in store(), policy in policy()) {
        let p = run(&store, &policy);
        let entries = store.entries();
        let expected: BTreeSet<usize> =
            (0..entries.len()).filter(|&i| in_scope(&entries[i], &policy)).collect();
        let kept: BTreeSet<usize> = p.kept().into_iter().collect();
        let removed = removed_set(&p);
        prop_assert!(kept.is_disjoint(&removed));
        prop_assert_eq!(kept.len() + removed.len(), p.kept().len() + p.removed().len(), "duplicates");
        prop_assert_eq!(kept.union(&removed).copied().collect::<BTreeSet<_>>(), expected.clone());
        prop_assert_eq!(p.totals.entries_in_scope, expected.len());
        prop_assert_eq!(p.totals.entries_removed, removed.len());
        for g in &p.groups {
            prop_assert!(g.keep.iter().all(|k| !k.reasons.is_empty()), "a kept entry without a reason");
        }
    }

    #[test]
    fn protected_entries_are_never_removed(store in store(), policy in policy()) {
        let p = run(&store, &policy);
        let entries = store.entries();
        let removed = removed_set(&p);
        let now = now();
        // Pins and the clock-skew guard.
        for &i in &removed {
            prop_assert!(!entries[i].pinned, "pinned e{} removed", i);
            prop_assert!(entries[i].created_at <= now, "future e{} removed", i);
        }
        // The floor: the newest non-future entry of each cell (later index wins a tie).
        if !policy.unsafe_allow_remove_all {
            let mut newest: HashMap<(&str, &str), usize> = HashMap::new();
            for (i, e) in entries.iter().enumerate().filter(|(_, e)| e.created_at <= now) {
                let slot = newest.entry((e.notebook, e.cell)).or_insert(i);
                if (e.created_at, i) >= (entries[*slot].created_at, *slot) {
                    *slot = i;
                }
            }
            for i in newest.into_values() {
                prop_assert!(!removed.contains(&i), "newest of cell e{} removed", i);
            }
        }
        // Keep rules: whatever the budget-free policy protects, the full policy keeps.
        if policy.has_keep_rules() {
            let keep_only = run(&store, &without_budgets(&policy));
            for g in &keep_only.groups {
                for k in g.keep.iter().filter(|k| k.reasons.iter().any(PROTECTING)) {
                    prop_assert!(!removed.contains(&k.entry), "protected e{} removed", k.entry);
                }
            }
        }
        // An independent check of --keep-within: everything after the cutoff of its group.
        if let (Some(span), GroupBy::NotebookCell) = (policy.keep_within, policy.group_by) {
            let mut newest: HashMap<(&str, &str), DateTime<Utc>> = HashMap::new();
            for e in entries.iter().filter(|e| e.created_at <= now) {
                let t = newest.entry((e.notebook, e.cell)).or_insert(e.created_at);
                *t = (*t).max(e.created_at);
            }
            for &i in &removed {
                let e = &entries[i];
                prop_assert!(e.created_at <= span.before(newest[&(e.notebook, e.cell)]));
            }
        }
    }

    #[test]
    fn removed_entries_carry_the_budget_that_removed_them(store in store(), policy in policy()) {
        let p = run(&store, &policy);
        for r in p.groups.iter().flat_map(|g| &g.remove) {
            prop_assert_eq!(r.by.is_some(), policy.has_budgets());
        }
        if let Some(span) = policy.max_age {
            let entries = store.entries();
            let cut = span.before(now());
            for r in p.groups.iter().flat_map(|g| &g.remove) {
                if r.by == Some(Budget::MaxAge) {
                    prop_assert!(entries[r.entry].last_used < cut);
                }
            }
            // Unprotected entries older than the cutoff are all gone.
            for k in p.groups.iter().flat_map(|g| &g.keep) {
                if k.reasons == [KeepReason::UnderBudget] {
                    prop_assert!(entries[k.entry].last_used >= cut);
                }
            }
        }
    }

    #[test]
    fn raising_a_keep_rule_never_removes_more(store in store(), policy in policy(), which in 0..7usize) {
        let raised = raise_keep(&policy, which);
        // Subset holds for keep rules alone and with --max-age (a per-entry test).
        let base = Policy { max_size: None, max_entries: None, ..policy.clone() };
        if base.check().is_ok() {
            let before = removed_set(&run(&store, &base));
            let after = removed_set(&run(&store, &Policy { max_size: None, max_entries: None, ..raised.clone() }));
            prop_assert!(after.is_subset(&before), "{:?} ⊄ {:?}", after, before);
        }
        // --max-entries needs a count, not particular entries: the count cannot grow.
        let counted = Policy { max_size: None, ..policy.clone() };
        if counted.check().is_ok() {
            let before = run(&store, &counted).totals.entries_removed;
            let after = run(&store, &Policy { max_size: None, ..raised }).totals.entries_removed;
            prop_assert!(after <= before);
        }
        // --max-size has no such property: protecting one big old entry can force several
        // small ones out instead. See docs/PRUNE.md.
    }

    #[test]
    fn lowering_a_budget_never_removes_less(store in store(), policy in policy(), which in 0..3usize) {
        // Only budgets already given: adding the first budget switches a keep-only policy
        // ("remove everything unprotected") to "remove what the budget needs".
        let mut lower = policy.clone();
        match which {
            0 => lower.max_size = policy.max_size.map(|s| Size(s.0 / 2)),
            1 => lower.max_entries = policy.max_entries.map(|n| n / 2),
            _ => {
                lower.max_age = policy.max_age.map(|mut s| {
                    s.days = s.days.saturating_sub(10);
                    s.months = s.months.saturating_sub(1);
                    s
                })
            }
        }
        let before = removed_set(&run(&store, &policy));
        let after = removed_set(&run(&store, &lower));
        prop_assert!(before.is_subset(&after), "{:?} ⊄ {:?}", before, after);
    }

    #[test]
    fn replanning_the_kept_set_removes_nothing(store in store(), policy in policy()) {
        let p = run(&store, &policy);
        let again = run(&store.without(&p.removed()), &policy);
        prop_assert_eq!(again.totals.entries_removed, 0);
    }

    #[test]
    fn freed_bytes_are_contents_only_removed_entries_reference(store in store(), policy in policy()) {
        let p = run(&store, &policy);
        let entries = store.entries();
        let removed = removed_set(&p);
        let still: HashSet<u32> = (0..entries.len())
            .filter(|i| !removed.contains(i))
            .flat_map(|i| entries[i].contents.iter().copied())
            .collect();
        let gone: BTreeSet<u32> = removed
            .iter()
            .flat_map(|&i| entries[i].contents.iter().copied())
            .filter(|c| !still.contains(c))
            .collect();
        let shared = removed
            .iter()
            .flat_map(|&i| entries[i].contents.iter().copied())
            .filter(|c| still.contains(c))
            .collect::<HashSet<_>>()
            .len();
        prop_assert_eq!(&p.freed_contents, &gone.iter().copied().collect::<Vec<_>>());
        prop_assert_eq!(p.totals.bytes_freed, gone.iter().map(|&c| store.sizes[c as usize]).sum::<u64>());
        prop_assert_eq!(p.totals.contents_shared_kept, shared);
    }

    #[test]
    fn budgets_are_met_minimally_or_reported(store in store(), policy in policy()) {
        let p = run(&store, &policy);
        let entries = store.entries();
        let removed = removed_set(&p);
        let scope: Vec<usize> = (0..entries.len()).filter(|&i| in_scope(&entries[i], &policy)).collect();
        let standing = |gone: &BTreeSet<usize>| -> (u64, u64) {
            let alive: Vec<usize> = scope.iter().copied().filter(|i| !gone.contains(i)).collect();
            let contents: HashSet<u32> = alive.iter().flat_map(|&i| entries[i].contents.iter().copied()).collect();
            (contents.iter().map(|&c| store.sizes[c as usize]).sum(), alive.len() as u64)
        };
        let (bytes, count) = standing(&removed);
        if let Some(f) = p.budget.max_size {
            prop_assert_eq!(f.after, bytes);
            prop_assert_eq!(f.met(), bytes <= policy.max_size.unwrap().0);
        }
        if let Some(f) = p.budget.max_entries {
            prop_assert_eq!(f.after, count);
        }
        let under_budget = p.groups.iter().flat_map(|g| &g.keep).filter(|k| !k.reasons.iter().any(PROTECTING)).count();
        if !p.budget.met() {
            prop_assert_eq!(under_budget, 0, "budget not met but unprotected entries kept");
            prop_assert!(!p.budget_met());
        } else {
            prop_assert!(p.budget_met());
        }
        // Minimal: putting back the most recently used removal breaks some budget.
        let by_budget: Vec<usize> = p.groups.iter().flat_map(|g| &g.remove).filter(|r| r.by.is_some()).map(|r| r.entry).collect();
        let last_removed = by_budget.iter().copied().max_by_key(|&i| {
            let e = &entries[i];
            let size: u64 = e.contents.iter().map(|&c| store.sizes[c as usize]).sum();
            (e.last_used, std::cmp::Reverse(size), i)
        });
        if let (true, Some(last)) = (p.budget.met(), last_removed) {
            let mut fewer = removed.clone();
            fewer.remove(&last);
            let (bytes, count) = standing(&fewer);
            let too_old = policy.max_age.is_some_and(|s| entries[last].last_used < s.before(now()));
            let too_big = policy.max_size.is_some_and(|s| bytes > s.0);
            let too_many = policy.max_entries.is_some_and(|n| count > u64::from(n));
            prop_assert!(too_old || too_big || too_many, "e{} was removed needlessly", last);
        }
    }

    /// `prune` plans each notebook on its own when the policy allows it, holding one notebook
    /// at a time: that must be exactly the plan of all notebooks at once.
    #[test]
    fn planning_notebooks_apart_is_planning_them_together(store in store(), policy in policy()) {
        // The policy without what ties notebooks together: budgets over all of them, one group.
        let mut policy = policy;
        (policy.max_size, policy.max_entries) = (None, None);
        if policy.group_by == GroupBy::None {
            policy.group_by = GroupBy::Notebook;
        }
        let normalised = policy.normalised();
        prop_assume!(normalised.is_ok());
        let policy = normalised.unwrap();
        prop_assert!(policy.plans_notebooks_apart());
        // Contents live in a notebook's folder: no two notebooks share one.
        let mut store = store;
        for row in &mut store.rows {
            for c in &mut row.contents {
                *c += 12 * row.notebook as u32;
            }
        }
        store.sizes = store.sizes.repeat(NOTEBOOKS.len());
        let together = run(&store, &policy);
        let mut groups = Vec::new();
        let mut removed_bytes = 0;
        // Notebooks in key order, as plans list them.
        let mut order: Vec<usize> = (0..NOTEBOOKS.len()).collect();
        order.sort_by_key(|&n| NOTEBOOKS[n]);
        for n in order {
            let rows: Vec<usize> = (0..store.rows.len()).filter(|&i| store.rows[i].notebook == n).collect();
            let alone = Store {
                rows: rows.iter().map(|&i| store.rows[i].clone()).collect(),
                sizes: store.sizes.clone(),
            };
            let p = run(&alone, &policy);
            prop_assert!(p.budget_met());
            removed_bytes += p.totals.bytes_freed;
            for mut g in p.groups {
                g.keep.iter_mut().for_each(|k| k.entry = rows[k.entry]);
                g.remove.iter_mut().for_each(|r| r.entry = rows[r.entry]);
                groups.push(g);
            }
        }
        prop_assert_eq!(groups, together.groups);
        prop_assert_eq!(removed_bytes, together.totals.bytes_freed);
    }

    #[test]
    fn policy_text_round_trips(policy in policy(), nb in "[a-z '\"/*?-]{1,8}") {
        let mut p = policy;
        p.notebook.push(nb);
        let p = p.normalised().expect("still valid");
        prop_assert_eq!(policy_from_text(&p.to_text()), Ok(p.clone()), "{}", p.to_text());
    }
}
