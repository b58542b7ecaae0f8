//! Golden plans (restic's policy_keep_snapshots_N files): every flag alone and common
//! combinations over the fixture, under UTC and Europe/Berlin. Each snapshot shows the Berlin
//! plan only where it differs from UTC, so calendar-sensitive cases stand out.

use celltime::cli::policy_args::policy_from_text;
use celltime_store::policy::{Plan, plan};
use chrono::Utc;
use chrono_tz::Europe::Berlin;
use serde_json::{Value, json};

use super::fixture::{Fixture, NOW, at, id};

const POLICIES: [(&str, &str); 33] = [
    ("keep-last-1", "--keep-last 1"),
    ("keep-last-3", "--keep-last 3"),
    ("keep-last-all", "--keep-last all"),
    ("keep-within-30d", "--keep-within 30d"),
    ("keep-within-2mo", "--keep-within 2mo"),
    ("keep-daily-3", "--keep-daily 3"),
    ("keep-daily-all", "--keep-daily all"),
    ("keep-weekly-3", "--keep-weekly 3"),
    ("keep-weekly-all", "--keep-weekly all"),
    ("keep-monthly-4", "--keep-monthly 4"),
    ("keep-monthly-all", "--keep-monthly all"),
    ("keep-versions-1", "--keep-versions 1"),
    ("keep-versions-2", "--keep-versions 2"),
    ("max-age-30d", "--max-age 30d"),
    ("max-age-6mo", "--max-age 6mo"),
    ("max-size-10MB", "--max-size 10MB"),
    ("max-size-0", "--max-size 0"),
    ("max-entries-20", "--max-entries 20"),
    ("max-entries-0", "--max-entries 0"),
    (
        "restic-classic",
        "--keep-daily 7 --keep-weekly 4 --keep-monthly 3",
    ),
    ("last-and-within", "--keep-last 2 --keep-within 14d"),
    ("within-then-max-age", "--keep-within 30d --max-age 90d"),
    ("last-then-max-size", "--keep-last 2 --max-size 5MB"),
    (
        "versions-then-max-entries",
        "--keep-versions 2 --max-entries 15",
    ),
    ("group-by-notebook", "--group-by notebook --keep-last 2"),
    ("group-by-none", "--group-by none --keep-daily 5"),
    ("scope-glob-star", "--notebook 'analysis/*' --keep-last 1"),
    (
        "scope-globstar",
        "--notebook 'analysis/**' --keep-monthly 2",
    ),
    ("scope-cells", "--cell plot --cell tmp --keep-last 1"),
    (
        "unsafe-empty-scratch",
        "--notebook scratch --unsafe-allow-remove-all --max-entries 0",
    ),
    (
        "unsafe-with-keep",
        "--notebook 'reports/*' --unsafe-allow-remove-all --keep-within 7d",
    ),
    (
        "all-budgets",
        "--max-age 30d --max-size 8MB --max-entries 25",
    ),
    (
        "budget-not-met",
        "--keep-last 1 --keep-daily 2 --keep-weekly 2 --keep-monthly 2 --max-size 2MB",
    ),
];

/// The plan in a form a reviewer can check by eye: ids newest first, reasons inline.
fn compact(p: &Plan) -> Value {
    let groups: Vec<Value> = p
        .groups
        .iter()
        .map(|g| {
            let name = [g.notebook.as_deref(), g.cell.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            let keep: Vec<String> = g
                .keep
                .iter()
                .map(|k| {
                    let reasons: Vec<String> = k.reasons.iter().map(|r| r.to_string()).collect();
                    format!("{}: {}", id(k.entry), reasons.join(", "))
                })
                .collect();
            let remove: Vec<String> = g
                .remove
                .iter()
                .map(|r| match r.by {
                    Some(by) => format!("{} ({by})", id(r.entry)),
                    None => id(r.entry),
                })
                .collect();
            json!({ "group": if name.is_empty() { "all".to_string() } else { name }, "keep": keep, "remove": remove })
        })
        .collect();
    json!({ "groups": groups, "totals": p.totals, "budget_met": p.budget.met(), "budget": p.budget })
}

#[test]
fn golden_policies_under_utc_and_berlin() {
    let fixture = Fixture::new();
    let input = fixture.input();
    let now = at(NOW);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (name, text) in POLICIES {
            let policy = policy_from_text(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let utc = compact(&plan(&input, &policy, now, &Utc).expect("plans"));
            let berlin = compact(&plan(&input, &policy, now, &Berlin).expect("plans"));
            let berlin = if berlin == utc {
                json!("same as UTC")
            } else {
                berlin
            };
            let snapshot =
                json!({ "policy": policy.to_text(), "UTC": utc, "Europe/Berlin": berlin });
            insta::assert_json_snapshot!(format!("policy_golden__{name}"), snapshot);
        }
    });
}
