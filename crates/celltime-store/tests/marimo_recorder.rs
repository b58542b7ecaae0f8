//! The marimo plugin's use of a notebook: keys served from the chosen run, runs recorded with
//! marimo's key, uses batched.

use celltime_store::marimo::{Recorder, Run};
use celltime_store::model::{CellKey, MarimoKey, NewPart};
use celltime_store::testing::*;

fn key(text: &str) -> MarimoKey {
    MarimoKey::new(text).unwrap()
}

#[test]
fn a_recorded_value_is_served_under_its_key_and_only_in_its_format() {
    let dir = workspace();
    let store = store(dir.path());
    let mut recorder = Recorder::open(&store, &nb("sub/nb"), Some("sub/nb.py")).unwrap();
    assert_eq!(recorder.get("block/C_h1.pickle").unwrap(), None);
    let run = Run::of_value(
        key("block/C_h1.pickle"),
        Some("x = 1".into()),
        b"P1".to_vec(),
    );
    let id = recorder.record(run.unwrap()).unwrap();
    let served = recorder.get("block/C_h1.pickle").unwrap();
    assert_eq!(served, Some(b"P1".to_vec()), "a waiting run is served");
    let unwritten = store.notebook(&nb("sub/nb"));
    assert!(unwritten.is_err(), "nothing is written before the batch");
    recorder.flush().unwrap();
    let served = recorder.get("block/C_h1.pickle").unwrap();
    assert_eq!(served, Some(b"P1".to_vec()), "a written run is served");
    assert_eq!(
        recorder.get("block/C_h1.json").unwrap(),
        None,
        "a json read is a miss"
    );
    assert_eq!(recorder.get("other/C_h1.pickle").unwrap(), None);
    recorder.close().unwrap();

    let reader = store.notebook(&nb("sub/nb")).unwrap();
    let entry = reader.index().get(id).unwrap();
    assert!(entry.last_used.is_some(), "the hit was recorded at close");
    assert_eq!(entry.marimo_key, Some(key("block/C_h1.pickle")));
    assert_eq!(entry.key.cell.as_str(), "block");
    assert_eq!(entry.key.module.as_str(), "h1");
    let notebook_toml = std::fs::read_to_string(reader.dir().join("notebook.toml")).unwrap();
    assert!(
        notebook_toml.contains("source = \"sub/nb.py\""),
        "{notebook_toml}"
    );
}

#[test]
fn serve_rolls_marimo_back_to_an_older_run() {
    let dir = workspace();
    let store = store(dir.path());
    let mut recorder = Recorder::open(&store, &nb("nb"), None).unwrap();
    let k = key("block/D_h2.pickle");
    let first = recorder
        .record(Run::of_value(k.clone(), None, b"first".to_vec()).unwrap())
        .unwrap();
    recorder
        .record(Run::of_value(k.clone(), None, b"second".to_vec()).unwrap())
        .unwrap();
    assert_eq!(recorder.get(k.as_str()).unwrap(), Some(b"second".to_vec()));
    recorder.flush().unwrap();
    assert_eq!(recorder.get(k.as_str()).unwrap(), Some(b"second".to_vec()));

    // Another process (the CLI) chooses the first run.
    store.notebook(&nb("nb")).unwrap().serve(&[first]).unwrap();
    recorder.refresh_now().unwrap();
    assert_eq!(recorder.get(k.as_str()).unwrap(), Some(b"first".to_vec()));
    assert_eq!(recorder.served(&k).unwrap(), Some(first));
}

#[test]
fn a_lazy_run_is_one_entry_whose_blobs_are_served_by_their_keys() {
    let dir = workspace();
    let store = store(dir.path());
    let mut recorder = Recorder::open(&store, &nb("nb"), None).unwrap();
    let run = Run {
        cell: CellKey::new("lazy_block").unwrap(),
        marimo_key: key("lazy_block/C_h3.jsonl"),
        code: Some("with mo.persistent_cache('lazy_block', method='lazy'): ...".into()),
        created_at: None,
        parts: vec![
            NewPart::variables("", "jsonl", b"{\"hash\":\"h3\"}".to_vec()),
            NewPart::variables("arr", "npy", b"NPY".to_vec()),
        ],
    };
    assert_eq!(recorder.existing(&run), None);
    let id = recorder.record(run.clone()).unwrap();
    assert_eq!(
        recorder.existing(&run),
        Some(id),
        "the same bytes are the same run"
    );
    let mut changed = run.clone();
    changed.parts[1] = NewPart::variables("arr", "npy", b"NPY2".to_vec());
    assert_eq!(
        recorder.existing(&changed),
        None,
        "rewritten blobs are a new run"
    );

    assert_eq!(
        recorder.get("lazy_block/C_h3.jsonl").unwrap().unwrap(),
        b"{\"hash\":\"h3\"}"
    );
    assert_eq!(
        recorder.get("lazy_block/h3/arr.npy").unwrap().unwrap(),
        b"NPY"
    );
    assert_eq!(recorder.get("lazy_block/h3/missing.npy").unwrap(), None);
}

#[test]
fn runs_are_written_in_batches_and_the_ids_returned_are_theirs() {
    let dir = workspace();
    let store = store(dir.path());
    let mut recorder = Recorder::open(&store, &nb("nb"), None).unwrap();
    let ids: Vec<_> = (0..celltime_store::marimo::FLUSH_RUNS + 5)
        .map(|i| {
            let k = key(&format!("small/D_h{i}.pickle"));
            recorder
                .record(Run::of_value(k, None, vec![1; 10]).unwrap())
                .unwrap()
        })
        .collect();
    let written = store.notebook(&nb("nb")).unwrap();
    let waiting = ids
        .iter()
        .filter(|id| !written.index().contains(**id))
        .count();
    assert!(
        waiting < celltime_store::marimo::FLUSH_RUNS,
        "{waiting} runs wait"
    );
    assert!(written.index().len() + waiting == ids.len());
    recorder.close().unwrap();
    let all = store.notebook(&nb("nb")).unwrap();
    assert!(ids.iter().all(|id| all.index().contains(*id)));
}

#[test]
fn a_long_session_folds_its_log_into_the_map_before_it_ends() {
    let dir = workspace();
    let store = store(dir.path());
    let mut recorder = Recorder::open(&store, &nb("nb"), None).unwrap();
    for i in 0..2 * celltime_store::marimo::FLUSH_RUNS {
        let k = key(&format!("small/D_h{i}.pickle"));
        recorder
            .record(Run::of_value(k, None, vec![1; 10]).unwrap())
            .unwrap();
    }
    let map = std::fs::read_to_string(store.paths(&nb("nb")).map()).unwrap_or_default();
    // The map's header counts the entries folded into it.
    let folded: usize = map
        .lines()
        .find_map(|l| l.strip_prefix("entries = "))
        .map_or(0, |n| n.trim().parse().unwrap());
    assert!(
        folded >= celltime_store::marimo::FLUSH_RUNS,
        "{folded} runs in map.toml while the session goes on"
    );
    recorder.close().unwrap();
}
