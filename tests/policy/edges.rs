//! Small hand-made stores for the edges a fixture-wide golden file would hide: exact cutoffs,
//! shared contents across the scope line, clock skew and bad input.

use celltime::cli::policy_args::policy_from_text;
use celltime_store::policy::{Candidate, KeepReason, PlanInput, PolicyError, plan};
use chrono::{DateTime, Duration, Utc};

use super::fixture::at;

fn entry(
    cell: &'static str,
    created: DateTime<Utc>,
    contents: &'static [u32],
) -> Candidate<'static> {
    Candidate {
        notebook: "nb",
        cell,
        module: "m",
        version: "0",
        created_at: created,
        last_used: created,
        pinned: false,
        contents,
    }
}

fn removed(entries: &[Candidate<'_>], sizes: &[u64], text: &str, now: DateTime<Utc>) -> Vec<usize> {
    let input = PlanInput {
        entries,
        content_sizes: sizes,
    };
    let policy = policy_from_text(text).expect("valid policy");
    plan(&input, &policy, now, &Utc).expect("plans").removed()
}

#[test]
fn keep_within_excludes_the_exact_cutoff() {
    let newest = at("2026-06-01T00:00:00Z");
    let entries = [
        entry("c", newest - Duration::days(7), &[]),
        entry(
            "c",
            newest - Duration::days(7) + Duration::milliseconds(1),
            &[],
        ),
        entry("c", newest, &[]),
    ];
    // restic: kept when strictly after newest − 7d.
    assert_eq!(removed(&entries, &[], "--keep-within 7d", newest), [0]);
}

#[test]
fn max_age_removes_only_strictly_older() {
    let now = at("2026-06-01T00:00:00Z");
    let entries = [
        entry(
            "c",
            now - Duration::days(30) - Duration::milliseconds(1),
            &[],
        ),
        entry("c", now - Duration::days(30), &[]),
        entry("c", now, &[]),
    ];
    assert_eq!(removed(&entries, &[], "--max-age 30d", now), [0]);
}

#[test]
fn keep_within_counts_from_the_newest_entry_not_now() {
    let now = at("2026-06-01T00:00:00Z");
    let newest = now - Duration::days(100);
    let entries = [
        entry("c", newest - Duration::days(2), &[]),
        entry("c", newest - Duration::hours(12), &[]),
        entry("c", newest, &[]),
        // In the future: ignored for "newest", so it does not move the window.
        entry("c", now + Duration::days(1), &[]),
    ];
    assert_eq!(removed(&entries, &[], "--keep-within 1d", now), [0]);
}

#[test]
fn a_cell_of_only_future_entries_is_kept_and_says_why() {
    let now = at("2026-06-01T00:00:00Z");
    let entries = [entry("c", now + Duration::hours(1), &[])];
    let input = PlanInput {
        entries: &entries,
        content_sizes: &[],
    };
    let policy = policy_from_text("--cell c --unsafe-allow-remove-all --max-entries 0").unwrap();
    let p = plan(&input, &policy, now, &Utc).unwrap();
    assert_eq!(p.groups[0].keep[0].reasons, [KeepReason::Future]);
    assert!(
        !p.budget.met(),
        "the future entry is protected, so 0 entries is out of reach"
    );
}

#[test]
fn shared_contents_are_freed_only_with_their_last_reference() {
    let now = at("2026-06-01T00:00:00Z");
    let t = |d: i64| now - Duration::days(d);
    let entries = [
        entry("a", t(3), &[0, 1]),
        entry("a", t(2), &[0, 2]),
        entry("a", t(1), &[3]),
        // Out of scope (--cell a), but it still holds content 1.
        entry("b", t(5), &[1]),
    ];
    let sizes = [10, 100, 1_000, 10_000];
    let input = PlanInput {
        entries: &entries,
        content_sizes: &sizes,
    };
    let policy = policy_from_text("--cell a --keep-last 1").unwrap();
    let p = plan(&input, &policy, now, &Utc).unwrap();
    assert_eq!(p.removed(), [0, 1]);
    assert_eq!(p.freed_contents, [0, 2]);
    assert_eq!(p.totals.bytes_freed, 1_010);
    assert_eq!(p.totals.contents_shared_kept, 1);

    // --max-size counts the scope's own contents: content 1 stops counting once no in-scope
    // entry holds it, though entry 3 keeps its bytes on disk.
    let policy = policy_from_text("--cell a --max-size 10kB").unwrap();
    let p = plan(&input, &policy, now, &Utc).unwrap();
    let f = p.budget.max_size.unwrap();
    assert_eq!((f.before, f.after), (11_110, 10_000));
    assert_eq!(p.removed(), [0, 1]);
}

#[test]
fn lru_ties_go_to_the_bigger_entry_first() {
    let now = at("2026-06-01T00:00:00Z");
    let t = now - Duration::days(10);
    let entries = [
        entry("a", t, &[0]),
        entry("a", t, &[1]),
        entry("a", t, &[0]),
        entry("a", now, &[]),
    ];
    let sizes = [5, 50];
    // One must go: equal last_used, so the bigger (entry 1) goes; then the lower index.
    assert_eq!(removed(&entries, &sizes, "--max-entries 3", now), [1]);
    assert_eq!(removed(&entries, &sizes, "--max-entries 2", now), [0, 1]);
}

#[test]
fn a_content_index_out_of_range_is_a_runtime_error() {
    let now = at("2026-06-01T00:00:00Z");
    let entries = [entry("a", now, &[0, 7])];
    let input = PlanInput {
        entries: &entries,
        content_sizes: &[1, 2],
    };
    let err = plan(
        &input,
        &policy_from_text("--keep-last 1").unwrap(),
        now,
        &Utc,
    )
    .unwrap_err();
    assert_eq!(
        err,
        PolicyError::InvalidInput {
            entry: 0,
            content: 7,
            sizes: 2
        }
    );
    assert!(!err.is_usage());
    assert_eq!(
        err.to_string(),
        "entry 0 refers to content 7, but only 2 content sizes were given"
    );
}
