//! Import into the store: idempotent, faithful, touching nothing but the store; and watch.

use super::fixture::{copy, set_mtime, tree};
use celltime_store::legacy::{Watcher, import};
use celltime_store::model::{CombinedHistory, History, NotebookKey, PartKind};
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
    let first = import(&c.root, &store(&c.root), None).unwrap();
    assert_eq!((first.imported, first.already_imported), (12, 0));
    assert!(first.failures.is_empty(), "{:?}", first.failures);
    let persisted = tree(&c.root.join("__marimo__/persist"));
    let second = import(&c.root, &store(&c.root), None).unwrap();
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
    import(&c.root, &store(&c.root), None).unwrap();
    let legacy = celltime_store::legacy::LegacyHistory::open(&c.root, None).unwrap();
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
    let mut watcher = Watcher::new(&c.root, store(&c.root), None).unwrap();
    assert_eq!(watcher.poll_once().unwrap().imported, 12);
    assert_eq!(watcher.poll_once().unwrap().imported, 0);
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
    let report = watcher.poll_once().unwrap();
    assert_eq!((report.imported, report.incomplete), (1, 1));
    std::fs::remove_file(&src).unwrap();
    assert_eq!(
        watcher.poll_once().unwrap().imported,
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
    let mut watcher = Watcher::new(&c.root, store(&c.root), None).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(true);
    let mut passes = 0;
    celltime_store::legacy::watch(&mut watcher, Duration::from_secs(3600), &stop, |_| {
        passes += 1
    })
    .unwrap();
    assert_eq!(passes, 0);
}

#[test]
fn both_backends_show_together_and_dispatch_by_id() {
    let c = copy("demo");
    import(&c.root, &store(&c.root), None).unwrap();
    let combined = CombinedHistory::new(
        Box::new(StoreHistory::new(store(&c.root))),
        Box::new(celltime_store::legacy::LegacyHistory::open(&c.root, None).unwrap()),
    );
    let notebooks = combined.notebooks().unwrap();
    assert_eq!(notebooks.len(), 1);
    assert_eq!(notebooks[0].entries, 24);
    assert_eq!(notebooks[0].cells, 7, "imported blocks are the same cells");
    let rows = combined.timeline("notebook").unwrap().rows;
    assert_eq!(rows.len(), 24);
    let legacy_row = rows.iter().find(|r| r.approximate_time).unwrap();
    let store_row = rows
        .iter()
        .find(|r| !r.approximate_time && r.module == legacy_row.module)
        .unwrap();
    for row in [legacy_row, store_row] {
        let detail = combined.detail("notebook", row.id).unwrap();
        for part in &detail.parts {
            combined.read("notebook", part).unwrap();
        }
    }
    assert!(
        combined
            .set_pinned("notebook", &[legacy_row.id], true)
            .is_err()
    );
    assert_eq!(
        combined
            .set_pinned("notebook", &[store_row.id], true)
            .unwrap(),
        1
    );
    let applied = combined
        .remove("notebook", &[legacy_row.id, store_row.id])
        .unwrap();
    assert_eq!(applied.removed, 2);
    assert_eq!(combined.timeline("notebook").unwrap().rows.len(), 22);
    assert_eq!(combined.undo(&applied).unwrap(), 2);
    assert_eq!(combined.timeline("notebook").unwrap().rows.len(), 24);
}
