//! One history a user can trust, from the command line: the operation log and undo, ids
//! resolved before anything changes, honest results, and `import --watch` following marimo.

use crate::common::{celltime, demo, listed};
use std::path::Path;
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// A bound on waiting for the watcher's next report: a guard against a hang (the test then
/// fails), never a timing assertion.
const REPORT_BOUND: Duration = Duration::from_secs(60);

fn ls(dir: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    listed(celltime(dir).args(["ls", "--json"]).args(extra))
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn pin_with_one_bad_id_changes_nothing() {
    let dir = demo();
    let rows = ls(dir.path(), &[]);
    let good = rows.iter().find(|r| r["pinned"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = ls(dir.path(), &[]);
    let out = celltime(dir.path())
        .args(["pin", &good[..10], "ffffffffff"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("ffffffffff"), "{}", stderr(&out));
    assert_eq!(
        ls(dir.path(), &[]),
        before,
        "the good id was not pinned either"
    );
    let log = celltime(dir.path()).args(["op", "log"]).output().unwrap();
    assert!(String::from_utf8_lossy(&log.stdout).contains("no operations yet"));

    // Both good: both pinned, one operation, undone by `celltime undo`.
    let other = rows.iter().filter(|r| r["pinned"] == false).nth(1).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    celltime(dir.path())
        .args(["pin", &good[..10], &other[..10]])
        .assert()
        .success()
        .stdout("pinned 2 entries\n");
    celltime(dir.path()).arg("undo").assert().success();
    assert_eq!(ls(dir.path(), &[]), before);
}

#[test]
fn op_log_says_who_did_what_and_undo_reverses_a_prune() {
    let dir = demo();
    let before = ls(dir.path(), &[]);
    let out = celltime(dir.path())
        .args(["prune", "--keep-last", "1", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("`celltime undo` puts them back"), "{text}");
    assert!(
        text.contains("gc_grace") && text.contains("`celltime gc`"),
        "names what really frees the space: {text}"
    );
    let after = ls(dir.path(), &[]);
    assert!(after.len() < before.len());

    let out = celltime(dir.path())
        .args(["op", "log", "--json"])
        .output()
        .unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["schema"], "celltime.op-log.v1");
    let op = &log["operations"][0];
    assert_eq!(op["kind"], "prune");
    assert_eq!(op["writer"], crate::common::WRITER);
    assert!(op["command"].as_str().unwrap().contains("--keep-last 1"));
    assert!(op["pid"].as_u64().unwrap() > 0 && op["host"].is_string());
    assert_eq!(op["entries"], (before.len() - after.len()) as u64);
    assert_eq!(op["ok"], true);
    assert_eq!(op["id"].as_str().unwrap().len(), 32);

    celltime(dir.path())
        .args(["undo", &op["id"].as_str().unwrap()[..8]])
        .assert()
        .success();
    assert_eq!(ls(dir.path(), &[]), before);
    let log = celltime(dir.path()).args(["op", "log"]).output().unwrap();
    let text = String::from_utf8_lossy(&log.stdout);
    assert!(
        text.contains("(undone)") && text.contains("undo "),
        "{text}"
    );
    celltime(dir.path())
        .arg("undo")
        .assert()
        .success()
        .stdout(predicates::str::contains("nothing to undo"));
}

#[test]
fn undo_of_an_import_removes_what_it_added() {
    let c = crate::legacy::fixture::copy("demo");
    celltime(&c.root).arg("import").assert().success();
    assert_eq!(ls(&c.root, &["--backend", "store"]).len(), 12);
    celltime(&c.root).arg("undo").assert().success();
    let rows = ls(&c.root, &["--backend", "store"]);
    assert!(rows.is_empty(), "the imported entries are gone again");
    assert_eq!(ls(&c.root, &[]).len(), 12, "marimo's cache is untouched");
}

#[test]
fn commands_about_the_store_say_when_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("__marimo__")).unwrap();
    for command in ["verify", "gc", "consolidate"] {
        let out = celltime(dir.path()).arg(command).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}");
        assert!(
            stderr(&out).contains("has no celltime store"),
            "{}",
            stderr(&out)
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("ok"));
    }
}

#[test]
fn a_notebook_glob_that_matches_nothing_is_said() {
    let dir = demo();
    let out = celltime(dir.path())
        .args(["ls", "--notebook", "nope/*"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no notebook matches --notebook nope/*"),
        "{}",
        stderr(&out)
    );
    let out = celltime(dir.path())
        .args(["prune", "--notebook", "nope/*", "--keep-last", "1", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("no notebook matches"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn show_part_fails_when_the_part_is_missing_or_unreadable() {
    let dir = demo();
    let row = ls(dir.path(), &[]).remove(0);
    let id = &row["id"].as_str().unwrap()[..10];
    let out = celltime(dir.path())
        .args(["show", id, "--part", "outputs:image/x-nothing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("has no part outputs:image/x-nothing"),
        "{}",
        stderr(&out)
    );
    celltime(dir.path())
        .args(["show", id, "--part", "code"])
        .assert()
        .success();
    // Damage every pack and object: the code part can no longer be read.
    let notebook = row["notebook"].as_str().unwrap();
    let folder = dir.path().join("__marimo__/persist").join(notebook);
    for sub in ["packs", "objects"] {
        let _ = std::fs::remove_dir_all(folder.join(sub));
    }
    let out = celltime(dir.path())
        .args(["show", id, "--part", "code"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("unavailable"));
}

/// The watcher's next JSON report (one per pass that imported something).
fn next_report(
    reports: &Receiver<serde_json::Value>,
    child: &mut std::process::Child,
) -> serde_json::Value {
    match reports.recv_timeout(REPORT_BOUND) {
        Ok(report) => report,
        Err(e) => {
            let _ = child.kill();
            panic!("no report from import --watch: {e}");
        }
    }
}

/// A copy of the demo cache (with the fixture's file times) put in place in one rename, as
/// a folder appearing at once.
fn place_cache(root: &Path, extra_entry: bool) {
    let staged = crate::legacy::fixture::copy("demo");
    let cache = staged.root.join("__marimo__/cache");
    if extra_entry {
        let block = cache.join("pure_block");
        std::fs::copy(
            block.join("P_TLCXXznqVSvkMXatdzO3gS8ANq5gjGF-fyjDgOvKHj8.pickle"),
            block.join("P_TLCXXznqVSvkMXatdzO3gS8ANq5gjGF-fyjDgOvKHj9.pickle"),
        )
        .unwrap();
    }
    let parked = root.join("__marimo__/.cache-staged");
    // Same file system as the workspace, so the last step is one rename.
    copy_dir(&cache, &parked);
    std::fs::rename(&parked, root.join("__marimo__/cache")).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).unwrap();
            let time = item.metadata().unwrap().modified().unwrap();
            std::fs::File::options()
                .write(true)
                .open(&target)
                .unwrap()
                .set_modified(time)
                .unwrap();
        }
    }
}

#[test]
fn import_watch_starts_before_marimo_and_survives_the_cache_folder_being_deleted() {
    let c = crate::legacy::fixture::copy("demo");
    let root = c.root.clone();
    std::fs::rename(root.join("__marimo__/cache"), root.join("old-cache")).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("celltime"))
        .current_dir(&root)
        .env("CELLTIME_WRITER", crate::common::WRITER)
        .args(["import", "--watch", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, reports) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // JSON Lines: one whole document per line and pass.
        for line in std::io::BufRead::lines(stdout).map_while(Result::ok) {
            let report: serde_json::Value = serde_json::from_str(&line).expect("one document");
            crate::json_schema::check(
                celltime::cli::json::Kind::Import,
                "import --watch --json",
                &report,
            );
            let _ = tx.send(report);
        }
    });
    // marimo's first run: the whole cache folder appears.
    place_cache(&root, false);
    assert_eq!(next_report(&reports, &mut child)["imported"], 12);
    // The folder is deleted and made again with one new entry.
    std::fs::remove_dir_all(root.join("__marimo__/cache")).unwrap();
    place_cache(&root, true);
    let report = next_report(&reports, &mut child);
    assert_eq!(report["imported"], 1, "{report}");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(ls(&root, &["--backend", "store"]).len(), 13);
}

#[test]
fn trash_restore_of_a_batch_no_operation_names_is_an_operation_itself() {
    let c = crate::legacy::fixture::copy("demo");
    let history = crate::legacy::fixture::legacy(&c.root);
    let loaded = history.load().unwrap();
    let entry = loaded.scan.entries[0].clone();
    // A batch as an older celltime made it: no operation records it.
    celltime_store::legacy::trash::move_to_trash(
        history.root(),
        "20260101T000000.000Z-old",
        &[&entry],
    )
    .unwrap();
    assert_eq!(ls(&c.root, &[]).len(), 11);
    celltime(&c.root)
        .args(["trash", "--restore"])
        .assert()
        .success()
        .stdout(predicates::str::contains("restored 1 entry from"));
    assert_eq!(ls(&c.root, &[]).len(), 12);
    let out = celltime(&c.root)
        .args(["op", "log", "--json"])
        .output()
        .unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["operations"][0]["kind"], "trash-restore");
    // And undone like any other: the entry goes back to the trash.
    celltime(&c.root).arg("undo").assert().success();
    assert_eq!(ls(&c.root, &[]).len(), 11);
}
