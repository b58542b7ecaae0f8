//! Crash at every named step of put, remove, pin, consolidate and gc: a child process (this
//! test binary, re-run) aborts at the failpoint, as a power cut or `kill -9` would end it;
//! then a fresh reader must find every acknowledged entry and every live content, `verify`
//! must pass, and re-running the interrupted operation must converge.

use celltime_store::model::{EntryId, PartMask};
use celltime_store::testing::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Two entries, the second with a large (object) content, consolidated: the state before
/// every crash.
fn prepare(dir: &Path) -> Vec<EntryId> {
    let mut notebook = store(dir).notebook_for_write(&nb("nb")).unwrap();
    let mut big = entry("nb", "cell", "m1", 2, "big");
    big.parts.push(celltime_store::model::NewPart::output(
        "image/png",
        vec![7; 150_000],
    ));
    let keys = notebook
        .put_batch(vec![entry("nb", "cell", "m1", 1, "small"), big])
        .unwrap();
    notebook.consolidate().unwrap();
    keys.iter().map(|k| k.id()).collect()
}

/// The operation the child runs (and the parent re-runs to converge).
fn operate(dir: &Path, op: &str) {
    if op == "append" {
        // As `celltime put` writes: one log record, no consolidation unless the log is long.
        store(dir)
            .append(
                &nb("nb"),
                vec![
                    entry("nb", "cell", "m2", 10, "new"),
                    entry("nb", "other", "m3", 11, "new"),
                ],
            )
            .unwrap();
        return;
    }
    let mut notebook = store(dir).notebook_for_write(&nb("nb")).unwrap();
    // Targets are found by key, so re-running an operation acts on the same entries.
    let at = |ms: i64| -> Vec<EntryId> {
        let views = notebook.index().views();
        views
            .iter()
            .filter(|v| v.created_at.millis() == ms)
            .map(|v| v.id)
            .collect()
    };
    let (small, big) = (at(1), at(2));
    match op {
        "put" => {
            notebook
                .put_batch(vec![
                    entry("nb", "cell", "m2", 10, "new"),
                    entry("nb", "other", "m3", 11, "new"),
                ])
                .unwrap();
        }
        "remove" => {
            notebook.remove(&big).unwrap();
        }
        "pin" => {
            notebook.pin(&small).unwrap();
        }
        "used" => {
            notebook
                .touch(&small, celltime_store::model::Timestamp(5))
                .unwrap();
        }
        "gc" => {
            notebook.remove(&big).unwrap();
            notebook.gc(Duration::ZERO).unwrap();
        }
        other => panic!("unknown operation {other}"),
    }
    notebook.consolidate().unwrap();
}

#[test]
#[ignore = "run by the crash tests as a child process"]
fn crash_child() {
    let dir = std::env::var("CELLTIME_CRASH_DIR").expect("child of a crash test");
    let op = std::env::var("CELLTIME_CRASH_OP").expect("child of a crash test");
    operate(Path::new(&dir), &op);
}

/// Runs `op` in a child that aborts at `point`; returns whether it really aborted there.
fn crash(dir: &Path, op: &str, point: &str) -> bool {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "store_crash::crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CELLTIME_CRASH_DIR", dir)
        .env("CELLTIME_CRASH_OP", op)
        .env("CELLTIME_FAILPOINT", point)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stderr).contains(&format!("failpoint {point}: aborting"))
}

fn state(dir: &Path) -> BTreeMap<EntryId, bool> {
    visible(dir, "nb")
}

fn assert_healthy(dir: &Path) {
    let notebook = store(dir).notebook(&nb("nb")).unwrap();
    let report = notebook.verify().unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.problems);
    for view in notebook.index().views() {
        let fetched = notebook.get(view.id, PartMask::all()).unwrap();
        assert!(
            fetched.parts.iter().all(|(_, bytes)| bytes.is_ok()),
            "entry {} lost a content",
            view.id.short()
        );
    }
}

/// Crashes `op` at `point`, checks the state a reader sees with `expect`, then re-runs the
/// operation and checks it converges to the state of a run that never crashed.
fn scenario(op: &str, point: &str, expect: impl Fn(&BTreeMap<EntryId, bool>, &[EntryId])) {
    let dir = workspace();
    let ids = prepare(dir.path());
    assert!(crash(dir.path(), op, point), "{op} never reached {point}");
    let after_crash = state(dir.path());
    expect(&after_crash, &ids);
    assert_healthy(dir.path());

    operate(dir.path(), op);
    assert_healthy(dir.path());
    let reference = workspace();
    prepare(reference.path());
    operate(reference.path(), op);
    // Keys (and so ids) are deterministic, so the two stores must list the very same entries.
    assert_eq!(
        state(dir.path()),
        state(reference.path()),
        "{op} at {point} did not converge"
    );
}

#[test]
fn put_crashing_before_its_log_record_leaves_only_garbage() {
    scenario("put", "put.after_content", |state, ids| {
        assert_eq!(state.len(), 2);
        assert!(ids.iter().all(|id| state.contains_key(id)));
    });
}

#[test]
fn put_crashing_after_its_log_record_is_acknowledged() {
    scenario("put", "put.after_log", |state, _| {
        assert_eq!(state.len(), 4)
    });
}

#[test]
fn a_crash_between_an_append_and_any_consolidation_loses_nothing() {
    scenario("append", "append.before_consolidate", |state, ids| {
        assert_eq!(state.len(), 4);
        assert!(ids.iter().all(|id| state.contains_key(id)));
    });
}

#[test]
fn remove_crashing_after_its_record_has_removed() {
    scenario("remove", "remove.after_log", |state, ids| {
        assert_eq!(state.len(), 1);
        assert!(!state.contains_key(&ids[1]));
    });
}

#[test]
fn pin_crashing_after_its_record_has_pinned() {
    scenario("pin", "pin.after_log", |state, ids| {
        assert_eq!(state.get(&ids[0]), Some(&true))
    });
}

#[test]
fn a_use_crashing_after_its_record_is_kept() {
    scenario("used", "used.after_log", |state, _| {
        assert_eq!(state.len(), 2)
    });
}

#[test]
fn consolidation_crashing_between_map_and_retirement_loses_nothing() {
    scenario("put", "consolidate.after_map", |state, _| {
        assert_eq!(state.len(), 4)
    });
}

#[test]
fn consolidation_crashing_after_retirement_loses_nothing() {
    scenario("put", "consolidate.after_retire", |state, _| {
        assert_eq!(state.len(), 4)
    });
}

#[test]
fn gc_crashing_after_sweeping_objects_keeps_live_contents() {
    scenario("gc", "gc.after_objects", |state, _| {
        assert_eq!(state.len(), 1)
    });
}

#[test]
fn gc_crashing_between_new_and_old_packs_keeps_live_contents() {
    scenario("gc", "gc.after_pack_write", |state, _| {
        assert_eq!(state.len(), 1)
    });
}

#[test]
fn gc_crashing_after_deleting_old_packs_keeps_live_contents() {
    scenario("gc", "gc.after_pack_delete", |state, _| {
        assert_eq!(state.len(), 1)
    });
}
