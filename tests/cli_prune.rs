//! `celltime prune` as scripts and people use it: every refusal, the human and JSON plans,
//! dry-run equal to the real run, the default policy in persist.toml, and exit codes.

use crate::common::{celltime, demo, tree};
use predicates::prelude::*;
use predicates::str::contains;
use std::path::Path;

fn unchanged(dir: &Path, run: impl FnOnce()) {
    let strip = |mut t: std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>| {
        t.retain(|p, _| !p.ends_with(".lock"));
        t
    };
    let before = strip(tree(dir));
    run();
    assert_eq!(before, strip(tree(dir)), "the command changed files");
}

#[test]
fn refusals_exit_2_and_change_nothing() {
    let dir = demo();
    let cases: &[(&[&str], &str)] = &[
        (&["prune"], "no policy given; nothing removed"),
        (
            &["prune", "--keep-within", "5m"],
            "ambiguous unit 'm': use 'min' or 'mo'",
        ),
        (&["prune", "--max-size", "5GB5"], "--max-size"),
        (&["prune", "--keep-last", "-1"], "all"),
        (
            &["prune", "--keep-last", "2", "--unsafe-allow-remove-all"],
            "add --notebook GLOB or --cell NAME",
        ),
        (
            &["prune", "--keep-last", "2"],
            "stdin is not a terminal: pass --yes",
        ),
        (
            &["prune", "--keep-last", "2", "--notebook", "a/["],
            "--notebook",
        ),
    ];
    for (args, message) in cases {
        unchanged(dir.path(), || {
            celltime(dir.path())
                .args(*args)
                .assert()
                .code(2)
                .stderr(contains(*message));
        });
    }
}

#[test]
fn dry_run_shows_reasons_and_matches_the_real_run() {
    let dir = demo();
    let policy = [
        "--keep-last",
        "2",
        "--keep-versions",
        "2",
        "--notebook",
        "llm/*",
    ];
    let dry = celltime(dir.path())
        .arg("prune")
        .args(policy)
        .arg("--dry-run")
        .assert()
        .success();
    let text = String::from_utf8(dry.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("notebook llm/summaries · cell weekly_summary"),
        "{text}"
    );
    assert!(
        text.contains("last, newest of cell") || text.contains("newest of cell"),
        "{text}"
    );
    assert!(text.contains("pinned"), "pins are reasons: {text}");
    assert!(text.contains("Summary: remove"), "{text}");

    let json = celltime(dir.path())
        .arg("prune")
        .args(policy)
        .args(["--dry-run", "--json"])
        .assert()
        .success();
    let plan: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(plan["schema"], "celltime.prune.v2");
    assert_eq!(plan["dry_run"], true);
    let planned: std::collections::BTreeSet<String> = plan["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| {
            g["remove"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap()[..10].to_string())
        })
        .collect();
    assert!(!planned.is_empty());
    // Kept entries are summarised; --verbose lists them.
    let groups = plan["groups"].as_array().unwrap();
    assert!(
        groups
            .iter()
            .all(|g| g["keep"].is_null() && g["kept"]["entries"].is_u64())
    );
    let verbose = celltime(dir.path())
        .arg("prune")
        .args(policy)
        .args(["--dry-run", "--json", "--verbose"])
        .assert()
        .success();
    let verbose: serde_json::Value = serde_json::from_slice(&verbose.get_output().stdout).unwrap();
    for (brief, full) in groups.iter().zip(verbose["groups"].as_array().unwrap()) {
        let listed = full["keep"].as_array().unwrap().len() as u64;
        assert_eq!(Some(listed), brief["kept"]["entries"].as_u64());
    }

    let before = ids(dir.path());
    celltime(dir.path())
        .arg("prune")
        .args(policy)
        .arg("--yes")
        .assert()
        .success()
        .stdout(contains("removed"));
    let after = ids(dir.path());
    let removed: std::collections::BTreeSet<String> = before.difference(&after).cloned().collect();
    assert_eq!(
        removed, planned,
        "the dry run planned exactly what the run removed"
    );

    // Running the same policy on its own result removes nothing.
    celltime(dir.path())
        .arg("prune")
        .args(policy)
        .arg("--dry-run")
        .assert()
        .success()
        .stdout(
            contains("remove 0 entries")
                .or(contains("nothing to remove"))
                .or(contains("Summary: remove 0")),
        );
    celltime(dir.path()).arg("verify").assert().success();
}

fn ids(dir: &Path) -> std::collections::BTreeSet<String> {
    let out = celltime(dir).args(["ls", "--json"]).assert().success();
    let rows: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    rows["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap()[..10].to_string())
        .collect()
}

#[test]
fn the_default_policy_lives_in_persist_toml_and_keeps_its_comments() {
    let dir = demo();
    let config = dir.path().join("__marimo__/persist/persist.toml");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("# our team's rule: keep a month\n{original}"),
    )
    .unwrap();
    celltime(dir.path())
        .args([
            "prune",
            "--keep-within",
            "30d",
            "--keep-last",
            "3",
            "--save-default",
        ])
        .assert()
        .success()
        .stdout(contains("--keep-last 3 --keep-within 30d"));
    let saved = std::fs::read_to_string(&config).unwrap();
    assert!(
        saved.starts_with("# our team's rule: keep a month\n"),
        "{saved}"
    );
    assert!(
        saved.contains("# Contents up to this size go into SQLite packs"),
        "{saved}"
    );
    assert!(
        saved.contains("keep-last = 3") && saved.contains("keep-within = \"30d\""),
        "{saved}"
    );

    let dry = celltime(dir.path())
        .args(["prune", "--dry-run"])
        .assert()
        .success();
    let text = String::from_utf8(dry.get_output().stdout.clone()).unwrap();
    assert!(
        text.starts_with("Policy: --keep-last 3 --keep-within 30d"),
        "{text}"
    );

    std::fs::write(&config, "[prune]\nkeep-lats = 3\n").unwrap();
    celltime(dir.path())
        .args(["prune", "--dry-run"])
        .assert()
        .code(2)
        .stderr(contains("persist.toml").and(contains("keep-lats")));
}

#[test]
fn an_unmet_budget_exits_3() {
    let dir = demo();
    celltime(dir.path())
        .args(["prune", "--max-size", "1KiB", "--dry-run"])
        .assert()
        .code(3)
        .stdout(contains("budget"));
}

#[test]
fn a_busy_store_exits_75() {
    let dir = demo();
    let lock = dir.path().join("__marimo__/persist/llm/summaries/.lock");
    let held = std::fs::OpenOptions::new().write(true).open(&lock).unwrap();
    held.lock().unwrap();
    celltime(dir.path())
        .args(["prune", "--keep-last", "1", "--yes", "--lock-timeout", "0s"])
        .assert()
        .code(75)
        .stderr(contains("locked by another"));
}

#[test]
fn pin_protects_from_prune() {
    let dir = demo();
    let out = celltime(dir.path())
        .args([
            "ls",
            "--json",
            "--notebook",
            "analysis/eda",
            "--cell",
            "load_data",
        ])
        .assert()
        .success();
    let rows: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let oldest = rows["entries"].as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    celltime(dir.path())
        .args(["pin", &oldest[..8]])
        .assert()
        .success()
        .stdout(contains("pinned 1 entry"));
    celltime(dir.path())
        .args([
            "prune",
            "--keep-last",
            "1",
            "--notebook",
            "analysis/eda",
            "--yes",
        ])
        .assert()
        .success();
    let remaining = ids(dir.path());
    assert!(
        remaining.contains(&oldest[..10]),
        "the pinned entry survived"
    );
    celltime(dir.path())
        .args(["unpin", &oldest[..8]])
        .assert()
        .success()
        .stdout(contains("unpinned 1 entry"));
}

/// docs/PRUNE.md quotes messages; each row of its table of refusals is run here and its
/// quoted message must be what the program prints (exit 2, nothing changed).
#[test]
fn the_messages_prune_md_quotes_are_the_ones_printed() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/PRUNE.md")).unwrap();
    let rows: Vec<(String, String)> = doc
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, input, result, _] = cells.as_slice() else {
                return None;
            };
            let unquote = |c: &str| c.strip_prefix('`')?.strip_suffix('`').map(str::to_string);
            let message = unquote(result)?;
            let input = if input.starts_with('(') {
                String::new()
            } else {
                unquote(input)?
            };
            Some((input, message))
        })
        .filter(|(input, _)| input.is_empty() || input.starts_with("--"))
        .collect();
    assert!(rows.len() >= 9, "the table of refusals: {rows:?}");
    let dir = demo();
    for (input, message) in rows {
        unchanged(dir.path(), || {
            celltime(dir.path())
                .arg("prune")
                .args(input.split_whitespace())
                .assert()
                .code(2)
                .stderr(contains(message.as_str()));
        });
    }
    // The [prune] table's errors name the key once.
    std::fs::write(
        dir.path().join("__marimo__/persist/persist.toml"),
        "format = 1\n[prune]\nkeep-within = \"5m\"\n",
    )
    .unwrap();
    celltime(dir.path())
        .args(["prune", "--dry-run"])
        .assert()
        .code(2)
        .stderr(contains(
            "[prune] keep-within: ambiguous unit 'm': use 'min' or 'mo'",
        ))
        .stderr(contains("[prune] [prune]").not());
}

/// The pre-commit hooks run their `entry` as pre-commit does (no terminal, no filenames):
/// with a saved policy they prune and consolidate; without one prune fails and says how to
/// save one.
#[test]
fn the_pre_commit_hooks_prune_with_the_saved_policy_and_consolidate() {
    let hooks = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.pre-commit-hooks.yaml"
    ))
    .unwrap();
    let entries: Vec<Vec<String>> = hooks
        .lines()
        .filter_map(|l| l.trim().strip_prefix("entry: "))
        .map(|e| e.split_whitespace().map(str::to_string).collect())
        .collect();
    assert_eq!(entries.len(), 2, "{hooks}");
    assert!(hooks.contains("pass_filenames: false"));
    let run = |dir: &Path, entry: &[String]| {
        assert_eq!(entry[0], "celltime");
        celltime(dir).args(&entry[1..]).assert()
    };
    let dir = demo();
    run(dir.path(), &entries[0])
        .code(2)
        .stderr(contains("--save-default"));
    celltime(dir.path())
        .args(["prune", "--keep-last", "1", "--save-default"])
        .assert()
        .success();
    let before = ids(dir.path()).len();
    run(dir.path(), &entries[0])
        .success()
        .stdout(contains("removed"));
    assert!(ids(dir.path()).len() < before);
    run(dir.path(), &entries[1])
        .success()
        .stdout(contains("map.toml"));
}
