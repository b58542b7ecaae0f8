//! The command line on legacy caches: backend choice, import, --cache-dir.

use super::fixture::copy;
use assert_cmd::Command;

fn celltime() -> Command {
    crate::common::celltime(&std::env::temp_dir())
}

fn ls_json(root: &std::path::Path, extra: &[&str]) -> Vec<serde_json::Value> {
    crate::common::listed(celltime().arg("ls").arg(root).arg("--json").args(extra))
}

/// Rows of `ls --json` whose copies are exactly `copies`.
fn with_copies(rows: &[serde_json::Value], copies: &[&str]) -> usize {
    rows.iter()
        .filter(|r| r["copies"] == serde_json::json!(copies))
        .count()
}

fn store_entries(root: &std::path::Path) -> usize {
    ls_json(root, &["--backend", "store"]).len()
}

fn cache_entries(root: &std::path::Path) -> usize {
    ls_json(root, &["--backend", "cache"]).len()
}

#[test]
fn ls_reads_the_legacy_cache_then_one_row_per_run_after_import() {
    let c = copy("demo");
    let rows = ls_json(&c.root, &[]);
    assert_eq!(rows.len(), 12);
    assert!(
        rows.iter()
            .all(|r| r["approximate_time"] == true && r["notebook"] == "notebook")
    );
    assert_eq!(with_copies(&rows, &["cache"]), 12);
    let out = celltime()
        .arg("import")
        .arg(&c.root)
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["imported"], 12);
    let rows = ls_json(&c.root, &[]);
    assert_eq!(rows.len(), 12, "12 runs, one row each");
    assert_eq!(with_copies(&rows, &["store", "cache"]), 12);
    assert!(rows.iter().all(|r| r["approximate_time"] == false));
    assert_eq!((store_entries(&c.root), cache_entries(&c.root)), (12, 12));
    let out = celltime().arg("import").arg(&c.root).output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
        format!(
            "imported 0 entries (0 B) from {}; 12 already in the store",
            c.root.join("__marimo__/cache").display()
        )
    );
}

#[test]
fn prune_after_import_counts_each_run_once_and_keeps_the_kept_runs_store_copies() {
    let c = copy("demo");
    celltime().arg("import").arg(&c.root).assert().success();
    assert_eq!((store_entries(&c.root), cache_entries(&c.root)), (12, 12));
    let out = celltime()
        .arg("prune")
        .arg(&c.root)
        .args(["--keep-last", "1", "--yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("removed 5 runs"), "{text}");
    assert!(text.contains("celltime trash --empty"), "{text}");
    // Seven cells, the newest run of each kept with both its copies.
    let rows = ls_json(&c.root, &[]);
    assert_eq!(rows.len(), 7);
    assert_eq!(with_copies(&rows, &["store", "cache"]), 7);
    assert_eq!((store_entries(&c.root), cache_entries(&c.root)), (7, 7));

    // One undo brings back both copies of every removed run.
    celltime()
        .arg("undo")
        .arg("-C")
        .arg(&c.root)
        .assert()
        .success();
    assert_eq!((store_entries(&c.root), cache_entries(&c.root)), (12, 12));
    assert_eq!(with_copies(&ls_json(&c.root, &[]), &["store", "cache"]), 12);
}

#[test]
fn trash_restore_brings_back_the_store_copies_too() {
    let c = copy("demo");
    celltime().arg("import").arg(&c.root).assert().success();
    celltime()
        .arg("prune")
        .arg(&c.root)
        .args(["--keep-last", "1", "--yes"])
        .assert()
        .success();
    celltime()
        .arg("trash")
        .arg(&c.root)
        .arg("--restore")
        .assert()
        .success();
    assert_eq!((store_entries(&c.root), cache_entries(&c.root)), (12, 12));
}

#[test]
fn backend_limits_prune_to_one_backend() {
    let c = copy("demo");
    celltime().arg("import").arg(&c.root).assert().success();
    celltime()
        .arg("prune")
        .arg(&c.root)
        .args(["--keep-last", "1", "--backend", "cache", "--yes"])
        .assert()
        .success();
    assert_eq!((store_entries(&c.root), cache_entries(&c.root)), (12, 7));
    let rows = ls_json(&c.root, &[]);
    assert_eq!(rows.len(), 12);
    assert_eq!(with_copies(&rows, &["store"]), 5);
}

#[test]
fn show_previews_decoded_variables() {
    let c = copy("demo");
    let rows = ls_json(&c.root, &["--cell", "lazy_block"]);
    let id = rows[0]["id"].as_str().unwrap();
    let out = celltime()
        .args(["show", &id[..10]])
        .arg(&c.root)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]"),
        "{text}"
    );
    assert!(text.contains("[1, 'two', 3.0]"), "{text}");
    assert!(text.contains("0.15090341976026755"), "{text}");
}

#[test]
fn cache_dir_points_at_a_save_path() {
    let c = copy("signed");
    let save = c.root.join("custom");
    std::fs::rename(c.root.join("__marimo__/cache"), &save).unwrap();
    let rows = ls_json(&c.root, &["--cache-dir", save.to_str().unwrap()]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["notebook"], "notebook");
    let out = celltime()
        .arg("ls")
        .arg(&c.root)
        .args(["--cache-dir", "/nonexistent/x"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x"));
}

#[test]
fn prune_works_on_the_legacy_cache_and_stays_undoable() {
    let c = copy("demo");
    let out = celltime()
        .arg("prune")
        .arg(&c.root)
        .args(["--keep-last", "1", "--yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(ls_json(&c.root, &[]).len(), 7);
    let cache = c.root.join("__marimo__/cache");
    let batches = celltime_store::legacy::trash::batches(&cache).unwrap();
    assert_eq!(batches.len(), 1, "removed entries wait in the trash");
    let listed = celltime().arg("trash").arg(&c.root).output().unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains(".celltime-trash"));

    // Undo from the command line puts the entries back.
    celltime()
        .arg("trash")
        .arg(&c.root)
        .arg("--restore")
        .assert()
        .success();
    assert_eq!(ls_json(&c.root, &[]).len(), 12);
    assert!(
        celltime_store::legacy::trash::batches(&cache)
            .unwrap()
            .is_empty()
    );

    celltime()
        .arg("prune")
        .arg(&c.root)
        .args(["--keep-last", "1", "--yes"])
        .assert()
        .success();
    celltime()
        .arg("trash")
        .arg(&c.root)
        .arg("--empty")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("pass --yes"));
    celltime()
        .arg("trash")
        .arg(&c.root)
        .args(["--empty", "--yes"])
        .assert()
        .success();
    assert!(
        celltime_store::legacy::trash::batches(&cache)
            .unwrap()
            .is_empty()
    );
    assert_eq!(ls_json(&c.root, &[]).len(), 7);
}
