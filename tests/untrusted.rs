//! A cloned workspace is untrusted input (docs/RELIABILITY.md, "Threat model"): what a hostile
//! or broken `__marimo__/` can contain, and what each command does with it. Each test makes the
//! hostile file, runs the commands a user would, and asserts the outcome.

use crate::common::{celltime, tree, workspace};
use std::path::Path;

/// Puts two runs of one cell, each with its own large output (an object file), and folds them
/// into `map.toml`; returns the map's path.
fn two_runs_consolidated(ws: &Path) -> std::path::PathBuf {
    for (n, created) in ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"]
        .iter()
        .enumerate()
    {
        let code = ws.join(format!("code{n}.py"));
        std::fs::write(&code, format!("x = {n}\n")).unwrap();
        let big = ws.join(format!("big{n}.bin"));
        std::fs::write(&big, vec![n as u8 + 1; 100_000]).unwrap();
        celltime(ws)
            .args(["put", "--notebook", "nb", "--cell", "fit", "--module", "m"])
            .args(["--created-at", created, "--code"])
            .arg(&code)
            .arg("--output")
            .arg(format!("application/octet-stream={}", big.display()))
            .assert()
            .success();
    }
    celltime(ws).arg("consolidate").assert().success();
    ws.join("__marimo__/persist/nb/map.toml")
}

/// The line of the run created at `created` (a table per module version, a line per run).
fn run_line(map: &str, created: &str) -> String {
    let key = format!("\"{created}\" = ");
    map.lines()
        .find(|l| l.starts_with(&key))
        .unwrap()
        .to_string()
}

/// Runs consolidate, gc (no grace) and verify on a damaged map: each must fail naming the map
/// and its line, and no content may be swept.
fn refused_everywhere(ws: &Path, line: usize) {
    let before = tree(&ws.join("__marimo__/persist/nb"));
    for args in [
        &["consolidate"][..],
        &["gc", "--grace", "0s"],
        &["verify"],
        &["ls"],
    ] {
        let out = celltime(ws).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded: {stderr}");
        assert!(
            stderr.contains(&format!("map.toml:{line}")),
            "{args:?}: {stderr}"
        );
    }
    let after = tree(&ws.join("__marimo__/persist/nb"));
    let contents = |t: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>| {
        t.keys()
            .filter(|p| p.starts_with("objects") || p.starts_with("packs"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(contents(&before), contents(&after), "contents were swept");
}

#[test]
fn a_map_declaring_one_entry_table_twice_is_refused_and_nothing_is_swept() {
    let ws = workspace();
    let map = two_runs_consolidated(ws.path());
    let text = std::fs::read_to_string(&map).unwrap();
    // The second run, replaced by a copy of the first: TOML forbids the repeated key.
    let first = run_line(&text, "2026-01-01T00:00:00.000Z");
    let second = run_line(&text, "2026-01-02T00:00:00.000Z");
    let hostile = text.replace(&second, &first);
    std::fs::write(&map, &hostile).unwrap();
    let line = hostile[..hostile.rfind(&first).unwrap()].lines().count() + 1;
    refused_everywhere(ws.path(), line);
}

#[test]
fn a_map_spelling_one_instant_two_ways_is_refused_and_nothing_is_swept() {
    let ws = workspace();
    let map = two_runs_consolidated(ws.path());
    let text = std::fs::read_to_string(&map).unwrap();
    let first = run_line(&text, "2026-01-01T00:00:00.000Z");
    let second = run_line(&text, "2026-01-02T00:00:00.000Z");
    // Valid TOML: the same instant as the first entry, written with another offset.
    let respelled = first.replace("2026-01-01T00:00:00.000Z", "2026-01-01T01:00:00.000+01:00");
    let hostile = text.replace(&second, &respelled);
    std::fs::write(&map, &hostile).unwrap();
    let line = hostile[..hostile.find(&respelled).unwrap()].lines().count() + 1;
    refused_everywhere(ws.path(), line);
}
