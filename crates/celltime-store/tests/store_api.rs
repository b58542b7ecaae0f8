//! The store layer as a writer and a reader use it: put, get, latest, pins, removal,
//! consolidation, gc and verify.

use celltime_store::model::{NewPart, PartKind, PartMask, ResolveError, Timestamp, resolve};
use celltime_store::store::StoreError;
use celltime_store::store::history::StoreHistory;
use celltime_store::testing::*;
use std::time::Duration;

#[test]
fn put_then_get_reads_back_every_part() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("analysis/eda")).unwrap();
    let key = notebook
        .put(entry("analysis/eda", "load", "m1", 1_000, "a"))
        .unwrap();
    let fetched = notebook.get(key.id(), PartMask::all()).unwrap();
    assert_eq!(fetched.parts.len(), 4);
    for (part, bytes) in &fetched.parts {
        let bytes = bytes.as_ref().unwrap();
        assert_eq!(bytes.len() as u64, part.size);
    }
    let only_outputs = notebook
        .get(key.id(), PartMask::of(&[PartKind::Outputs]))
        .unwrap();
    assert_eq!(only_outputs.parts.len(), 1);
    assert_eq!(only_outputs.parts[0].1.as_ref().unwrap(), b"result a");

    // Another process sees it from the log, before any consolidation.
    assert_eq!(visible(dir.path(), "analysis/eda").len(), 1);
}

#[test]
fn latest_is_the_newest_at_or_before_the_time() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    for (t, seed) in [(10, "a"), (20, "b"), (30, "c")] {
        notebook.put(entry("nb", "cell", "m1", t, seed)).unwrap();
    }
    notebook
        .put(with_version(entry("nb", "cell", "m1", 40, "alt"), "1"))
        .unwrap();
    let newest = notebook.find("cell", "m1", "0", None).unwrap();
    assert_eq!(
        notebook.index().view(newest).unwrap().created_at,
        Timestamp(30)
    );
    let at_25 = notebook
        .find("cell", "m1", "0", Some(Timestamp(25)))
        .unwrap();
    assert_eq!(
        notebook.index().view(at_25).unwrap().created_at,
        Timestamp(20)
    );
    assert!(
        notebook
            .find("cell", "m1", "0", Some(Timestamp(5)))
            .is_none()
    );
    let alternative = notebook.find("cell", "m1", "1", None).unwrap();
    assert_eq!(
        notebook.index().view(alternative).unwrap().created_at,
        Timestamp(40)
    );
}

#[test]
fn contents_are_stored_once_and_large_ones_become_files() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let big = vec![42u8; 200_000];
    let mut first = entry("nb", "cell", "m1", 1, "same");
    first.parts.push(NewPart::output("image/png", big.clone()));
    let mut second = entry("nb", "cell", "m2", 2, "same");
    second.parts.push(NewPart::output("image/png", big));
    notebook.put_batch(vec![first, second]).unwrap();
    let objects: Vec<_> = walk(&notebook.dir().join("objects"));
    assert_eq!(objects.len(), 1, "the large output is one object file");
    // Both entries share every content except their differing code; 4 distinct small contents
    // + 2 code snapshots are in packs.
    assert_eq!(notebook.index().referenced_contents().len(), 6);
    let report = notebook.verify().unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.problems);
    assert_eq!(report.garbage_contents, 0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    tree(dir).into_keys().collect()
}

#[test]
fn re_putting_is_idempotent_and_a_changed_run_is_a_clash() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    notebook.put(entry("nb", "cell", "m1", 1, "a")).unwrap();
    notebook.put(entry("nb", "cell", "m1", 1, "a")).unwrap();
    assert_eq!(notebook.index().len(), 1);
    let err = notebook
        .put(entry("nb", "cell", "m1", 1, "different"))
        .unwrap_err();
    assert!(matches!(err, StoreError::Clash(_)), "{err}");
}

#[test]
fn a_default_created_at_never_collides() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let mut batch = Vec::new();
    for _ in 0..5 {
        let mut e = entry("nb", "cell", "m1", 0, "a");
        e.created_at = None;
        batch.push(e);
    }
    let keys = notebook.put_batch(batch).unwrap();
    let distinct: std::collections::HashSet<_> = keys.iter().map(|k| k.id()).collect();
    assert_eq!(distinct.len(), 5);
}

#[test]
fn pins_removals_and_uses_survive_consolidation() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let a = notebook
        .put(entry("nb", "cell", "m1", 1, "a"))
        .unwrap()
        .id();
    let b = notebook
        .put(entry("nb", "cell", "m1", 2, "b"))
        .unwrap()
        .id();
    let c = notebook
        .put(entry("nb", "cell", "m1", 3, "c"))
        .unwrap()
        .id();
    assert_eq!(notebook.pin(&[a]).unwrap(), 1);
    assert_eq!(notebook.remove(&[b]).unwrap(), 1);
    notebook.touch(&[c], Timestamp(99)).unwrap();
    notebook.consolidate().unwrap();
    assert!(
        std::fs::read_dir(notebook.dir().join("log"))
            .unwrap()
            .next()
            .is_none(),
        "this machine's folded segments are retired"
    );
    let reopened = store.notebook(&nb("nb")).unwrap();
    let index = reopened.index();
    assert!(index.view(a).unwrap().pinned);
    assert!(index.view(b).is_none());
    assert_eq!(index.view(c).unwrap().last_used, Some(Timestamp(99)));
    let map = std::fs::read_to_string(notebook.dir().join("map.toml")).unwrap();
    assert!(map.contains("pinned = true"));
    assert!(map.contains("last_used = \"1970-01-01T00:00:00.099Z\""));
}

#[test]
fn gc_sweeps_only_unreferenced_contents_past_the_grace_period() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let mut doomed = entry("nb", "cell", "m1", 1, "doomed");
    doomed
        .parts
        .push(NewPart::output("image/png", vec![1u8; 100_000]));
    let doomed = notebook.put(doomed).unwrap().id();
    let kept = notebook
        .put(entry("nb", "cell", "m2", 2, "kept"))
        .unwrap()
        .id();
    notebook.remove(&[doomed]).unwrap();

    let young = notebook.gc(Duration::from_secs(3600)).unwrap();
    assert_eq!(young.objects_removed, 0, "a young content survives");
    assert!(young.young_garbage_kept >= 1);

    let swept = notebook.gc(Duration::ZERO).unwrap();
    assert_eq!(swept.objects_removed, 1);
    assert!(swept.pack_rows_dropped >= 3);
    let report = notebook.verify().unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.problems);
    assert_eq!(report.garbage_contents, 0);
    assert!(
        notebook
            .get(kept, PartMask::all())
            .unwrap()
            .parts
            .iter()
            .all(|(_, b)| b.is_ok())
    );
}

#[test]
fn removed_entries_can_be_restored_until_gc() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let id = notebook
        .put(entry("nb", "cell", "m1", 1, "a"))
        .unwrap()
        .id();
    let saved = notebook.index().get(id).unwrap();
    notebook.remove(&[id]).unwrap();
    assert_eq!(notebook.restore(std::slice::from_ref(&saved)).unwrap(), 1);
    assert_eq!(notebook.index().get(id).unwrap(), saved);

    notebook.remove(&[id]).unwrap();
    notebook.gc(Duration::ZERO).unwrap();
    assert_eq!(notebook.restore(&[saved]).unwrap(), 0, "contents are gone");
}

#[test]
fn ids_resolve_by_unique_prefix_across_notebooks() {
    let dir = workspace();
    let store = store(dir.path());
    let id = store
        .notebook_for_write(&nb("a"))
        .unwrap()
        .put(entry("a", "cell", "m1", 1, "x"))
        .unwrap()
        .id();
    store
        .notebook_for_write(&nb("b/c"))
        .unwrap()
        .put(entry("b/c", "cell", "m1", 1, "y"))
        .unwrap();
    let history = StoreHistory::new(store.clone());
    let (timeline, found) = resolve(&history, &id.to_hex()[..8].to_uppercase()).unwrap();
    assert_eq!(timeline.rows[found].id, id);
    assert_eq!(timeline.notebook, "a");
    assert!(matches!(
        resolve(&history, "zz"),
        Err(ResolveError::NotAnId(_))
    ));
    assert!(
        matches!(resolve(&history, "0000"), Err(ResolveError::NoMatch { .. }))
            || id.has_prefix("0000")
    );
    assert_eq!(
        store
            .notebook_keys()
            .unwrap()
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>(),
        ["a", "b/c"]
    );
}

#[test]
fn entries_for_another_notebook_are_refused() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("a")).unwrap();
    assert!(notebook.put(entry("b", "cell", "m1", 1, "x")).is_err());
    let mut bad_label = entry("a", "cell", "m1", 1, "x");
    bad_label.parts.push(NewPart::console("stdlog", "x"));
    assert!(matches!(notebook.put(bad_label), Err(StoreError::Key(_))));
    assert!(!notebook.dir().join("log").exists(), "nothing was written");
}

/// The run marimo is served for (cell, module), as a fresh reader sees it.
fn served_in(dir: &std::path::Path, notebook: &str) -> Option<Timestamp> {
    let mut reader = store(dir).notebook(&nb(notebook)).unwrap();
    let id = reader.served("cell", "m1", |_, _| true)?;
    Some(reader.index().view(id).unwrap().created_at)
}

#[test]
fn serve_chooses_an_older_run_until_a_newer_run_is_written() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let mut keys = Vec::new();
    for (t, seed) in [(10, "a"), (20, "b"), (30, "c")] {
        keys.push(notebook.put(entry("nb", "cell", "m1", t, seed)).unwrap());
    }
    assert_eq!(served_in(dir.path(), "nb"), Some(Timestamp(30)));

    assert_eq!(notebook.serve(&[keys[0].id()]).unwrap(), 1);
    assert_eq!(
        served_in(dir.path(), "nb"),
        Some(Timestamp(10)),
        "from the log"
    );
    notebook.consolidate().unwrap();
    let map = std::fs::read_to_string(notebook.dir().join("map.toml")).unwrap();
    assert_eq!(map.matches("served = ").count(), 1, "{map}");
    assert_eq!(
        served_in(dir.path(), "nb"),
        Some(Timestamp(10)),
        "from the map"
    );

    // A run written after the choice is served, as any new run is.
    let later = Timestamp::now().millis() + 60_000;
    notebook.put(entry("nb", "cell", "m1", later, "d")).unwrap();
    assert_eq!(served_in(dir.path(), "nb"), Some(Timestamp(later)));
}

#[test]
fn a_marimo_key_travels_through_the_log_and_the_map() {
    use celltime_store::model::MarimoKey;
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let key = MarimoKey::new("cell_cache/C_abc-_9.jsonl").unwrap();
    let mut new = entry("nb", "cell", "abc-_9", 10, "a");
    new.marimo_key = Some(key.clone());
    let id = notebook.put(new).unwrap().id();
    let from_log = store.notebook(&nb("nb")).unwrap().index().get(id).unwrap();
    assert_eq!(from_log.marimo_key.as_ref(), Some(&key));
    notebook.consolidate().unwrap();
    let from_map = store.notebook(&nb("nb")).unwrap().index().get(id).unwrap();
    assert_eq!(from_map.marimo_key, Some(key));
    assert!(MarimoKey::new("cell_cache/notes.txt").is_err());
    assert!(MarimoKey::new("../C_abc.pickle").is_err());
}

#[test]
fn writing_into_a_version_1_folder_marks_it_version_2() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    notebook.put(entry("nb", "cell", "m1", 10, "a")).unwrap();
    let file = notebook.dir().join("notebook.toml");
    std::fs::write(&file, "format = 1\nkey = \"nb\"\nsource = \"nb.py\"\n").unwrap();
    notebook.put(entry("nb", "cell", "m1", 20, "b")).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("format = 2"), "{text}");
    assert!(text.contains("source = \"nb.py\""), "{text}");
}
