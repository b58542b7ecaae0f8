//! The fuzz corpora as regression tests: every file of `fuzz/corpus/{pickle_decode, npy_json}`
//! goes through exactly the checks its fuzz target makes (`fuzz/checks.rs`).

#[allow(dead_code)]
#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

/// Runs `check` on every file of the target's committed corpus, naming the file that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|item| item.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        if std::panic::catch_unwind(|| check(&bytes)).is_err() {
            panic!("{target}: {} fails its checks", path.display());
        }
    }
}

#[test]
fn pickle_decode_corpus() {
    replay("pickle_decode", checks::check_pickle);
}

#[test]
fn npy_json_corpus() {
    replay("npy_json", checks::check_npy_json);
}
