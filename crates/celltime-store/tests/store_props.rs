//! Random sequences of put / pin / unpin / use / remove / consolidate / gc / reopen against an
//! in-memory model: the store and the model must agree on every read.

use celltime_store::model::{EntryId, PartMask, Timestamp};
use celltime_store::store::{Notebook, StoreError};
use celltime_store::testing::*;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Op {
    Put {
        cell: u8,
        module: u8,
        version: u8,
        t: i64,
        seed: u8,
    },
    Pin(usize),
    Unpin(usize),
    Touch(usize, i64),
    Remove(usize),
    Consolidate,
    Gc,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..3, 0u8..3, 0u8..2, 0i64..12, 0u8..3).prop_map(|(cell, module, version, t, seed)| Op::Put { cell, module, version, t, seed }),
        1 => any::<usize>().prop_map(Op::Pin),
        1 => any::<usize>().prop_map(Op::Unpin),
        1 => (any::<usize>(), 0i64..100).prop_map(|(i, t)| Op::Touch(i, t)),
        2 => any::<usize>().prop_map(Op::Remove),
        1 => Just(Op::Consolidate),
        1 => Just(Op::Gc),
        1 => Just(Op::Reopen),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct Expected {
    seed: u8,
    pinned: bool,
    last_used: Option<Timestamp>,
}

fn pick(model: &BTreeMap<EntryId, Expected>, i: usize) -> Option<EntryId> {
    (!model.is_empty()).then(|| *model.keys().nth(i % model.len()).expect("in range"))
}

fn check(notebook: &Notebook, model: &BTreeMap<EntryId, Expected>) {
    let views = notebook.index().views();
    let seen: BTreeMap<EntryId, (bool, Option<Timestamp>)> = views
        .iter()
        .map(|v| (v.id, (v.pinned, v.last_used)))
        .collect();
    let wanted: BTreeMap<EntryId, (bool, Option<Timestamp>)> = model
        .iter()
        .map(|(id, e)| (*id, (e.pinned, e.last_used)))
        .collect();
    assert_eq!(seen, wanted);
    for (id, expected) in model {
        let fetched = notebook.get(*id, PartMask::all()).expect("listed");
        for (part, bytes) in fetched.parts {
            let bytes = bytes.expect("every content of a live entry is readable");
            if part.label == "text/plain" {
                assert_eq!(bytes, format!("result {}", expected.seed).into_bytes());
            }
        }
    }
}

fn run(ops: Vec<Op>) {
    let dir = workspace();
    let mut notebook = store(dir.path()).notebook_for_write(&nb("nb")).unwrap();
    let mut model: BTreeMap<EntryId, Expected> = BTreeMap::new();
    for op in ops {
        match op {
            Op::Put {
                cell,
                module,
                version,
                t,
                seed,
            } => {
                let e = with_version(
                    entry(
                        "nb",
                        &format!("c{cell}"),
                        &format!("m{module}"),
                        t,
                        &seed.to_string(),
                    ),
                    &version.to_string(),
                );
                let result = notebook.put(e);
                match result {
                    Ok(key) => {
                        let id = key.id();
                        match model.get(&id) {
                            Some(existing) => assert_eq!(existing.seed, seed),
                            None => {
                                model.insert(
                                    id,
                                    Expected {
                                        seed,
                                        pinned: false,
                                        last_used: None,
                                    },
                                );
                            }
                        }
                    }
                    Err(StoreError::Clash(id)) => assert_ne!(model[&id].seed, seed),
                    Err(e) => panic!("put failed: {e}"),
                }
            }
            Op::Pin(i) | Op::Unpin(i) => {
                if let Some(id) = pick(&model, i) {
                    let pin = matches!(op, Op::Pin(_));
                    if pin {
                        notebook.pin(&[id]).unwrap()
                    } else {
                        notebook.unpin(&[id]).unwrap()
                    };
                    model.get_mut(&id).unwrap().pinned = pin;
                }
            }
            Op::Touch(i, t) => {
                if let Some(id) = pick(&model, i) {
                    notebook.touch(&[id], Timestamp(t)).unwrap();
                    let e = model.get_mut(&id).unwrap();
                    e.last_used = Some(e.last_used.map_or(Timestamp(t), |u| u.max(Timestamp(t))));
                }
            }
            Op::Remove(i) => {
                if let Some(id) = pick(&model, i) {
                    assert_eq!(notebook.remove(&[id]).unwrap(), 1);
                    model.remove(&id);
                }
            }
            Op::Consolidate => notebook.consolidate().unwrap(),
            Op::Gc => {
                notebook.gc(Duration::ZERO).unwrap();
            }
            Op::Reopen => notebook = store(dir.path()).notebook_for_write(&nb("nb")).unwrap(),
        }
        check(&notebook, &model);
    }
    let fresh = store(dir.path()).notebook_for_write(&nb("nb")).unwrap();
    check(&fresh, &model);
    let report = fresh.verify().unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.problems);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn the_store_agrees_with_a_model(ops in proptest::collection::vec(op(), 1..30)) {
        run(ops);
    }
}

/// A use recorded with a time before the entry's own record was once applied before it.
#[test]
fn a_back_dated_use_survives_reopening() {
    run(vec![
        Op::Put {
            cell: 0,
            module: 0,
            version: 0,
            t: 0,
            seed: 0,
        },
        Op::Touch(0, 0),
        Op::Reopen,
    ]);
}
