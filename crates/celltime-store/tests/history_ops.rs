//! The operation log, undo, fresh plans and following changes, at the store's level.

use celltime_store::follow::{Changed, Follow, Targets};
use celltime_store::model::{Change, History, NewPart, Removal, Timeline};
use celltime_store::ops::{self, OpKind, OpLog, Unrecorded};
use celltime_store::store::history::StoreHistory;
use celltime_store::testing::*;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, SystemTime};

/// A generous bound on waiting for a notification: a guard against a hang, not a timing
/// assertion (a notification normally arrives within the debounce time).
const NOTICE_BOUND: Duration = Duration::from_secs(30);

fn removal<'a>(
    ids: &'a [celltime_store::model::EntryId],
    journal: &'a ops::Recorder,
) -> Removal<'a> {
    Removal {
        notebook: "nb",
        ids,
        check: &|_| Ok(()),
        journal,
    }
}

/// Puts an entry with a large content (an object file) whose file is two days old.
fn old_large_entry(dir: &std::path::Path) -> celltime_store::model::EntryId {
    let store = store(dir);
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let mut e = entry("nb", "cell", "m1", 1_000, "a");
    e.parts
        .push(NewPart::variables("big", "pickle", vec![7; 200_000]));
    let key = notebook.put(e).unwrap();
    notebook.put(entry("nb", "cell", "m2", 2_000, "b")).unwrap();
    let objects = dir.join("__marimo__/persist/nb/objects");
    let two_days_ago = SystemTime::now() - Duration::from_secs(2 * 86_400);
    for fan in std::fs::read_dir(&objects).unwrap() {
        for object in std::fs::read_dir(fan.unwrap().path()).unwrap() {
            let file = std::fs::File::options()
                .write(true)
                .open(object.unwrap().path())
                .unwrap();
            file.set_modified(two_days_ago).unwrap();
        }
    }
    key.id()
}

#[test]
fn a_removal_stays_undoable_for_the_grace_period_and_gc_says_when_it_no_longer_is() {
    let dir = workspace();
    let id = old_large_entry(dir.path());
    let history = StoreHistory::new(store(dir.path()));
    let log = OpLog::of(history.store());
    let recorder = log.begin(OpKind::Prune, "test prune", None).unwrap();
    let op_id = recorder.id().to_string();
    history.remove(&removal(&[id], &recorder)).unwrap();
    recorder.finish("removed 1", true).unwrap();

    // The object is two days old and unreferenced, but its removal is minutes old.
    let mut notebook = store(dir.path()).notebook(&nb("nb")).unwrap();
    let kept = notebook.gc(Duration::from_secs(3600)).unwrap();
    assert_eq!(kept.objects_removed, 0, "the young operation keeps it");
    let op = log.find(&op_id).unwrap();
    let done = ops::undo(&history, &log, &op, "test undo").unwrap();
    assert_eq!((done.restored, done.failures.len()), (1, 0));
    assert!(notebook_ids(dir.path()).contains(&id));

    // Removed again, and gc with no grace: the operation is older than it, the content goes.
    let recorder = log.begin(OpKind::Prune, "test prune", None).unwrap();
    let second = recorder.id().to_string();
    history.remove(&removal(&[id], &recorder)).unwrap();
    recorder.finish("removed 1", true).unwrap();
    let swept = notebook.gc(Duration::ZERO).unwrap();
    assert_eq!(swept.objects_removed, 1);
    assert!(!swept.swept.is_empty(), "gc names what it swept");
    let op = log.find(&second).unwrap();
    let done = ops::undo(&history, &log, &op, "test undo").unwrap();
    assert_eq!(done.restored, 0);
    assert!(done.failures[0].contains("swept"), "{:?}", done.failures);
}

fn notebook_ids(dir: &std::path::Path) -> Vec<celltime_store::model::EntryId> {
    store(dir)
        .notebook(&nb("nb"))
        .unwrap()
        .index()
        .views()
        .iter()
        .map(|v| v.id)
        .collect()
}

#[test]
fn a_plan_that_no_longer_holds_removes_nothing_and_records_nothing() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let a = notebook
        .put(entry("nb", "cell", "m1", 1_000, "a"))
        .unwrap()
        .id();
    let b = notebook
        .put(entry("nb", "cell", "m1", 2_000, "b"))
        .unwrap()
        .id();
    let history = StoreHistory::new(store.clone());
    let planned: Timeline = history.timeline("nb").unwrap();
    // Another process pins `a` after the plan was made.
    notebook.pin(&[a]).unwrap();
    let log = OpLog::of(&store);
    let journal = ops::Lazy::new(&log, OpKind::Prune, "test");
    let check = |now: &Timeline| {
        let pinned = |t: &Timeline| t.rows.iter().filter(|r| r.pinned).count();
        if pinned(now) == pinned(&planned) {
            Ok(())
        } else {
            Err("an entry was pinned meanwhile".to_string())
        }
    };
    let err = history
        .remove(&Removal {
            notebook: "nb",
            ids: &[a],
            check: &check,
            journal: &journal,
        })
        .unwrap_err();
    assert!(err.stale && err.message.contains("pinned meanwhile"));
    assert_eq!(
        journal.finish("-", false).unwrap(),
        None,
        "no operation began"
    );
    assert_eq!(notebook_ids(dir.path()).len(), 2);
    assert!(log.list().unwrap().is_empty());
    let _ = b;
}

#[test]
fn pin_records_only_what_changed_and_undo_reverses_only_that() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let a = notebook
        .put(entry("nb", "cell", "m1", 1_000, "a"))
        .unwrap()
        .id();
    let b = notebook
        .put(entry("nb", "cell", "m1", 2_000, "b"))
        .unwrap()
        .id();
    notebook.pin(&[a]).unwrap();
    let history = StoreHistory::new(store.clone());
    let log = OpLog::of(&store);
    let recorder = log.begin(OpKind::Pin, "pin a b", None).unwrap();
    let id = recorder.id().to_string();
    assert_eq!(
        history.set_pinned("nb", &[a, b], true, &recorder).unwrap(),
        1
    );
    recorder.finish("pinned 1", true).unwrap();
    let op = log.find(&id).unwrap();
    assert_eq!(
        op.changes,
        vec![Change::Pinned {
            notebook: "nb".into(),
            ids: vec![b]
        }]
    );
    assert_eq!(
        ops::last_undoable(&log.list().unwrap()).unwrap().header.id,
        id
    );
    ops::undo(&history, &log, &op, "undo").unwrap();
    let pins = visible(dir.path(), "nb");
    assert_eq!((pins[&a], pins[&b]), (true, false), "a was pinned before");
    let ops_now = log.list().unwrap();
    assert!(
        ops::last_undoable(&ops_now).is_none(),
        "the pin is undone, and an undo is not undone by default"
    );
    let _ = Unrecorded;
}

fn next(rx: &Receiver<Changed>) -> Changed {
    rx.recv_timeout(NOTICE_BOUND)
        .expect("a change notification")
}

#[test]
fn a_real_write_is_noticed_also_in_a_cache_folder_made_after_following_began() {
    let dir = workspace();
    let marimo = dir.path().join("__marimo__");
    let cache = marimo.join("cache");
    let (tx, rx) = channel();
    let _follow = Follow::start(
        Targets {
            store: marimo.join("persist"),
            cache: cache.clone(),
        },
        move |changed| {
            let _ = tx.send(changed);
        },
    )
    .unwrap();
    // Each step waits for its notice before the next, so every notice belongs to its step
    // (the follower re-arms its watches before it reports).
    std::fs::create_dir_all(&cache).unwrap();
    assert!(next(&rx).cache, "marimo's first run makes the folder");
    std::fs::create_dir_all(cache.join("block")).unwrap();
    std::fs::write(cache.join("block/P_x.pickle"), b"one").unwrap();
    assert!(next(&rx).cache, "an entry inside the new folder");
    std::fs::remove_dir_all(&cache).unwrap();
    assert!(next(&rx).cache, "the folder is deleted");
    std::fs::create_dir_all(&cache).unwrap();
    assert!(next(&rx).cache, "and made again");
    std::fs::create_dir_all(cache.join("block")).unwrap();
    std::fs::write(cache.join("block/P_y.pickle"), b"two").unwrap();
    assert!(next(&rx).cache, "an entry inside the folder made again");
    let mut notebook = store(dir.path()).notebook_for_write(&nb("nb")).unwrap();
    notebook.put(entry("nb", "cell", "m1", 1_000, "a")).unwrap();
    assert!(next(&rx).store, "a store write");
}

#[test]
fn a_workspace_without_marimo_folders_is_followed_from_its_root() {
    let dir = tempfile::tempdir().unwrap();
    let marimo = dir.path().join("__marimo__");
    let (tx, rx) = channel();
    let _follow = Follow::start(
        Targets {
            store: marimo.join("persist"),
            cache: marimo.join("cache"),
        },
        move |changed| {
            let _ = tx.send(changed);
        },
    )
    .unwrap();
    // Both levels at once: the folder made between two looks still counts.
    std::fs::create_dir_all(marimo.join("cache/block")).unwrap();
    std::fs::write(marimo.join("cache/block/P_x.pickle"), b"one").unwrap();
    assert!(next(&rx).cache);
    std::fs::write(marimo.join("cache/block/P_y.pickle"), b"two").unwrap();
    assert!(next(&rx).cache, "and it is watched from then on");
}
