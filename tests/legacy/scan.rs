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
            assert_eq!(&*entry.block, e["block"].as_str().unwrap());
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
        .find(|e| &*e.block == "lazy_block")
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
        assert_eq!(row.cell, entry.block);
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

/// Hundreds of entries in one block are stat'ed on several threads (a few dozen at a time):
/// every one is found once, in path order, each lazy one with its own blobs.
#[test]
fn a_large_block_is_listed_whole_and_in_path_order() {
    const LAZY_HASH: &str = "F4McLsthtQewN0f42ZSx2UajlPXNRGUq9RuGDjV2SDM";
    let c = copy("demo");
    let lazy_block = c.root.join("__marimo__/cache/lazy_block");
    let manifest = std::fs::read(lazy_block.join(format!("C_{LAZY_HASH}.jsonl"))).unwrap();
    for n in 0..300 {
        let hash = format!("copy{n:04}");
        std::fs::write(lazy_block.join(format!("C_{hash}.jsonl")), &manifest).unwrap();
        std::fs::create_dir(lazy_block.join(&hash)).unwrap();
        for blob in ["a.npy", "b.pickle"] {
            std::fs::write(lazy_block.join(&hash).join(blob), hash.as_bytes()).unwrap();
        }
    }
    let found = scan::scan(&c.root.join("__marimo__/cache")).unwrap();
    assert_eq!(found.entries.len(), 12 + 300);
    assert!(found.entries.is_sorted_by(|a, b| a.rel_path < b.rel_path));
    for n in 0..300 {
        let rel = format!("lazy_block/C_copy{n:04}.jsonl");
        let entry = found.find(scan::entry_id(&rel)).unwrap();
        assert_eq!(entry.rel_path, rel);
        let blob_dir = format!("lazy_block/copy{n:04}");
        assert_eq!(entry.blob_dir.as_deref(), Some(blob_dir.as_str()));
        let blobs: Vec<&str> = entry.blobs().iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(
            blobs,
            [format!("{blob_dir}/a.npy"), format!("{blob_dir}/b.pickle")]
        );
    }
    assert!(found.incomplete.is_empty() && found.skipped.is_empty());
}

/// Two lazy manifests of one hash (marimo writes one) would share a blob folder: it belongs
/// to the first in path order, so removing the second can never take the first one's blobs.
#[test]
fn a_blob_folder_two_manifests_name_belongs_to_the_first() {
    const LAZY_HASH: &str = "F4McLsthtQewN0f42ZSx2UajlPXNRGUq9RuGDjV2SDM";
    let c = copy("demo");
    let lazy_block = c.root.join("__marimo__/cache/lazy_block");
    std::fs::copy(
        lazy_block.join(format!("C_{LAZY_HASH}.jsonl")),
        lazy_block.join(format!("E_{LAZY_HASH}.jsonl")),
    )
    .unwrap();
    let found = scan::scan(&c.root.join("__marimo__/cache")).unwrap();
    let of = |prefix: char| {
        found
            .entries
            .iter()
            .find(|e| e.name.prefix == prefix && e.name.hash == LAZY_HASH)
            .unwrap()
    };
    assert_eq!(
        of('C').blob_dir.as_deref(),
        Some(format!("lazy_block/{LAZY_HASH}").as_str())
    );
    assert_eq!(of('C').files.len(), 3);
    assert_eq!(
        (of('E').blob_dir.as_deref(), of('E').files.len()),
        (None, 1)
    );
    assert!(found.incomplete.is_empty());
}
