//! Damaged caches: truncated or mutated files never panic the scanner, the history or import.

use super::fixture::{copy_tree, files, fixtures};
use celltime_store::legacy::{LegacyHistory, import};
use celltime_store::model::History;
use celltime_store::store::{Store, Workspace};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Damage {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Replace(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<usize>().prop_map(Damage::Truncate),
        (any::<usize>(), 1u8..=255).prop_map(|(at, bits)| Damage::Flip(at, bits)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, b)| Damage::Insert(at, b)),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Damage::Replace),
    ]
}

fn apply(bytes: &mut Vec<u8>, damage: &Damage) {
    let at = |n: usize, len: usize| if len == 0 { 0 } else { n % len };
    match damage {
        Damage::Truncate(n) => bytes.truncate(at(*n, bytes.len())),
        Damage::Flip(n, bits) => {
            let i = at(*n, bytes.len());
            if let Some(b) = bytes.get_mut(i) {
                *b ^= bits;
            }
        }
        Damage::Insert(n, more) => {
            let i = at(*n, bytes.len());
            bytes.splice(i..i, more.iter().copied());
        }
        Damage::Replace(new) => *bytes = new.clone(),
    }
}

/// Everything a user can do with the history, errors allowed, panics not.
fn exercise(root: &std::path::Path) {
    let Ok(history) = LegacyHistory::open(root, None) else {
        return;
    };
    let Ok(notebooks) = history.notebooks() else {
        return;
    };
    for info in notebooks {
        let Ok(timeline) = history.timeline(&info.notebook) else {
            continue;
        };
        for row in &timeline.rows {
            if let Ok(detail) = history.detail(&info.notebook, row.id) {
                for part in &detail.parts {
                    if let Ok(bytes) = history.read(&info.notebook, part) {
                        let _ = super::fixture::preview(part, &bytes);
                    }
                }
            }
        }
    }
    let _ = import(
        root,
        &Store::open(&Workspace::at(root)).unwrap(),
        None,
        &celltime_store::ops::Unrecorded,
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn damaged_files_never_panic(ws in prop::sample::select(vec!["demo", "cellcache", "signed"]),
                                 pick in any::<prop::sample::Index>(),
                                 damages in proptest::collection::vec(damage(), 1..4)) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(ws);
        copy_tree(&fixtures().join(ws), &root);
        let all = files(&root);
        let target = root.join(pick.get(&all));
        let mut bytes = std::fs::read(&target).unwrap();
        for d in &damages {
            apply(&mut bytes, d);
        }
        std::fs::write(&target, bytes).unwrap();
        exercise(&root);
    }
}

#[test]
fn deep_nesting_and_huge_lengths_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    copy_tree(&fixtures().join("demo"), &root);
    let cache = root.join("__marimo__/cache");
    let mut deep = vec![0x80, 0x04];
    deep.extend(std::iter::repeat_n(b']', 1_000_000));
    std::fs::write(cache.join("pure_block/P_deep.pickle"), deep).unwrap();
    std::fs::write(
        cache.join("pure_block/P_huge.pickle"),
        [
            0x80, 0x04, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ],
    )
    .unwrap();
    std::fs::write(cache.join("json_block/C_deep.json"), "[".repeat(100_000)).unwrap();
    std::fs::write(
        cache.join("lazy_block/C_deep.jsonl"),
        "{\"defs\":".repeat(50_000),
    )
    .unwrap();
    exercise(&root);
    let history = LegacyHistory::open(&root, None).unwrap();
    let rows = history.timeline("notebook").unwrap().rows;
    assert_eq!(rows.len(), 16, "damaged entries are still listed");
    for row in rows {
        let detail = history.detail("notebook", row.id).unwrap();
        assert!(!detail.facts.is_empty());
    }
}
