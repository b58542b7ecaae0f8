//! The reading and maintenance commands on the demo workspace: what a user sees.

use crate::common::{celltime, demo, nb, store, workspace};
use assert_cmd::Command;
use predicates::prelude::*;

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

#[test]
fn listings_of_the_demo() {
    let dir = demo();
    insta::assert_snapshot!(
        "ls_notebooks",
        stdout(celltime(dir.path()).args(["ls", "--notebooks"]))
    );
    insta::assert_snapshot!(
        "ls_cells",
        stdout(celltime(dir.path()).args(["ls", "--cells"]))
    );
    insta::assert_snapshot!(
        "ls_entries_of_a_cell",
        stdout(celltime(dir.path()).args([
            "ls",
            "--notebook",
            "llm/*",
            "--cell",
            "weekly_summary"
        ]))
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(celltime(dir.path()).args(["ls", "--json"]))).unwrap();
    assert_eq!(json["entries"].as_array().unwrap().len(), 144);
}

#[test]
fn show_and_diff_an_entry() {
    let dir = demo();
    let json: serde_json::Value = serde_json::from_str(&stdout(celltime(dir.path()).args([
        "ls",
        "--json",
        "--notebook",
        "analysis/eda",
        "--cell",
        "load_data",
    ])))
    .unwrap();
    let newest = json["entries"][0]["id"].as_str().unwrap().to_string();
    let shown = stdout(celltime(dir.path()).args(["show", &newest[..6]]));
    insta::assert_snapshot!("show_load_data", shown);
    let html = stdout(celltime(dir.path()).args([
        "show",
        &newest[..6],
        "--part",
        "outputs:text/html",
        "--raw",
    ]));
    assert!(html.starts_with("<table>"), "{html}");
    insta::assert_snapshot!(
        "diff_load_data",
        stdout(celltime(dir.path()).args(["diff", &newest[..6]]))
    );
    celltime(dir.path())
        .args(["show", "0000"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no entry id starts with"));
}

#[test]
fn put_show_raw_and_maintenance() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("__marimo__")).unwrap();
    std::fs::write(dir.path().join("cell.py"), "total = sum(range(10))\n").unwrap();
    std::fs::write(dir.path().join("out.txt"), "45").unwrap();
    let id = stdout(celltime(dir.path()).args([
        "put",
        "--notebook",
        "nb",
        "--cell",
        "total",
        "--module",
        "abc",
        "--code",
        "cell.py",
        "--output",
        "text/plain=out.txt",
        "--created-at",
        "2026-11-25T10:00:00.000Z",
    ]));
    assert_eq!(id.trim().len(), 32);
    let raw = stdout(celltime(dir.path()).args(["show", &id[..8], "--part", "outputs", "--raw"]));
    assert_eq!(raw, "45");
    assert!(stdout(celltime(dir.path()).arg("verify")).contains("verify: ok"));
    assert!(stdout(celltime(dir.path()).args(["gc", "--grace", "0s"])).contains("nb: freed"));
    assert!(stdout(celltime(dir.path()).arg("consolidate")).contains("nb: 1 entry in map.toml"));
    celltime(dir.path())
        .args([
            "put",
            "--notebook",
            "../escape",
            "--cell",
            "c",
            "--module",
            "m",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("would leave the store"));
    assert!(!dir.path().join("escape").exists());
}

/// `put` appends one log record and returns; listings fold the log in, so the entries show
/// before anything is consolidated, and `consolidate` writes them into map.toml.
#[test]
fn puts_are_listed_before_consolidation() {
    let dir = demo();
    let map = dir.path().join("__marimo__/persist/analysis/eda/map.toml");
    let map_before = std::fs::read(&map).unwrap();
    std::fs::write(dir.path().join("cell.py"), "x = 2\n").unwrap();
    let mut ids = Vec::new();
    for module in ["m1", "m2"] {
        let put = celltime(dir.path())
            .args(["put", "--notebook", "analysis/eda", "--cell", "new"])
            .args(["--module", module, "--code", "cell.py"])
            .output()
            .unwrap();
        assert!(put.status.success(), "{put:?}");
        ids.push(String::from_utf8(put.stdout).unwrap().trim().to_string());
    }
    assert_eq!(
        std::fs::read(&map).unwrap(),
        map_before,
        "map.toml untouched"
    );
    let listed = stdout(celltime(dir.path()).args(["ls", "--json", "--cell", "new"]));
    for id in &ids {
        assert!(listed.contains(id.as_str()), "{id} not in {listed}");
    }
    stdout(celltime(dir.path()).arg("consolidate"));
    let map_after = std::fs::read_to_string(&map).unwrap();
    assert_eq!(map_after.matches("[entry.\"new\"").count(), 2);
}

/// `verify` and `show --raw` stream objects through a fixed buffer: with an object larger
/// than the memory the process may use (`ulimit -d`, 64 MiB of heap and other private
/// writable memory; the address-space limit `-v` would also count the debug binary's 60 MB
/// of code), both still work.
#[test]
fn verify_and_show_raw_of_an_object_larger_than_memory() {
    use celltime_store::model::NewPart;
    let dir = workspace();
    let big: Vec<u8> = (0..96u32 << 20).map(|i| (i % 251) as u8).collect();
    let mut entry = crate::common::entry("nb", "cell", "m", 1, "big");
    entry.parts = vec![NewPart::output("application/octet-stream", big.clone())];
    let id = store(dir.path())
        .notebook_for_write(&nb("nb"))
        .unwrap()
        .put(entry)
        .unwrap()
        .id();
    drop(big);
    let limited = |args: &str| {
        let binary = assert_cmd::cargo::cargo_bin("celltime");
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -d 65536 && exec \"$0\" {args}"))
            .arg(binary)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let verified = limited("verify");
    assert!(verified.status.success(), "{verified:?}");
    assert!(String::from_utf8_lossy(&verified.stdout).contains("96.0 MiB"));
    let shown = limited(&format!("show {} --part outputs --raw", id.short()));
    assert!(
        shown.status.success(),
        "{:?}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert_eq!(shown.stdout.len(), 96 << 20);
    assert!(
        shown
            .stdout
            .iter()
            .enumerate()
            .all(|(i, b)| *b == (i % 251) as u8)
    );
}

#[test]
fn outside_a_workspace_the_error_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    celltime(dir.path())
        .arg("ls")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no __marimo__ folder"));
}

/// Through the command line: `put` accepts such a time, and the notebook it writes can only be
/// read while `.index/` (never synced, never committed) still holds its snapshot. Either `put`
/// refuses the time or the notebook stays readable without the snapshot.
#[test]
fn put_with_a_far_time_leaves_a_readable_notebook() {
    let dir = workspace();
    let code = dir.path().join("code.py");
    std::fs::write(&code, "x = 1\n").unwrap();
    let put = celltime(dir.path())
        .args(["put", "--notebook", "nb", "--cell", "a", "--module", "m"])
        .args(["--created-at", "9999-12-31T23:59:59-01:00", "--code"])
        .arg(&code)
        .output()
        .unwrap();
    if !put.status.success() {
        return; // refused: fine
    }
    let index = dir.path().join("__marimo__/persist/nb/.index");
    std::fs::remove_dir_all(index).unwrap();
    let ls = celltime(dir.path()).arg("ls").output().unwrap();
    assert!(
        ls.status.success(),
        "{}",
        String::from_utf8_lossy(&ls.stderr)
    );
}
