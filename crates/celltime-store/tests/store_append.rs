//! Writers that add an entry and exit (`celltime put`, through `Store::append`): the put is
//! one log record, readers see it before any consolidation, a key already in the map is
//! still a no-op or a clash, and the log is folded into the map once it passes the threshold.

use celltime_store::model::Timestamp;
use celltime_store::store::{CONSOLIDATE_AFTER, StoreError};
use celltime_store::testing::*;
use std::path::Path;

/// A notebook of two consolidated entries (map and snapshot written).
fn consolidated(dir: &Path) {
    let mut notebook = store(dir).notebook_for_write(&nb("nb")).unwrap();
    notebook
        .put_batch(vec![
            entry("nb", "cell", "m1", 1, "a"),
            entry("nb", "cell", "m1", 2, "b"),
        ])
        .unwrap();
    notebook.consolidate().unwrap();
}

fn map_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("__marimo__/persist/nb/map.toml")).unwrap()
}

fn names(dir: &Path, folder: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("__marimo__/persist/nb").join(folder))
        .map(|items| {
            items
                .map(|i| i.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn an_appended_entry_is_visible_to_readers_before_any_consolidation() {
    let dir = workspace();
    consolidated(dir.path());
    let map_before = map_text(dir.path());
    let appended = store(dir.path())
        .append(&nb("nb"), vec![entry("nb", "cell", "m2", 3, "c")])
        .unwrap();
    assert!(!appended.consolidated.unwrap(), "one small put is not due");
    assert_eq!(map_text(dir.path()), map_before, "the map is not rewritten");
    let seen = visible(dir.path(), "nb");
    assert_eq!(seen.len(), 3);
    assert!(seen.contains_key(&appended.keys[0].id()));
}

#[test]
fn appending_a_key_the_map_holds_is_a_no_op_or_a_clash() {
    let dir = workspace();
    consolidated(dir.path());
    let same = store(dir.path())
        .append(&nb("nb"), vec![entry("nb", "cell", "m1", 1, "a")])
        .unwrap();
    assert_eq!(names(dir.path(), "log"), Vec::<String>::new(), "no record");
    assert_eq!(visible(dir.path(), "nb").len(), 2);
    let other = store(dir.path()).append(&nb("nb"), vec![entry("nb", "cell", "m1", 1, "changed")]);
    assert!(
        matches!(other, Err(StoreError::Clash(id)) if id == same.keys[0].id()),
        "{other:?}"
    );
}

#[test]
fn a_default_time_moves_past_entries_the_map_holds() {
    let dir = workspace();
    // A run of the cell for every millisecond of the next second, consolidated.
    let now = Timestamp::now().millis();
    let window = now..now + 1_000;
    let mut notebook = store(dir.path()).notebook_for_write(&nb("nb")).unwrap();
    let runs = window
        .clone()
        .map(|ms| entry("nb", "cell", "m1", ms, "same"));
    notebook.put_batch(runs.collect()).unwrap();
    notebook.consolidate().unwrap();
    let mut new = entry("nb", "cell", "m1", 0, "new");
    new.created_at = None;
    let appended = store(dir.path()).append(&nb("nb"), vec![new]).unwrap();
    let created = appended.keys[0].created_at.millis();
    assert!(
        !window.contains(&created),
        "{created} collides with the map"
    );
    assert_eq!(visible(dir.path(), "nb").len(), 1_001);
}

#[test]
fn processes_that_append_once_share_one_segment_and_one_pack() {
    let dir = workspace();
    consolidated(dir.path());
    for ms in 10..15 {
        store(dir.path())
            .append(
                &nb("nb"),
                vec![entry("nb", "cell", "m3", ms, &ms.to_string())],
            )
            .unwrap();
    }
    assert_eq!(
        names(dir.path(), "log").len(),
        1,
        "{:?}",
        names(dir.path(), "log")
    );
    assert_eq!(
        names(dir.path(), "packs").len(),
        1,
        "{:?}",
        names(dir.path(), "packs")
    );
    assert_eq!(visible(dir.path(), "nb").len(), 7);
}

#[test]
fn a_torn_segment_is_never_continued() {
    let dir = workspace();
    consolidated(dir.path());
    let store = store(dir.path());
    store
        .append(&nb("nb"), vec![entry("nb", "cell", "m3", 10, "a")])
        .unwrap();
    let segment = dir
        .path()
        .join("__marimo__/persist/nb/log")
        .join(&names(dir.path(), "log")[0]);
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes.extend_from_slice(b"{\"b3\":\"torn"); // a crash in the middle of a write
    std::fs::write(&segment, &bytes).unwrap();
    store
        .append(&nb("nb"), vec![entry("nb", "cell", "m3", 11, "b")])
        .unwrap();
    assert_eq!(names(dir.path(), "log").len(), 2, "a new segment");
    let notebook = store.notebook(&nb("nb")).unwrap();
    assert_eq!(notebook.index().len(), 4);
    assert!(notebook.verify().unwrap().errors() == 0);
}

fn log_bytes(dir: &Path) -> u64 {
    names(dir, "log")
        .iter()
        .map(|n| {
            let path = dir.join("__marimo__/persist/nb/log").join(n);
            std::fs::metadata(path).unwrap().len()
        })
        .sum()
}

#[test]
fn the_log_is_folded_once_it_passes_the_threshold() {
    let dir = workspace();
    consolidated(dir.path());
    let store = store(dir.path());
    let (mut ms, mut written, mut before, mut growth) = (100, 0, 0, 0);
    loop {
        let batch: Vec<_> = (0..20)
            .map(|i| entry("nb", "cell", "m4", ms + i, &format!("{ms}-{i}")))
            .collect();
        ms += 20;
        let appended = store.append(&nb("nb"), batch).unwrap();
        written += appended.keys.len();
        if appended.consolidated.unwrap() {
            break;
        }
        let now = log_bytes(dir.path());
        assert!(now < CONSOLIDATE_AFTER, "not folded at {now} bytes");
        (before, growth) = (now, now - before);
    }
    assert!(
        before + 2 * growth >= CONSOLIDATE_AFTER,
        "folded early, at {before} bytes"
    );
    assert_eq!(
        names(dir.path(), "log"),
        Vec::<String>::new(),
        "segments retired"
    );
    let runs = map_text(dir.path())
        .lines()
        .filter(|l| l.starts_with('"'))
        .count();
    assert_eq!(runs, written + 2);
    assert_eq!(
        store.notebook(&nb("nb")).unwrap().index().len(),
        written + 2
    );
}

/// How many rows of the notebook's packs hold `content`.
fn pack_rows_holding(dir: &Path, content: &[u8]) -> usize {
    let wanted = celltime_store::model::ContentHash::of(content).to_hex();
    let packs = dir.join("__marimo__/persist/nb/packs");
    let mut rows = 0;
    for name in names(dir, "packs") {
        celltime_store::store::pack::for_each_row(&packs.join(name), u64::MAX, |hash, _, _| {
            rows += usize::from(hash == wanted);
            Ok(())
        })
        .unwrap();
    }
    rows
}

/// A put asks only the pack it appends to whether a content is already there, so its cost
/// does not grow with the number of packs: a content a full, older pack holds is written
/// again into the new one, reads back, and gc's compaction keeps one copy.
#[test]
fn a_content_an_older_pack_holds_is_written_again_then_compacted_to_one_copy() {
    let dir = workspace();
    // The output both runs of seed "shared" print (testing::entry).
    let shared = b"result shared";
    let with_output = |module: &str, ms: i64| entry("nb", "cell", module, ms, "shared");
    let filler = |n: i64| {
        let mut e = entry("nb", "fill", &format!("f{n}"), 100 + n, &n.to_string());
        let bytes: Vec<u8> = (0..60 << 10).map(|i| (i as i64 * 31 + n) as u8).collect();
        e.parts.push(celltime_store::model::NewPart::variables(
            "big", "pickle", bytes,
        ));
        e
    };
    let store = store(dir.path());
    store.append(&nb("nb"), vec![with_output("m0", 1)]).unwrap();
    // Past the pack's 8 MiB rollover in one batch: the next put starts a new pack.
    store
        .append(&nb("nb"), (0..150).map(filler).collect())
        .unwrap();
    assert_eq!(names(dir.path(), "packs").len(), 1);
    store.append(&nb("nb"), vec![with_output("m1", 2)]).unwrap();
    assert_eq!(names(dir.path(), "packs").len(), 2);
    assert_eq!(pack_rows_holding(dir.path(), shared), 2);

    let notebook = store.notebook(&nb("nb")).unwrap();
    for view in notebook.index().views() {
        let fetched = notebook
            .get(view.id, celltime_store::model::PartMask::all())
            .unwrap();
        assert!(fetched.parts.iter().all(|(_, read)| read.is_ok()));
    }
    assert_eq!(notebook.verify().unwrap().errors(), 0);
    let mut writer = store.notebook_for_write(&nb("nb")).unwrap();
    writer.consolidate().unwrap();
    writer.gc(std::time::Duration::ZERO).unwrap();
    assert_eq!(names(dir.path(), "packs").len(), 1);
    assert_eq!(pack_rows_holding(dir.path(), shared), 1);
    assert_eq!(visible(dir.path(), "nb").len(), 152);
}
