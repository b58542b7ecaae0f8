//! marimo's cache folder (issue 16's rows), each next to its floor or peer in the same run:
//! `celltime ls --json` of a 10,000-entry cache beside `du -s` (and `marimo cache size` when
//! marimo is installed), and `prune --keep-last 1 --yes` of 5,000 / 10,000 / 20,000 entries
//! beside a store prune of 40,000. The caches are made from the real demo entries
//! (tests/fixtures/marimo/demo), copied under fresh keys of the same length (the key inside
//! each file is replaced too), as `make_big_cache.py` does.
//!
//! The `ls` row then lists the same cache after `celltime import`: `ls --json` over both
//! backends (every run one row, merged with its store copy) next to `--backend cache` and
//! `--backend store` in the same run.
//!
//! Run: `cargo bench --bench legacy [-- ls|prune]`. marimo is looked up in
//! `CELLTIME_BENCH_MARIMO`, then the test venv's (`target/python-venv/bin/marimo`, made by
//! `scripts/test-python.sh`), then `PATH`;
//! without it, only celltime runs. `CELLTIME_BENCH_ENTRIES` and `CELLTIME_BENCH_RUNS` change
//! the listing's size and the repetitions.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Source {
    block: String,
    file: String,
    key: String,
    bytes: Vec<u8>,
    blobs: Vec<(String, Vec<u8>)>,
}

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/marimo/demo")
}

fn sources(cache: &Path) -> Vec<Source> {
    let mut found = Vec::new();
    let mut blocks: Vec<_> = std::fs::read_dir(cache)
        .unwrap()
        .flatten()
        .filter(|b| b.path().is_dir())
        .collect();
    blocks.sort_by_key(|b| b.file_name());
    for block in blocks {
        let mut items: Vec<_> = std::fs::read_dir(block.path()).unwrap().flatten().collect();
        items.sort_by_key(|i| i.file_name());
        for item in items.iter().filter(|i| i.path().is_file()) {
            let file = item.file_name().into_string().unwrap();
            let Some(parsed) = celltime_store::legacy::names::parse_entry_name(&file) else {
                continue;
            };
            let blob_dir = block.path().join(&parsed.hash);
            let blobs = match std::fs::read_dir(&blob_dir) {
                Ok(dir) => dir
                    .flatten()
                    .map(|b| {
                        (
                            b.file_name().into_string().unwrap(),
                            std::fs::read(b.path()).unwrap(),
                        )
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            found.push(Source {
                block: block.file_name().into_string().unwrap(),
                bytes: std::fs::read(item.path()).unwrap(),
                key: parsed.hash,
                file,
                blobs,
            });
        }
    }
    found
}

/// A deterministic url-safe key of `len` characters.
fn fresh_key(n: usize, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    let mut round = 0u32;
    while out.len() < len {
        let digest = blake3::hash(format!("bench-{n}-{round}").as_bytes());
        out.extend(
            digest
                .as_bytes()
                .iter()
                .map(|b| ALPHABET[(*b & 63) as usize] as char),
        );
        round += 1;
    }
    out.truncate(len);
    out
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

fn make_cache(workspace: &Path, entries: usize) {
    let cache = workspace.join("__marimo__/cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::copy(demo().join("notebook.py"), workspace.join("notebook.py")).unwrap();
    let sources = sources(&demo().join("__marimo__/cache"));
    for n in 0..entries {
        let s = &sources[n % sources.len()];
        let key = fresh_key(n, s.key.len());
        let block = cache.join(&s.block);
        std::fs::create_dir_all(&block).unwrap();
        if !s.blobs.is_empty() {
            std::fs::create_dir(block.join(&key)).unwrap();
            for (name, bytes) in &s.blobs {
                std::fs::write(block.join(&key).join(name), bytes).unwrap();
            }
        }
        let file = s.file.replace(&s.key, &key);
        std::fs::write(
            block.join(file),
            replace(&s.bytes, s.key.as_bytes(), key.as_bytes()),
        )
        .unwrap();
    }
}

fn time(command: &mut Command, check: impl Fn(&[u8])) -> Duration {
    let start = Instant::now();
    let out = command.output().unwrap();
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    check(&out.stdout);
    elapsed
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn marimo() -> Option<PathBuf> {
    let candidates = std::env::var_os("CELLTIME_BENCH_MARIMO")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/python-venv/bin/marimo")])
        .chain(std::env::var_os("PATH").into_iter().flat_map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("marimo"))
                .collect::<Vec<_>>()
        }));
    candidates.into_iter().find(|p| p.is_file())
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `celltime ls --json` of a cache of `entries` entries next to `du -s` of the same folder
/// (the floor: one `stat` per file), and `marimo cache size` when marimo is installed.
fn listing(entries: usize, runs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("big");
    let start = Instant::now();
    make_cache(&workspace, entries);
    println!(
        "legacy cache of {entries} entries made in {:.1?} at {}",
        start.elapsed(),
        workspace.display()
    );
    let celltime = env!("CARGO_BIN_EXE_celltime");
    let mut ls = Command::new(celltime);
    ls.args(["ls", "--json"]).arg(&workspace);
    let check_ls = |out: &[u8]| {
        let listing: serde_json::Value = serde_json::from_slice(out).unwrap();
        let rows = listing["entries"].as_array().unwrap();
        assert_eq!(rows.len(), entries, "celltime ls --json lists every entry");
    };
    let mut du = Command::new("du");
    du.arg("-s").arg(workspace.join("__marimo__/cache"));
    let marimo = marimo();
    let mut size = marimo.as_ref().map(|m| {
        let mut c = Command::new(m);
        c.args(["cache", "size"]).arg(workspace.join("notebook.py"));
        c.env("MARIMO_SKIP_UPDATE_CHECK", "1");
        c
    });
    let check_size = |out: &[u8]| {
        let text = String::from_utf8_lossy(out);
        assert!(
            text.contains(&format!("{entries} entries")),
            "marimo cache size said: {text}"
        );
    };
    // One warm-up each (page cache, Python's bytecode cache), then alternating runs.
    time(&mut ls, check_ls);
    time(&mut du, |_| {});
    if let Some(size) = size.as_mut() {
        time(size, check_size);
    }
    let (mut ours, mut floor, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        ours.push(time(&mut ls, check_ls));
        floor.push(time(&mut du, |_| {}));
        if let Some(size) = size.as_mut() {
            theirs.push(time(size, check_size));
        }
    }
    let (ours, floor) = (median(ours), median(floor));
    println!(
        "ls --json of a {entries}-entry marimo cache: {} | du -s {} | ratio {:.2}x (target <= 1.5x)",
        ms(ours),
        ms(floor),
        ours.as_secs_f64() / floor.as_secs_f64()
    );
    if theirs.is_empty() {
        println!("  (marimo not found: set CELLTIME_BENCH_MARIMO to compare `marimo cache size`)");
    } else {
        let theirs = median(theirs);
        println!(
            "  marimo cache size {} ({:.1}x celltime)",
            ms(theirs),
            theirs.as_secs_f64() / ours.as_secs_f64()
        );
    }
    one_row_per_run(celltime, &workspace, entries, runs);
}

/// The cost of one row per run: listing both backends after an import (each run merged with
/// its store copy) against listing the cache alone, alternating, medians.
fn one_row_per_run(celltime: &str, workspace: &Path, entries: usize, runs: usize) {
    let start = Instant::now();
    let out = Command::new(celltime)
        .arg("import")
        .arg(workspace)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("imported into the store in {:.1?}", start.elapsed());
    let mut both = Command::new(celltime);
    both.args(["ls", "--json"]).arg(workspace);
    let check_both = |out: &[u8]| {
        let listing: serde_json::Value = serde_json::from_slice(out).unwrap();
        let rows = listing["entries"].as_array().unwrap();
        assert_eq!(rows.len(), entries, "one row per run");
        assert!(
            rows.iter()
                .all(|r| r["copies"] == serde_json::json!(["store", "cache"]))
        );
    };
    let mut cache = Command::new(celltime);
    cache
        .args(["ls", "--json", "--backend", "cache"])
        .arg(workspace);
    let check_cache = |out: &[u8]| {
        let listing: serde_json::Value = serde_json::from_slice(out).unwrap();
        let rows = listing["entries"].as_array().unwrap();
        assert_eq!(rows.len(), entries);
    };
    let mut store = Command::new(celltime);
    store
        .args(["ls", "--json", "--backend", "store"])
        .arg(workspace);
    time(&mut both, check_both);
    time(&mut cache, check_cache);
    time(&mut store, check_cache);
    let (mut merged, mut alone, mut stored) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        merged.push(time(&mut both, check_both));
        alone.push(time(&mut cache, check_cache));
        stored.push(time(&mut store, check_cache));
    }
    let (merged, alone, stored) = (median(merged), median(alone), median(stored));
    println!("ls --json, both backends  median {merged:>9.1?} over {runs} runs (one row per run)");
    println!("ls --json --backend cache median {alone:>9.1?} over {runs} runs");
    println!("ls --json --backend store median {stored:>9.1?} over {runs} runs");
    println!(
        "ratio both / (cache + store) {:.2}x",
        merged.as_secs_f64() / (alone + stored).as_secs_f64()
    );
}

/// Copies a folder with `cp -a` (outside the measured time).
fn fresh_copy(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success(), "cp -a {}", from.display());
}

/// `prune --keep-last 1 --yes` of caches of growing size (a fresh copy for every run): the time
/// per entry must stay flat. The peer is a store prune of 40,000 entries, in the same run.
fn pruning(sizes: &[usize], runs: usize) {
    let celltime = env!("CARGO_BIN_EXE_celltime");
    let dir = tempfile::tempdir().unwrap();
    let prune = |workspace: &Path| {
        let mut command = Command::new(celltime);
        command
            .args(["prune", "--keep-last", "1", "--yes"])
            .arg(workspace);
        time(&mut command, |out| {
            assert!(String::from_utf8_lossy(out).contains("removed"));
        })
    };
    let mut per_entry = Vec::new();
    for &entries in sizes {
        let template = dir.path().join(format!("template-{entries}"));
        make_cache(&template, entries);
        let work = dir.path().join("work");
        let times: Vec<Duration> = (0..runs)
            .map(|_| {
                fresh_copy(&template, &work);
                prune(&work)
            })
            .collect();
        let took = median(times);
        let micros = took.as_secs_f64() * 1e6 / entries as f64;
        per_entry.push(micros);
        println!(
            "prune --keep-last 1 --yes of a {entries}-entry marimo cache: {} ({micros:.0} us per entry)",
            ms(took)
        );
        let _ = std::fs::remove_dir_all(&template);
    }
    if let (Some(first), Some(last)) = (per_entry.first(), per_entry.last()) {
        println!(
            "  time per entry, largest / smallest: {:.2}x (linear: about 1; quadratic: {:.0}x)",
            last / first,
            sizes[sizes.len() - 1] as f64 / sizes[0] as f64
        );
    }
    let store = dir.path().join("store-template");
    let status = Command::new(celltime)
        .args(["demo", "--no-tui", "--scale", "40000", "--dir"])
        .arg(&store)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let work = dir.path().join("store-work");
    let times: Vec<Duration> = (0..runs)
        .map(|_| {
            fresh_copy(&store, &work);
            prune(&work)
        })
        .collect();
    println!(
        "  peer: prune --keep-last 1 --yes of a 40,000-entry store notebook: {}",
        ms(median(times))
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this with no arguments, where
    // a full run would only slow the tests down.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // `cargo bench --bench legacy -- prune` runs the rows whose name contains "prune".
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let entries = env_number("CELLTIME_BENCH_ENTRIES", 10_000);
    let runs = env_number("CELLTIME_BENCH_RUNS", 7).max(1);
    println!("legacy benchmarks (medians of {runs} runs; release build)");
    if "ls".contains(&filter) {
        listing(entries, runs);
    }
    if "prune".contains(&filter) {
        pruning(&[5_000, 10_000, 20_000], runs.min(3));
    }
}
