//! I/O faults and the durability order. Every file operation of the store goes through the
//! `Fs` trait; `TestFs` fails the Nth mutating operation with EIO or ENOSPC (once, or from then
//! on) for N = 1, 2, … until the operation gets through. After each attempt the store must open
//! on the real file system, `verify` must find no error, and an operation that reported
//! success must be visible. The same trait records every sync, so the order of durability
//! (content, then log record, then map; the remove record before any content is deleted) is
//! asserted without crashing anything.

use celltime_store::model::{EntryId, NewPart, PartMask};
use celltime_store::testing::*;
use celltime_store::testing::{Fault, Op, OpKind, TestFs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const EIO: i32 = 5;
const ENOSPC: i32 = 28;

/// A consolidated notebook with a small and a large entry; returns the large entry's id.
fn prepare(dir: &Path) -> EntryId {
    let mut notebook = store(dir).notebook_for_write(&nb("nb")).unwrap();
    let mut big = entry("nb", "cell", "m1", 2, "big");
    big.parts
        .push(NewPart::output("image/png", vec![3; 120_000]));
    let keys = notebook
        .put_batch(vec![entry("nb", "cell", "m1", 1, "small"), big])
        .unwrap();
    notebook.consolidate().unwrap();
    keys[1].id()
}

fn new_entries() -> Vec<celltime_store::model::NewEntry> {
    let mut large = entry("nb", "cell", "m9", 9, "fresh-large");
    large
        .parts
        .push(NewPart::output("image/png", vec![8; 150_000]));
    vec![entry("nb", "other", "m8", 8, "fresh-small"), large]
}

/// Runs `op` against a fresh copy of the prepared store through `fs`; returns whether it
/// reported success.
fn attempt(op: &str, fs: Arc<TestFs>) -> (tempfile::TempDir, bool, EntryId) {
    let dir = workspace();
    let big = prepare(dir.path());
    let result = store_with_fs(dir.path(), fs)
        .notebook_for_write(&nb("nb"))
        .and_then(|mut n| match op {
            "put" => n.put_batch(new_entries()).map(|_| ()),
            "remove" => n.remove(&[big]).map(|_| ()),
            "consolidate" => {
                n.pin(&[big])?;
                n.consolidate()
            }
            "gc" => {
                n.remove(&[big])?;
                n.gc(Duration::ZERO).map(|_| ())
            }
            other => panic!("unknown op {other}"),
        });
    (dir, result.is_ok(), big)
}

/// After any attempt: the store opens, verifies, and acknowledged work is there.
fn check(dir: &Path, op: &str, succeeded: bool, big: EntryId) {
    let notebook = store(dir)
        .notebook(&nb("nb"))
        .unwrap_or_else(|e| panic!("{op}: store does not open: {e}"));
    let report = notebook.verify().unwrap();
    assert_eq!(report.errors(), 0, "{op}: {:?}", report.problems);
    for view in notebook.index().views() {
        let fetched = notebook.get(view.id, PartMask::all()).unwrap();
        assert!(
            fetched.parts.iter().all(|(_, b)| b.is_ok()),
            "{op}: entry {} lost content",
            view.id.short()
        );
    }
    let count = notebook.index().len();
    if succeeded {
        match op {
            "put" => assert_eq!(count, 4, "{op}: acknowledged entries missing"),
            "remove" | "gc" => assert!(
                !notebook.index().contains(big),
                "{op}: acknowledged removal undone"
            ),
            "consolidate" => assert!(notebook.index().view(big).unwrap().pinned, "{op}: pin lost"),
            _ => unreachable!(),
        }
    } else {
        // A failed operation left either the state before it or the state after it.
        let allowed: &[usize] = match op {
            "put" => &[2, 4],
            "remove" | "gc" => &[1, 2],
            _ => &[2],
        };
        assert!(
            allowed.contains(&count),
            "{op}: {count} entries after a failed attempt"
        );
    }
}

fn sweep(op: &str, errno: i32, persistent: bool) -> usize {
    for nth in 1..500 {
        let fs = Arc::new(TestFs::with_fault(Fault {
            nth,
            errno,
            persistent,
        }));
        let (dir, succeeded, big) = attempt(op, fs.clone());
        check(dir.path(), op, succeeded, big);
        if succeeded && fs.count() < nth {
            return nth - 1; // the fault came after the last operation: every step was tried
        }
    }
    panic!("{op} never completed");
}

#[test]
fn every_step_of_every_operation_survives_eio_and_enospc() {
    for op in ["put", "remove", "consolidate", "gc"] {
        for errno in [EIO, ENOSPC] {
            for persistent in [false, true] {
                let steps = sweep(op, errno, persistent);
                assert!(steps >= 2, "{op} has only {steps} steps?");
                println!(
                    "{op}: errno {errno}, persistent {persistent}: failed at each of {steps} steps"
                );
            }
        }
    }
}

fn position(ops: &[Op], wanted: impl Fn(&Op) -> bool) -> usize {
    ops.iter()
        .position(wanted)
        .unwrap_or_else(|| panic!("operation not found in {ops:#?}"))
}

fn is_in(op: &Op, folder: &str) -> bool {
    op.path.components().any(|c| c.as_os_str() == folder)
}

#[test]
fn put_makes_contents_durable_before_the_log_record() {
    let dir = workspace();
    prepare(dir.path());
    let fs = Arc::new(TestFs::new());
    let mut notebook = store_with_fs(dir.path(), fs.clone())
        .notebook_for_write(&nb("nb"))
        .unwrap();
    notebook.put_batch(new_entries()).unwrap();
    let ops = fs.ops();
    let object_dir_synced = position(&ops, |o| o.kind == OpKind::SyncDir && is_in(o, "objects"));
    let pack_committed = position(&ops, |o| o.kind == OpKind::SqliteCommit);
    let log_appended = position(&ops, |o| o.kind == OpKind::Append && is_in(o, "log"));
    let log_synced = position(&ops, |o| o.kind == OpKind::SyncFile && is_in(o, "log"));
    assert!(
        object_dir_synced < log_appended && pack_committed < log_appended,
        "{ops:#?}"
    );
    assert!(log_appended < log_synced);
    assert!(
        !ops.iter().any(|o| o.path.ends_with("map.toml")),
        "put does not touch the map"
    );
}

#[test]
fn consolidation_writes_the_map_durably_before_retiring_the_log() {
    let dir = workspace();
    prepare(dir.path());
    let fs = Arc::new(TestFs::new());
    let mut notebook = store_with_fs(dir.path(), fs.clone())
        .notebook_for_write(&nb("nb"))
        .unwrap();
    notebook.put_batch(new_entries()).unwrap();
    let before = fs.count();
    notebook.consolidate().unwrap();
    let ops = &fs.ops()[before..];
    let temp_synced = position(ops, |o| {
        o.kind == OpKind::SyncFile && o.path.to_string_lossy().contains(".tmp-map.toml")
    });
    let renamed = position(ops, |o| {
        o.kind == OpKind::Rename && o.path.ends_with("map.toml")
    });
    let dir_synced = position(ops, |o| {
        o.kind == OpKind::SyncDir && o.path == notebook.dir()
    });
    let retired = position(ops, |o| o.kind == OpKind::Remove && is_in(o, "log"));
    assert!(
        temp_synced < renamed && renamed < dir_synced && dir_synced < retired,
        "{ops:#?}"
    );
}

#[test]
fn the_remove_record_is_durable_before_any_content_is_deleted() {
    let dir = workspace();
    let big = prepare(dir.path());
    let fs = Arc::new(TestFs::new());
    let mut notebook = store_with_fs(dir.path(), fs.clone())
        .notebook_for_write(&nb("nb"))
        .unwrap();
    notebook.remove(&[big]).unwrap();
    notebook.gc(Duration::ZERO).unwrap();
    let ops = fs.ops();
    let record_synced = position(&ops, |o| o.kind == OpKind::SyncFile && is_in(o, "log"));
    let first_delete = position(&ops, |o| {
        o.kind == OpKind::Remove && (is_in(o, "objects") || is_in(o, "packs"))
    });
    assert!(record_synced < first_delete, "{ops:#?}");
    let new_pack = position(&ops, |o| o.kind == OpKind::SqliteCommit);
    let old_pack_deleted = position(&ops, |o| o.kind == OpKind::Remove && is_in(o, "packs"));
    assert!(
        new_pack < old_pack_deleted,
        "compaction writes the new pack before deleting the old"
    );
}
