//! Two machines sharing a store through a sync tool or git: copies of one store diverge (puts,
//! pins and prunes on both), then are merged file by file the way Dropbox (one side keeps the
//! name, the other becomes a conflicted copy — either side may win) or git (conflict markers)
//! would. The merged store must open, verify, keep every acknowledged entry that no prune
//! removed, and report the conflict files without deleting them.

use celltime_store::model::{EntryId, PartMask};
use celltime_store::testing::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

type Tree = BTreeMap<PathBuf, Vec<u8>>;

struct Diverged {
    base: Tree,
    a: Tree,
    b: Tree,
    /// Entries acknowledged on either side and not removed by either side's prune.
    must_survive: BTreeSet<EntryId>,
    pinned_by_b: EntryId,
}

fn store_tree(dir: &Path) -> Tree {
    let mut t = tree(dir);
    // Machine-local files never travel: the lock and derived snapshots.
    t.retain(|p, _| !p.ends_with(".lock") && !p.components().any(|c| c.as_os_str() == ".index"));
    t
}

fn ids(dir: &Path) -> BTreeSet<EntryId> {
    visible(dir, "nb").into_keys().collect()
}

/// A base store copied to machines A and B, which then work independently.
fn diverge(consolidate_a: bool) -> Diverged {
    let base_dir = workspace();
    let mut base = store_as(base_dir.path(), "base_0000")
        .notebook_for_write(&nb("nb"))
        .unwrap();
    let base_keys = base
        .put_batch(
            (1..=4)
                .map(|t| entry("nb", "cell", "m1", t, &format!("base{t}")))
                .collect(),
        )
        .unwrap();
    base.consolidate().unwrap();
    let base_tree = store_tree(base_dir.path());

    let copy = |tree: &Tree| {
        let dir = workspace();
        for (path, bytes) in tree {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, bytes).unwrap();
        }
        dir
    };
    let a_dir = copy(&base_tree);
    let b_dir = copy(&base_tree);

    let mut a = store_as(a_dir.path(), "machineA_00")
        .notebook_for_write(&nb("nb"))
        .unwrap();
    let a_new: Vec<EntryId> = a
        .put_batch(vec![
            entry("nb", "cell", "m2", 10, "a1"),
            entry("nb", "other", "m3", 11, "a2"),
        ])
        .unwrap()
        .iter()
        .map(|k| k.id())
        .collect();
    a.remove(&[base_keys[0].id()]).unwrap();
    if consolidate_a {
        a.consolidate().unwrap();
        a.gc(Duration::ZERO).unwrap();
    }

    let mut b = store_as(b_dir.path(), "machineB_00")
        .notebook_for_write(&nb("nb"))
        .unwrap();
    let b_new: Vec<EntryId> = b
        .put_batch(vec![entry("nb", "cell", "m4", 12, "b1")])
        .unwrap()
        .iter()
        .map(|k| k.id())
        .collect();
    b.pin(&[base_keys[2].id()]).unwrap();
    b.remove(&[base_keys[1].id()]).unwrap();
    b.consolidate().unwrap();
    b.gc(Duration::ZERO).unwrap();

    let removed: BTreeSet<EntryId> = [base_keys[0].id(), base_keys[1].id()].into();
    let must_survive = base_keys
        .iter()
        .map(|k| k.id())
        .chain(a_new)
        .chain(b_new)
        .filter(|id| !removed.contains(id))
        .collect();
    Diverged {
        base: base_tree,
        a: store_tree(a_dir.path()),
        b: store_tree(b_dir.path()),
        must_survive,
        pinned_by_b: base_keys[2].id(),
    }
}

#[derive(Clone, Copy)]
enum Merge {
    /// Dropbox: the winner keeps the name, the other side's version becomes a conflicted copy.
    Dropbox { a_wins: bool },
    /// git: a file changed on both sides gets conflict markers.
    Git,
}

fn conflicted_copy_name(path: &Path, machine: &str) -> PathBuf {
    let stem = path.file_stem().unwrap().to_string_lossy();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!(
        "{stem} ({machine}'s conflicted copy 2026-11-25){ext}"
    ))
}

fn git_markers(ours: &[u8], base: &[u8], theirs: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let files = ["ours", "base", "theirs"].map(|n| dir.path().join(n));
    for (file, bytes) in files.iter().zip([ours, base, theirs]) {
        std::fs::write(file, bytes).unwrap();
    }
    let output = std::process::Command::new("git")
        .arg("merge-file")
        .arg("-p")
        .args(&files)
        .output()
        .expect("git is needed for the git merge scenario");
    output.stdout
}

/// A three-way merge at file level: a file changed on one side only takes that side (a
/// deletion included); a file changed on both sides is resolved as the tool would.
fn merge(d: &Diverged, how: Merge) -> tempfile::TempDir {
    let out = workspace();
    let paths: BTreeSet<&PathBuf> = d.base.keys().chain(d.a.keys()).chain(d.b.keys()).collect();
    let mut merged: Tree = Tree::new();
    for path in paths {
        let (base, a, b) = (d.base.get(path), d.a.get(path), d.b.get(path));
        let chosen = if a == b || b == base {
            a
        } else if a == base {
            b
        } else {
            match how {
                Merge::Dropbox { a_wins } => {
                    let (winner, loser, machine) = if a_wins {
                        (a, b, "machineB")
                    } else {
                        (b, a, "machineA")
                    };
                    if let Some(bytes) = loser {
                        merged.insert(conflicted_copy_name(path, machine), bytes.clone());
                    }
                    winner
                }
                Merge::Git => {
                    let empty = Vec::new();
                    let text = git_markers(
                        a.unwrap_or(&empty),
                        base.unwrap_or(&empty),
                        b.unwrap_or(&empty),
                    );
                    merged.insert(path.clone(), text);
                    continue;
                }
            }
        };
        if let Some(bytes) = chosen {
            merged.insert(path.clone(), bytes.clone());
        }
    }
    for (path, bytes) in merged {
        let full = out.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, bytes).unwrap();
    }
    out
}

fn check(d: &Diverged, merged: &Path, scenario: &str) {
    let notebook = store_as(merged, "machineC_00")
        .notebook_for_write(&nb("nb"))
        .unwrap();
    let report = notebook.verify().unwrap();
    assert_eq!(report.errors(), 0, "{scenario}: {:?}", report.problems);
    let present = ids(merged);
    for id in &d.must_survive {
        assert!(
            present.contains(id),
            "{scenario}: entry {} was lost",
            id.short()
        );
    }
    for view in notebook.index().views() {
        let fetched = notebook.get(view.id, PartMask::all()).unwrap();
        assert!(
            fetched.parts.iter().all(|(_, b)| b.is_ok()),
            "{scenario}: {} has no content",
            view.id.short()
        );
    }
    assert!(
        notebook.index().view(d.pinned_by_b).unwrap().pinned,
        "{scenario}: machine B's pin was lost"
    );
    if !matches!(scenario, "union") {
        assert!(
            !notebook.issues().is_empty(),
            "{scenario}: the conflict went unreported"
        );
    }
    let copies_before: Vec<PathBuf> = tree(merged)
        .into_keys()
        .filter(|p| p.to_string_lossy().contains("conflicted copy"))
        .collect();
    let mut writer = store_as(merged, "machineC_00")
        .notebook_for_write(&nb("nb"))
        .unwrap();
    writer.consolidate().unwrap();
    for copy in copies_before {
        assert!(
            merged.join(&copy).exists(),
            "{scenario}: {} was deleted",
            copy.display()
        );
    }
    let after = ids(merged);
    assert!(
        d.must_survive.is_subset(&after),
        "{scenario}: consolidating the merge lost entries"
    );
}

#[test]
fn dropbox_with_machine_a_winning() {
    let d = diverge(true);
    check(
        &d,
        merge(&d, Merge::Dropbox { a_wins: true }).path(),
        "dropbox, A wins",
    );
}

#[test]
fn dropbox_with_machine_b_winning() {
    let d = diverge(true);
    check(
        &d,
        merge(&d, Merge::Dropbox { a_wins: false }).path(),
        "dropbox, B wins",
    );
}

#[test]
fn git_conflict_markers() {
    let d = diverge(true);
    check(&d, merge(&d, Merge::Git).path(), "git");
}

#[test]
fn unconsolidated_records_travel_in_their_own_segment() {
    // A never consolidated: its work is only in its log segment, a file no one else writes.
    let d = diverge(false);
    check(
        &d,
        merge(&d, Merge::Dropbox { a_wins: false }).path(),
        "union",
    );
}
