//! Listing: exactly the entries marimo wrote, nothing else.

use super::fixture::{self, copy, expected};
use celltime_store::legacy::scan::{self, LegacyEntry};
use celltime_store::model::History;
use std::collections::BTreeSet;

fn expected_entries(ws: &str) -> BTreeSet<String> {
    expected(ws)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let path = e["path"].as_str().unwrap();
            path.strip_prefix("__marimo__/cache/").unwrap().to_string()
        })
        .collect()
}

#[test]
fn finds_exactly_the_expected_entries_in_every_workspace() {
    for ws in ["demo", "cellcache", "signed", "py2"] {
        let c = copy(ws);
        let found = scan::scan(&c.root.join("__marimo__/cache")).unwrap();
        let paths: BTreeSet<String> = found.entries.iter().map(|e| e.rel_path.clone()).collect();
        assert_eq!(paths, expected_entries(ws), "{ws}");
        assert_eq!(
            found.entries.len() as u64,
            expected(ws)["entry_count"].as_u64().unwrap()
        );
        let total: u64 = found.entries.iter().map(LegacyEntry::size).sum();
        assert_eq!(
            total,
            expected(ws)["cache_bytes_total"].as_u64().unwrap(),
            "{ws}"
        );
        assert!(
            found.incomplete.is_empty() && found.skipped.is_empty(),
            "{ws}"
        );
        for entry in &found.entries {
            let e = expected(ws)["entries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["path"].as_str().unwrap().ends_with(&entry.rel_path))
                .unwrap();
            assert_eq!(entry.name.hash, e["hash"].as_str().unwrap());
            assert_eq!(entry.block, e["block"].as_str().unwrap());
            assert_eq!(entry.name.loader.name(), e["loader"].as_str().unwrap());
        }
    }
}

#[test]
fn lazy_manifest_and_blob_folder_are_one_entry() {
    let c = copy("demo");
    let found = scan::scan(&c.root.join("__marimo__/cache")).unwrap();
    let lazy = found
        .entries
        .iter()
        .find(|e| e.block == "lazy_block")
        .unwrap();
    assert_eq!(lazy.files.len(), 3);
    assert_eq!(lazy.size(), 627 + 176 + 33);
    assert_eq!(
        lazy.blob_dir.as_deref(),
        Some("lazy_block/F4McLsthtQewN0f42ZSx2UajlPXNRGUq9RuGDjV2SDM")
    );
    assert_eq!(
        found.notebook_manifests,
        vec!["notebook-81b6c9e3c012558a.json"]
    );
}

#[test]
fn temp_files_manifests_strays_and_incomplete_writes_are_never_entries() {
    let c = copy("demo");
    let cache = c.root.join("__marimo__/cache");
    std::fs::write(cache.join("ctx_block/C_abc.pickle.tmp0a1b2c3d"), b"partial").unwrap();
    std::fs::write(cache.join(".notebook-export.json"), b"[]").unwrap();
    std::fs::write(cache.join("other-0123456789abcdef.json"), b"{}").unwrap();
    std::fs::write(cache.join("ctx_block/notes.txt"), b"mine").unwrap();
    std::fs::create_dir(cache.join("lazy_block/halfWritten")).unwrap();
    std::fs::write(cache.join("lazy_block/halfWritten/x.npy"), b"").unwrap();
    std::os::unix::fs::symlink("/etc", cache.join("linked_block")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", cache.join("ctx_block/C_link.pickle")).unwrap();
    let found = scan::scan(&cache).unwrap();
    let paths: BTreeSet<String> = found.entries.iter().map(|e| e.rel_path.clone()).collect();
    assert_eq!(paths, expected_entries("demo"));
    assert_eq!(found.incomplete, vec!["lazy_block/halfWritten"]);
    let skipped: Vec<&str> = found.skipped.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        skipped,
        vec![
            "ctx_block/C_link.pickle",
            "ctx_block/notes.txt",
            "linked_block"
        ]
    );
    let history = fixture::legacy(&c.root);
    let listed: usize = history.notebooks().unwrap().iter().map(|n| n.entries).sum();
    assert_eq!(listed, 12);
}

#[test]
fn ids_come_from_the_relative_path_and_times_from_the_file() {
    let a = copy("demo");
    let b = copy("demo");
    let ids = |root: &std::path::Path| -> Vec<_> {
        scan::scan(&root.join("__marimo__/cache"))
            .unwrap()
            .entries
            .iter()
            .map(|e| e.id())
            .collect()
    };
    assert_eq!(ids(&a.root), ids(&b.root));
    let history = fixture::legacy(&a.root);
    let rows = fixture::timeline(&history, "notebook").rows;
    assert!(
        rows.iter()
            .all(|r| r.approximate_time && r.version.as_ref() == "0")
    );
    let found = scan::scan(&a.root.join("__marimo__/cache")).unwrap();
    for row in &rows {
        let entry = found.find(row.id).unwrap();
        assert_eq!(row.created_at, entry.created_at());
        assert_eq!(*row.module, entry.name.hash);
        assert_eq!(*row.cell, entry.block);
        assert_eq!(row.size, entry.size());
    }
}

#[test]
fn a_custom_cache_dir_is_listed_under_its_own_name() {
    let c = copy("demo");
    let elsewhere = c.root.parent().unwrap().join("my_cache");
    std::fs::rename(c.root.join("__marimo__/cache"), &elsewhere).unwrap();
    std::fs::remove_file(elsewhere.join("notebook-81b6c9e3c012558a.json")).unwrap();
    std::fs::rename(c.root.join("notebook.py"), c.root.join("moved.txt")).unwrap();
    let history = celltime_store::legacy::LegacyHistory::open(&c.root, Some(&elsewhere)).unwrap();
    let notebooks = history.notebooks().unwrap();
    assert_eq!(notebooks.len(), 1);
    assert_eq!(notebooks[0].notebook, "my_cache");
    assert_eq!(notebooks[0].entries, 12);
}
