//! What git, sync tools and crashes leave behind: readers degrade, never panic, and never
//! delete what the store did not write; bad input is refused with the file and line, and
//! changes nothing.

use celltime_store::model::PartMask;
use celltime_store::store::{Severity, StoreError};
use celltime_store::testing::*;
use std::path::{Path, PathBuf};

/// A consolidated notebook with three entries, and its folder.
fn three_entries(dir: &Path) -> PathBuf {
    let store = store(dir);
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    for (t, seed) in [(1, "a"), (2, "b"), (3, "c")] {
        notebook.put(entry("nb", "cell", "m1", t, seed)).unwrap();
    }
    notebook.consolidate().unwrap();
    notebook.dir().to_path_buf()
}

#[test]
fn git_conflict_markers_merge_both_sides() {
    let dir = workspace();
    let folder = three_entries(dir.path());
    let base = std::fs::read_to_string(folder.join("map.toml")).unwrap();
    // "theirs" adds an entry on another branch; splice it in as git would.
    let other = workspace();
    let other_folder = three_entries(other.path());
    let mut other_nb = store(other.path()).notebook(&nb("nb")).unwrap();
    other_nb
        .put(entry("nb", "cell", "m1", 4, "theirs"))
        .unwrap();
    other_nb.consolidate().unwrap();
    let theirs = std::fs::read_to_string(other_folder.join("map.toml")).unwrap();
    let (head, tail) = base.split_at(base.find("[entry.").unwrap());
    let theirs_tail = &theirs[theirs.find("[entry.").unwrap()..];
    let conflicted = format!("{head}<<<<<<< HEAD\n{tail}=======\n{theirs_tail}>>>>>>> branch\n");
    std::fs::write(folder.join("map.toml"), conflicted).unwrap();
    std::fs::remove_dir_all(folder.join(".index")).unwrap();

    let notebook = store(dir.path()).notebook(&nb("nb")).unwrap();
    assert_eq!(notebook.index().len(), 4);
    assert!(
        notebook
            .issues()
            .iter()
            .any(|i| i.at.message.contains("conflict markers"))
    );
}

#[test]
fn conflicted_copies_are_merged_reported_and_kept() {
    let dir = workspace();
    let folder = three_entries(dir.path());
    let copy = folder.join("map (laptop's conflicted copy 2026-11-25).toml");
    std::fs::copy(folder.join("map.toml"), &copy).unwrap();
    let mut notebook = store(dir.path()).notebook(&nb("nb")).unwrap();
    let id = notebook.index().views()[0].id;
    notebook.remove(&[id]).unwrap();
    notebook.consolidate().unwrap();
    // The copy still lists the removed entry, but it was merged once and is not read again.
    let reread = store(dir.path()).notebook(&nb("nb")).unwrap();
    assert_eq!(reread.index().len(), 2);
    assert!(copy.exists(), "a sync tool's copy is never deleted");
    assert!(
        reread
            .issues()
            .iter()
            .any(|i| i.at.message.contains("already merged"))
    );
}

#[test]
fn a_torn_last_log_line_is_ignored() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    notebook.put(entry("nb", "cell", "m1", 1, "a")).unwrap();
    notebook.put(entry("nb", "cell", "m1", 2, "b")).unwrap();
    let log_dir = notebook.dir().join("log");
    let segment = std::fs::read_dir(&log_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&segment).unwrap();
    for cut in [bytes.len() - 1, bytes.len() - 40] {
        std::fs::write(&segment, &bytes[..cut]).unwrap();
        let reread = celltime_store::testing::store(dir.path())
            .notebook(&nb("nb"))
            .unwrap();
        assert_eq!(reread.index().len(), 1, "cut at {cut}");
        assert!(
            reread
                .issues()
                .iter()
                .all(|i| i.severity != Severity::Error)
        );
    }
}

#[test]
fn a_corrupt_middle_line_is_reported_and_blocks_writes() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    for t in 1..=3 {
        notebook
            .put(entry("nb", "cell", "m1", t, &t.to_string()))
            .unwrap();
    }
    let segment = std::fs::read_dir(notebook.dir().join("log"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&segment).unwrap();
    let second_line = bytes.iter().position(|&b| b == b'\n').unwrap() + 60;
    bytes[second_line] ^= 0x20;
    std::fs::write(&segment, &bytes).unwrap();
    let before = tree(dir.path());

    let mut reread = celltime_store::testing::store(dir.path())
        .notebook(&nb("nb"))
        .unwrap();
    assert_eq!(
        reread.index().len(),
        1,
        "records before the damage are read"
    );
    let issue = reread
        .issues()
        .iter()
        .find(|i| i.severity == Severity::Error)
        .unwrap();
    assert_eq!(issue.at.line, Some(2));
    let err = reread.put(entry("nb", "cell", "m1", 9, "x")).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(reread.consolidate().is_err());
    assert!(reread.verify().unwrap().errors() > 0);
    let mut after = tree(dir.path());
    after.retain(|p, _| !p.ends_with(".lock"));
    let mut before = before;
    before.retain(|p, _| !p.ends_with(".lock"));
    assert_eq!(before, after, "a refused write changes nothing");
}

#[test]
fn a_missing_content_makes_only_its_part_unavailable() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let mut e = entry("nb", "cell", "m1", 1, "a");
    e.parts.push(celltime_store::model::NewPart::output(
        "image/png",
        vec![9; 100_000],
    ));
    let id = notebook.put(e).unwrap().id();
    notebook.consolidate().unwrap();
    let objects = notebook.dir().join("objects");
    for path in tree(&objects).into_keys() {
        std::fs::remove_file(objects.join(path)).unwrap();
    }
    let reread = celltime_store::testing::store(dir.path())
        .notebook(&nb("nb"))
        .unwrap();
    let fetched = reread.get(id, PartMask::all()).unwrap();
    let failed: Vec<_> = fetched.parts.iter().filter(|(_, r)| r.is_err()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0.label, "image/png");
    let report = reread.verify().unwrap();
    assert_eq!(report.errors(), 1, "{:?}", report.problems);
}

#[test]
fn a_flipped_content_byte_is_detected_not_served() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let mut e = entry("nb", "cell", "m1", 1, "a");
    e.parts.push(celltime_store::model::NewPart::output(
        "image/png",
        vec![9; 100_000],
    ));
    let id = notebook.put(e).unwrap().id();
    let objects = notebook.dir().join("objects");
    let object = objects.join(tree(&objects).into_keys().next().unwrap());
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[500] ^= 1;
    std::fs::write(&object, bytes).unwrap();
    let fetched = notebook.get(id, PartMask::all()).unwrap();
    assert_eq!(fetched.parts.iter().filter(|(_, r)| r.is_err()).count(), 1);
    let report = notebook.verify().unwrap();
    assert_eq!(report.errors(), 1, "{:?}", report.problems);
}

/// A content of several BLAKE3 subtrees, checked by `verify` and by a streamed copy (what
/// `show --raw` prints) through the one file hasher: whole, it copies exactly; with one byte
/// flipped deep inside, or cut short, both refuse it and nothing is copied.
#[test]
fn verify_and_a_streamed_copy_check_a_large_object_alike() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let content: Vec<u8> = (0..5 * (1 << 20) + 12_345u32)
        .map(|i| (i * 7 % 253) as u8)
        .collect();
    let mut e = entry("nb", "cell", "m1", 1, "a");
    e.parts.push(celltime_store::model::NewPart::output(
        "application/octet-stream",
        content.clone(),
    ));
    let id = notebook.put(e).unwrap().id();
    let fetched = notebook.get(id, PartMask::all()).unwrap();
    let (part, _) = fetched
        .parts
        .into_iter()
        .find(|(p, _)| p.size == content.len() as u64)
        .unwrap();
    let copy = |notebook: &celltime_store::store::Notebook| {
        let mut out = Vec::new();
        let copied = notebook.reader().copy_to(part.content, part.size, &mut out);
        (copied, out)
    };
    let (copied, out) = copy(&notebook);
    assert_eq!(
        (copied.unwrap(), out == content),
        (content.len() as u64, true)
    );
    assert_eq!(notebook.verify().unwrap().errors(), 0);

    let objects = notebook.dir().join("objects");
    let object = objects.join(tree(&objects).into_keys().next().unwrap());
    let mut flipped = content.clone();
    flipped[4 * (1 << 20) + 77] ^= 1;
    std::fs::write(&object, &flipped).unwrap();
    let (copied, out) = copy(&notebook);
    assert!(copied.is_err() && out.is_empty());
    assert_eq!(notebook.verify().unwrap().errors(), 1);

    std::fs::write(&object, &content[..3 << 20]).unwrap();
    let (copied, out) = copy(&notebook);
    assert!(copied.is_err() && out.is_empty());
    assert_eq!(notebook.verify().unwrap().errors(), 1);
}

#[test]
fn unknown_files_are_left_alone() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let id = notebook
        .put(entry("nb", "cell", "m1", 1, "a"))
        .unwrap()
        .id();
    let folder = notebook.dir().to_path_buf();
    let strays = [
        folder.join(".DS_Store"),
        folder.join("objects/ab/notes.txt"),
        folder.join("packs/README"),
        folder.join("log/.nfs0001"),
    ];
    for stray in &strays {
        std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
        std::fs::write(stray, b"not the store's").unwrap();
    }
    notebook.remove(&[id]).unwrap();
    notebook.consolidate().unwrap();
    let report = notebook.gc(std::time::Duration::ZERO).unwrap();
    assert!(
        report
            .unknown_files
            .iter()
            .any(|p| p.ends_with("notes.txt"))
    );
    for stray in &strays {
        assert!(stray.exists(), "{} was deleted", stray.display());
    }
}

#[test]
fn malformed_maps_are_refused_with_file_and_line() {
    let dir = workspace();
    let folder = three_entries(dir.path());
    let map = folder.join("map.toml");
    let good = std::fs::read_to_string(&map).unwrap();
    let cases = [
        (
            good.replacen("code = {", "shiny = true, code = {", 1),
            "unknown field",
        ),
        (good.replacen("size = ", "size = -", 1), "invalid value"),
        (
            format!("{good}\n[entry.\"c\".\"m\".\"0\".\"yesterday\"]\n"),
            "invalid timestamp",
        ),
        (
            format!("{good}\n[entry.\"c\".\"bad hash!\".\"0\".\"2026-11-25T10:00:00.000Z\"]\n"),
            "module hash",
        ),
        (
            good.replacen("format = 2", "format = 7", 1),
            "newer than this celltime",
        ),
        (good.replacen("[map]", "[map", 1), ""),
    ];
    for (text, expected) in cases {
        std::fs::write(&map, &text).unwrap();
        let _ = std::fs::remove_dir_all(folder.join(".index"));
        let before = tree(dir.path());
        let err = store(dir.path()).notebook(&nb("nb")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("map.toml"), "{message}");
        assert!(message.contains(expected), "{message} lacks {expected}");
        if !expected.contains("newer") {
            assert!(message.contains("map.toml:"), "no line in {message}");
        }
        let mut after = tree(dir.path());
        after.retain(|p, _| !p.ends_with(".lock"));
        let mut before = before;
        before.retain(|p, _| !p.ends_with(".lock"));
        assert_eq!(before, after, "refusing changed files");
    }
}

#[test]
fn keys_that_would_escape_the_store_are_refused() {
    for key in [
        "../x",
        "/etc/x",
        "a/../../b",
        "a\0b",
        ".hidden",
        "a/log",
        &"x".repeat(2000),
    ] {
        assert!(
            celltime_store::model::NotebookKey::new(key).is_err(),
            "{key:?}"
        );
    }
    let dir = workspace();
    std::fs::create_dir_all(dir.path().join("__marimo__/persist/../escape")).unwrap();
    let store = store(dir.path());
    assert!(store.notebook_keys().unwrap().is_empty());
}

#[test]
fn gc_removes_stale_temp_files_of_interrupted_writes() {
    let dir = workspace();
    let folder = three_entries(dir.path());
    let leftovers = [
        folder.join(".tmp-map.toml-1a2b3c4d"),
        folder.join("packs/.tmp-w-20261125T000000Z-abcdef.sqlite"),
        folder.join("packs/.tmp-w-20261125T000000Z-abcdef.sqlite-journal"),
        folder.join("objects/ab/.tmp-0123456789ab"),
    ];
    for path in &leftovers {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"partial").unwrap();
    }
    let mut notebook = store(dir.path()).notebook(&nb("nb")).unwrap();
    let young = notebook.gc(std::time::Duration::from_secs(3600)).unwrap();
    assert_eq!(
        young.temp_files_removed, 0,
        "young leftovers may belong to a live write"
    );
    let report = notebook.gc(std::time::Duration::ZERO).unwrap();
    assert_eq!(report.temp_files_removed, 4);
    assert!(leftovers.iter().all(|p| !p.exists()));
    assert_eq!(notebook.verify().unwrap().errors(), 0);
}
