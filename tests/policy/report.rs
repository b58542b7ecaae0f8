//! The dry-run output, snapshotted whole: human text and the versioned JSON document.

use celltime::cli::policy_args::policy_from_text;
use celltime_store::policy::{EntryLabel, ReportContext, ReportFormat, plan};
use chrono_tz::Europe::Berlin;

use super::fixture::{Fixture, NOW, at, id};

/// The text and the JSON document of a policy's plan; `verbose` JSON lists every kept entry.
fn snapshots(name: &str, text: &str, verbose: bool) {
    let fixture = Fixture::new();
    let input = fixture.input();
    let policy = policy_from_text(text).expect("valid policy");
    let plan = plan(&input, &policy, at(NOW), &Berlin).expect("plans");
    let report = ReportContext {
        input: &input,
        policy: &policy,
        plan: &plan,
        tz: &Berlin,
        tz_name: "Europe/Berlin",
    };
    let label = |i: usize| EntryLabel {
        id: id(i),
        size: input.entry_size(i),
    };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!(format!("policy_report__{name}_text"), report.text(label));
        let format = ReportFormat::Json {
            dry_run: true,
            verbose,
        };
        let json: serde_json::Value =
            serde_json::from_str(&report.render(format, label)).expect("valid JSON");
        insta::assert_json_snapshot!(format!("policy_report__{name}_json"), json);
    });
}

#[test]
fn keep_rules_report() {
    snapshots(
        "keep",
        "--notebook 'analysis/**' --keep-daily 2 --keep-within 14d",
        false,
    );
}

#[test]
fn budget_not_met_report() {
    snapshots(
        "budget",
        "--cell fit --cell plot --keep-monthly 3 --max-size 2MB --max-entries 4",
        true,
    );
}

#[test]
fn nothing_to_remove_report() {
    let fixture = Fixture::new();
    let input = fixture.input();
    let policy = policy_from_text("--keep-last all").expect("valid policy");
    let plan = plan(&input, &policy, at(NOW), &chrono::Utc).expect("plans");
    let report = ReportContext {
        input: &input,
        policy: &policy,
        plan: &plan,
        tz: &chrono::Utc,
        tz_name: "UTC",
    };
    assert!(plan.budget_met());
    assert_eq!(
        report.summary(),
        "Summary: nothing to remove; keep 40 entries in 6 groups.\n"
    );
}
