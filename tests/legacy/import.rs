//! Import into the store: idempotent, faithful, touching nothing but the store; and watch.

use super::fixture::{copy, oplog, remove, set_mtime, tree, undo};
use celltime_store::combined::CombinedHistory;
use celltime_store::legacy::{LegacyHistory, Watcher, import};
use celltime_store::model::{Copies, History, NotebookKey, PartKind};
use celltime_store::ops::Unrecorded;
use celltime_store::store::history::StoreHistory;
use celltime_store::store::{Store, Workspace};
use std::time::{Duration, SystemTime};

fn store(root: &std::path::Path) -> Store {
    Store::open(&Workspace::at(root)).unwrap()
}

fn outside_store(root: &std::path::Path) -> Vec<(String, (String, SystemTime))> {
    tree(root)
        .into_iter()
        .filter(|(p, _)| !p.starts_with("__marimo__/persist/"))
        .collect()
}

#[test]
fn import_is_idempotent_and_touches_nothing_but_the_store() {
    let c = copy("demo");
    let before = outside_store(&c.root);
    let first = import(&c.root, &store(&c.root), None, &Unrecorded).unwrap();
    assert_eq!((first.imported, first.already_imported), (12, 0));
    assert!(first.failures.is_empty(), "{:?}", first.failures);
    let persisted = tree(&c.root.join("__marimo__/persist"));
    let second = import(&c.root, &store(&c.root), None, &Unrecorded).unwrap();
    assert_eq!((second.imported, second.already_imported), (0, 12));
    assert_eq!(
        tree(&c.root.join("__marimo__/persist")),
        persisted,
        "second import wrote nothing"
    );
    assert_eq!(outside_store(&c.root), before);
}

#[test]
fn import_keeps_bytes_formats_sizes_times_and_code() {
    let c = copy("demo");
    import(&c.root, &store(&c.root), None, &Unrecorded).unwrap();
    let legacy = LegacyHistory::open(&c.root, None).unwrap();
    let loaded = legacy.load().unwrap();
    let nb = store(&c.root)
        .notebook(&NotebookKey::new("notebook").unwrap())
        .unwrap();
    let entries = nb.index().entries();
    assert_eq!(entries.len(), 12);
    for (entry, link) in loaded.scan.entries.iter().zip(&loaded.links) {
        let stored = entries
            .iter()
            .find(|e| e.key.module.as_str() == entry.name.hash)
            .unwrap_or_else(|| panic!("{} not imported", entry.rel_path));
        assert_eq!(stored.key.created_at, entry.created_at());
        assert_eq!(stored.key.cell.as_str(), &*link.cell);
        assert_eq!(
            stored.marimo_key.as_ref().map(|k| k.as_str()),
            Some(entry.rel_path.as_str()),
            "marimo's key is the file's path in the cache folder"
        );
        let vars: u64 = stored
            .parts
            .iter()
            .filter(|p| p.kind == PartKind::Variables)
            .map(|p| p.size)
            .sum();
        assert_eq!(vars, entry.size(), "{}", entry.rel_path);
        let main = stored
            .parts
            .iter()
            .find(|p| p.kind == PartKind::Variables && p.label.is_empty())
            .unwrap();
        assert_eq!(main.format, entry.name.loader.extension());
        let bytes = nb.reader().read(main.content, main.size).unwrap();
        assert_eq!(
            bytes,
            std::fs::read(legacy.root().join(&entry.rel_path)).unwrap()
        );
        let code = stored
            .parts
            .iter()
            .find(|p| p.kind == PartKind::Code)
            .unwrap();
        let code = nb.reader().read(code.content, code.size).unwrap();
        assert_eq!(code, link.code.as_ref().unwrap().as_bytes());
    }
    let lazy = entries
        .iter()
        .find(|e| e.key.cell.as_str() == "lazy_block")
        .unwrap();
    let formats: Vec<(&str, &str)> = lazy
        .parts
        .iter()
        .filter(|p| p.kind == PartKind::Variables)
        .map(|p| (p.label.as_str(), p.format.as_str()))
        .collect();
    assert!(
        formats.contains(&("lazy_arr", "npy")) && formats.contains(&("lazy_list", "pickle")),
        "{formats:?}"
    );
    assert!(
        lazy.parts
            .iter()
            .any(|p| p.kind == PartKind::Console && p.label == "stderr")
    );
}

#[test]
fn watch_picks_up_entries_written_after_it_started() {
    let c = copy("demo");
    let mut watcher = Watcher::new(&c.root, store(&c.root), None);
    assert_eq!(watcher.pass(&Unrecorded).unwrap().imported, 12);
    assert_eq!(watcher.pass(&Unrecorded).unwrap().imported, 0);
    // marimo rewrites a block: a new key, a new file (and a new time for the same key).
    let cache = c.root.join("__marimo__/cache");
    let src = cache.join("pure_block/P_TLCXXznqVSvkMXatdzO3gS8ANq5gjGF-fyjDgOvKHj8.pickle");
    let new = cache.join("pure_block/P_TLCXXznqVSvkMXatdzO3gS8ANq5gjGF-fyjDgOvKHj9.pickle");
    std::fs::copy(&src, &new).unwrap();
    set_mtime(
        &new,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000),
    );
    // A lazy entry in mid-write (blobs, no manifest yet) waits for its manifest.
    std::fs::create_dir(cache.join("lazy_block/halfway")).unwrap();
    let report = watcher.pass(&Unrecorded).unwrap();
    assert_eq!((report.imported, report.incomplete), (1, 1));
    std::fs::remove_file(&src).unwrap();
    assert_eq!(
        watcher.pass(&Unrecorded).unwrap().imported,
        0,
        "removals in marimo's folder remove nothing"
    );
    let nb = store(&c.root)
        .notebook(&NotebookKey::new("notebook").unwrap())
        .unwrap();
    let pure: Vec<_> = nb
        .index()
        .entries()
        .into_iter()
        .filter(|e| e.key.cell.as_str() == "pure_block")
        .collect();
    assert_eq!(pure.len(), 2, "the block's timeline builds up");
}

#[test]
fn watch_stops_when_asked() {
    let c = copy("cellcache");
    let mut watcher = Watcher::new(&c.root, store(&c.root), None);
    let stop = std::sync::atomic::AtomicBool::new(true);
    let mut passes = 0;
    celltime_store::legacy::watch(&mut watcher, &stop, |_| {
        passes += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(
        passes, 1,
        "one pass at the start, then it sees the stop flag"
    );
}

fn combined(root: &std::path::Path) -> CombinedHistory {
    CombinedHistory::new(
        StoreHistory::new(store(root)),
        LegacyHistory::open(root, None).unwrap(),
    )
}

#[test]
fn an_imported_run_is_one_row_with_both_copies() {
    let c = copy("demo");
    import(&c.root, &store(&c.root), None, &Unrecorded).unwrap();
    let combined = combined(&c.root);
    let notebooks = combined.notebooks().unwrap();
    assert_eq!(notebooks.len(), 1);
    assert_eq!(notebooks[0].entries, 12, "12 runs, not 24 rows");
    assert_eq!(notebooks[0].cells, 7, "imported blocks are the same cells");
    let rows = combined.timeline("notebook").unwrap().rows;
    assert_eq!(rows.len(), 12);
    assert!(
        rows.iter().all(|r| r.copies
            == Copies {
                store: true,
                cache: true
            }
            && !r.approximate_time),
        "each row stands for both copies, with the store's exact time"
    );
    // The row's id is the store entry's; details and every part read through it.
    let row = &rows[0];
    let detail = combined.detail("notebook", row.id).unwrap();
    assert!(
        detail
            .facts
            .iter()
            .any(|(k, v)| k == "copies" && v == "store+cache"),
        "{:?}",
        detail.facts
    );
    for part in &detail.parts {
        combined.read("notebook", part).unwrap();
    }
    // Pins belong to the store copy, so a merged run can be pinned.
    assert_eq!(
        combined
            .set_pinned("notebook", &[row.id], true, &Unrecorded)
            .unwrap(),
        1
    );
}

#[test]
fn deleting_a_merged_run_removes_both_copies_and_undo_brings_both_back() {
    let c = copy("demo");
    import(&c.root, &store(&c.root), None, &Unrecorded).unwrap();
    let combined = combined(&c.root);
    let rows = combined.timeline("notebook").unwrap().rows;
    let lazy = rows.iter().find(|r| &*r.cell == "lazy_block").unwrap();
    let (applied, op) = remove(&combined, &c.root, &[lazy.id]);
    assert_eq!(applied.removed, 1, "one run, two copies");
    assert!(applied.cache_bytes > 0);
    assert_eq!(combined.timeline("notebook").unwrap().rows.len(), 11);
    let in_store = |root: &std::path::Path| {
        store(root)
            .notebook(&NotebookKey::new("notebook").unwrap())
            .unwrap()
            .index()
            .len()
    };
    assert_eq!(in_store(&c.root), 11, "the store copy went");
    let cache = LegacyHistory::open(&c.root, None).unwrap();
    assert_eq!(
        cache.timeline("notebook").unwrap().rows.len(),
        11,
        "the cache copy went"
    );
    assert!(
        oplog(&c.root)
            .list()
            .unwrap()
            .iter()
            .any(|o| o.header.id == op.header.id)
    );

    let done = undo(&combined, &c.root, &op);
    assert!(done.failures.is_empty(), "{:?}", done.failures);
    assert_eq!(in_store(&c.root), 12);
    assert_eq!(cache.timeline("notebook").unwrap().rows.len(), 12);
    let rows = combined.timeline("notebook").unwrap().rows;
    assert_eq!(rows.len(), 12);
    assert!(rows.iter().all(|r| r.copies.store && r.copies.cache));
}

#[test]
fn a_run_whose_cache_copy_cannot_move_keeps_its_store_copy() {
    let c = copy("demo");
    import(&c.root, &store(&c.root), None, &Unrecorded).unwrap();
    let combined = combined(&c.root);
    let rows = combined.timeline("notebook").unwrap().rows;
    let pure = rows.iter().find(|r| &*r.cell == "pure_block").unwrap();
    let file = c
        .root
        .join("__marimo__/cache/pure_block/P_TLCXXznqVSvkMXatdzO3gS8ANq5gjGF-fyjDgOvKHj8.pickle");
    let applied = {
        let log = oplog(&c.root);
        let recorder = log
            .begin(celltime_store::ops::OpKind::Delete, "test", None)
            .unwrap();
        let check = |_: &celltime_store::model::Timeline| {
            // Between the check and the move marimo rewrites the file.
            std::fs::write(&file, b"rewritten by marimo").unwrap();
            Ok(())
        };
        combined
            .remove(&celltime_store::model::Removal {
                notebook: "notebook",
                ids: &[pure.id],
                check: &check,
                journal: &recorder,
            })
            .unwrap()
    };
    assert_eq!(applied.removed, 0);
    assert!(!applied.failures.is_empty());
    let store_ids: Vec<_> = store(&c.root)
        .notebook(&NotebookKey::new("notebook").unwrap())
        .unwrap()
        .index()
        .views()
        .iter()
        .map(|v| v.id)
        .collect();
    assert!(store_ids.contains(&pure.id), "every copy or none");
}
