//! The store's fuzz corpora as regression tests: every file of `fuzz/corpus/{map_parse,
//! log_parse}` goes through exactly the checks its fuzz target makes (the checks live in
//! `fuzz/checks.rs`, shared with the targets), and each input the fuzzer (or a review of its
//! findings) turned up has its own test here.
//!
//! The seed segments of `fuzz/corpus/log_parse` are written by the library; regenerate them
//! with `cargo test -p celltime-store --test runner -- --ignored write_log_seed_corpus`.

#[allow(dead_code)]
#[path = "../fuzz/checks.rs"]
mod checks;

use celltime_store::testing::*;
use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|item| item.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

/// Runs `check` on every file, naming the file that fails.
fn replay<T>(target: &str, check: impl Fn(&[u8]) -> T) -> Vec<(PathBuf, T)> {
    corpus(target)
        .into_iter()
        .map(|(path, bytes)| {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
            match outcome {
                Ok(result) => (path, result),
                Err(_) => panic!("{target}: {} fails its checks", path.display()),
            }
        })
        .collect()
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension().is_some_and(|e| e == ext)
}

#[test]
fn map_parse_corpus() {
    let results = replay("map_parse", checks::check_map);
    // The seeds (`*.toml`) are real maps: clean, git-conflicted and with merged copies. Each
    // must be read, not just survive.
    for (path, parsed) in &results {
        if has_extension(path, "toml") {
            assert!(parsed, "{} is a real map and must parse", path.display());
        }
    }
    assert!(
        results
            .iter()
            .filter(|(p, _)| has_extension(p, "toml"))
            .count()
            >= 5
    );
    // The hostile seeds (`refused_*.map`) declare one entry twice: a table repeated, one
    // instant spelled two ways. Readers must refuse them (docs/FORMAT.md §8).
    let hostile: Vec<_> = results
        .iter()
        .filter(|(p, _)| has_extension(p, "map"))
        .collect();
    assert_eq!(hostile.len(), 2);
    for (path, parsed) in hostile {
        assert!(
            !parsed,
            "{} declares an entry twice and must be refused",
            path.display()
        );
        let text = std::fs::read_to_string(path).unwrap();
        let notebook = checks::declared_notebook(&text);
        let err = celltime_store::store::map::parse_map(path, &text, &notebook).unwrap_err();
        assert!(
            matches!(&err, celltime_store::store::StoreError::Invalid(at) if at.line.is_some()),
            "refused without its line: {err}"
        );
    }
}

#[test]
fn log_parse_corpus() {
    let results = replay("log_parse", checks::check_segment);
    // The seeds (`*.jsonl`) are segments the library wrote, some cut or damaged on purpose:
    // every one holds records.
    for (path, records) in &results {
        if has_extension(path, "jsonl") {
            assert!(*records > 0, "{} holds no record", path.display());
        }
    }
}

#[test]
fn conflicted_seeds_merge_both_sides() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/map_parse");
    for name in ["git_conflict.toml", "git_conflict_diff3.toml"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let key = checks::declared_notebook(&text);
        let (data, conflicted) =
            celltime_store::store::map::parse_map(Path::new(name), &text, &key).unwrap();
        assert!(conflicted, "{name}");
        assert_eq!(data.index.len(), 3, "{name}");
    }
}

/// The checksum fix-up `log_parse` applies (so mutated records reach the record parser) makes a
/// segment with wrong checksums whole again, and leaves a right one alone.
#[test]
fn fixing_checksums_restores_a_segment() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/log_parse");
    let whole = std::fs::read(dir.join("segment.jsonl")).unwrap();
    assert_eq!(checks::fix_checksums(&whole), None);
    let mut wrong = whole.clone();
    for (at, _) in whole.iter().enumerate().filter(|(_, b)| **b == b'\n') {
        if at + 8 < wrong.len() {
            wrong[at + 8] = if wrong[at + 8] == b'0' { b'1' } else { b'0' };
        }
    }
    wrong[8] = if wrong[8] == b'0' { b'1' } else { b'0' };
    assert_ne!(wrong, whole);
    assert_eq!(checks::fix_checksums(&wrong), Some(whole));
}

// ---- inputs found by fuzzing ----------------------------------------------------------------

/// One framed, checksummed log line around `rec` (docs/FORMAT.md §9.1).
fn log_line(rec: &str) -> Vec<u8> {
    let sum = &blake3::hash(rec.as_bytes()).to_hex()[..16];
    format!("{{\"b3\":\"{sum}\",\"rec\":{rec}}}\n").into_bytes()
}

const FAR_FUTURE: &str = "9999-12-31T23:59:59-01:00";
const FAR_PAST: &str = "0000-01-01T00:00:00+00:01";

/// A `created` (or `last_used`) time that is valid RFC 3339 but lies past year 9999 (or before
/// year 0) once converted to UTC is read, but written as `+10000-01-01T00:59:59.000Z`, which
/// no reader accepts: the map celltime writes cannot be read back.
#[test]
fn a_map_time_outside_years_0_to_9999_round_trips_or_is_refused() {
    for time in [FAR_FUTURE, FAR_PAST] {
        for table in [
            format!("[entry.\"a\".\"m\".\"0\".\"{time}\"]\n"),
            format!("[entry.\"a\".\"m\".\"0\".\"2026-01-01T00:00:00Z\"]\nlast_used = \"{time}\"\n"),
        ] {
            let text = format!("[map]\nformat = 1\nnotebook = \"analysis/eda\"\n\n{table}");
            checks::check_map(text.as_bytes());
        }
    }
}

/// The same times in a log record: the record reads, but the line celltime would write for it
/// does not.
#[test]
fn a_log_time_outside_years_0_to_9999_round_trips_or_is_refused() {
    for time in [FAR_FUTURE, FAR_PAST] {
        let put = format!(
            r#"{{"op":"put","at":"2026-11-25T10:00:01.000Z","entry":{{"cell":"a","module":"m","version":"0","created":"{time}","body":{{}}}}}}"#
        );
        let used = format!(
            r#"{{"op":"used","at":"2026-11-25T10:00:01.000Z","ids":["3f2a9c1e4b5d6a7f8091a2b3c4d5e6f7"],"used_at":"{time}"}}"#
        );
        for rec in [put, used] {
            checks::check_segment(&log_line(&rec));
        }
    }
}

// ---- the seed corpus of log_parse -------------------------------------------------------------

/// Writes real segments with the library (no consolidation, so the segments stay) into
/// `fuzz/corpus/log_parse`: every record op, entries with every part kind and parents, a
/// segment with a torn tail and one with a damaged middle line.
#[test]
#[ignore = "writes the committed seed corpus; run by hand"]
fn write_log_seed_corpus() {
    use celltime_store::model::{NewPart, PartKind, Timestamp};
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/log_parse");
    std::fs::create_dir_all(&out).unwrap();
    let dir = workspace();
    let store = store_as(dir.path(), "laptop_1a2b3c4d");
    let key = nb("analysis/eda");
    let mut notebook = store.notebook_for_write(&key).unwrap();
    let first = notebook
        .put(entry(
            "analysis/eda",
            "load_data",
            "Qw9abc",
            1_795_600_740_000,
            "a",
        ))
        .unwrap();
    let mut second = entry(
        "analysis/eda",
        "fit_model",
        "Hx3abc",
        1_795_600_800_123,
        "b",
    );
    second.parents.push(first.clone());
    second.parts.push(NewPart::watched(
        "data/sales.csv",
        b"day,sales\n1,2\n".to_vec(),
    ));
    second.parts.push(NewPart::new(
        PartKind::Console,
        "stderr",
        "",
        b"warning: \x1b[33mslow\x1b[0m\n".to_vec(),
    ));
    second.pinned = true;
    let second = notebook.put(second).unwrap();
    let ids = [first.id(), second.id()];
    notebook.touch(&ids, Timestamp(1_795_604_400_000)).unwrap();
    notebook.unpin(&[second.id()]).unwrap();
    notebook.pin(&ids).unwrap();
    notebook.remove(&[first.id()]).unwrap();
    let log_dir = notebook.dir().join("log");
    let segments: Vec<PathBuf> = std::fs::read_dir(&log_dir)
        .unwrap()
        .map(|i| i.unwrap().path())
        .collect();
    assert_eq!(segments.len(), 1);
    let whole = std::fs::read(&segments[0]).unwrap();
    let lines: Vec<&[u8]> = whole.split_inclusive(|&b| b == b'\n').collect();
    std::fs::write(out.join("segment.jsonl"), &whole).unwrap();
    std::fs::write(out.join("put.jsonl"), lines[0]).unwrap();
    std::fs::write(out.join("put_with_parents.jsonl"), lines[1]).unwrap();
    std::fs::write(out.join("used_unpin_pin_remove.jsonl"), lines[2..].concat()).unwrap();
    let torn = &whole[..whole.len() - lines.last().unwrap().len() / 2];
    std::fs::write(out.join("torn_tail.jsonl"), torn).unwrap();
    let mut damaged = whole.clone();
    damaged[lines[0].len() + 40] ^= 0x20;
    std::fs::write(out.join("damaged_line_2.jsonl"), damaged).unwrap();
}
