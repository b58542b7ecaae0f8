//! Store figures (issue #2): open + list, batched put, consolidate, verify, and listing a
//! million-entry workspace. Prints medians; run with `cargo bench --bench store`.
//! Generated workspaces are kept under `target/bench-data/` and reused by later runs.

use celltime::demo::{DemoOptions, generate};
use celltime_store::model::{CellKey, ModuleHash, NewEntry, NewPart, NotebookKey, Timestamp};
use celltime_store::store::{Store, Workspace};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data")
}

/// A demo workspace of `entries` entries, generated once.
fn scale_workspace(entries: usize) -> PathBuf {
    let dir = data_dir().join(format!("scale-{entries}"));
    if !dir.join("__marimo__").exists() {
        let started = Instant::now();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        generate(
            &dir,
            &DemoOptions {
                seed: 7,
                scale: Some(entries),
            },
        )
        .unwrap();
        println!(
            "  (generated {entries} entries in {:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
    dir
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn measure(runs: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm the page cache
    median(
        (0..runs)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn open_and_list(workspace: &Path) -> usize {
    let store = Store::open(&Workspace::at(workspace)).unwrap();
    let key = store.notebook_keys().unwrap().remove(0);
    let notebook = store.notebook(&key).unwrap();
    notebook.index().views().len()
}

fn small_entry(key: &NotebookKey, i: usize) -> NewEntry {
    let mut entry = NewEntry::new(
        key.clone(),
        CellKey::new(&format!("cell_{}", i % 100)).unwrap(),
        ModuleHash::new(&format!("m{}", i / 100)).unwrap(),
    );
    entry.created_at = Some(Timestamp(1_700_000_000_000 + i as i64));
    entry.parts = vec![
        NewPart::code(&format!("x = {}\n", i / 100)),
        NewPart::output("text/plain", format!("{i}").into_bytes()),
    ];
    entry
}

fn put_rate() -> f64 {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("__marimo__")).unwrap();
    let store = Store::open(&Workspace::at(dir.path())).unwrap();
    let key = NotebookKey::new("bench/put").unwrap();
    let mut notebook = store.notebook_for_write(&key).unwrap();
    let total = 50_000;
    let started = Instant::now();
    for batch in 0..total / 1000 {
        let entries = (batch * 1000..(batch + 1) * 1000)
            .map(|i| small_entry(&key, i))
            .collect();
        notebook.put_batch(entries).unwrap();
    }
    notebook.consolidate().unwrap();
    total as f64 / started.elapsed().as_secs_f64()
}

/// Consolidating a notebook whose 100,000 entries all sit in the log.
fn consolidate_from_log() -> Duration {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("__marimo__")).unwrap();
    let store = Store::open(&Workspace::at(dir.path())).unwrap();
    let key = NotebookKey::new("bench/consolidate").unwrap();
    let mut notebook = store.notebook_for_write(&key).unwrap();
    for batch in 0..100 {
        let entries = (batch * 1000..(batch + 1) * 1000)
            .map(|i| small_entry(&key, i))
            .collect();
        notebook.put_batch(entries).unwrap();
    }
    let mut fresh = store.notebook_for_write(&key).unwrap();
    let started = Instant::now();
    fresh.consolidate().unwrap();
    started.elapsed()
}

fn verify_rate() -> f64 {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("__marimo__")).unwrap();
    let store = Store::open(&Workspace::at(dir.path())).unwrap();
    let key = NotebookKey::new("bench/verify").unwrap();
    let mut notebook = store.notebook_for_write(&key).unwrap();
    // 1 GiB: 256 objects of 4 MiB and 4096 pack contents of 60 KiB.
    for batch in 0..8 {
        let entries = (0..32)
            .map(|i| {
                let n = batch * 32 + i;
                let mut e = small_entry(&key, n);
                e.parts.push(NewPart::output(
                    "application/octet-stream",
                    vec![(n % 251) as u8; 4 << 20],
                ));
                e
            })
            .collect();
        notebook.put_batch(entries).unwrap();
    }
    for batch in 0..8 {
        let entries = (0..512)
            .map(|i| {
                let n = 10_000 + batch * 512 + i;
                let mut e = small_entry(&key, n);
                let mut bytes = vec![0u8; 60 << 10];
                bytes[..8].copy_from_slice(&(n as u64).to_le_bytes());
                e.parts
                    .push(NewPart::output("application/octet-stream", bytes));
                e
            })
            .collect();
        notebook.put_batch(entries).unwrap();
    }
    notebook.consolidate().unwrap();
    let mut bytes = 0;
    let time = measure(3, || bytes = notebook.verify().unwrap().bytes_hashed);
    bytes as f64 / time.as_secs_f64() / (1u64 << 30) as f64
}

fn copy_tree(from: &Path, to: &Path) {
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).unwrap();
        }
    }
}

/// Prune half of a 100,000-entry notebook through the planner and the store: plan, remove
/// (the commit point), consolidate, and sweep the freed contents. Returns (plan, apply, removed).
fn prune_half(source: &Path) -> (Duration, Duration, usize) {
    use celltime_store::model::History;
    use celltime_store::policy::{TimelineInput, plan};
    use celltime_store::store::history::StoreHistory;
    let dir = tempfile::tempdir().unwrap();
    copy_tree(source, dir.path());
    let history = StoreHistory::new(Store::open(&Workspace::at(dir.path())).unwrap());
    let notebook = history.notebooks().unwrap().remove(0).notebook;
    let timeline = history.timeline(&notebook).unwrap();
    let started = Instant::now();
    let input = TimelineInput::new([&timeline]);
    let candidates = input.candidates();
    let policy = celltime::cli::policy_args::policy_from_text("--keep-last 250").unwrap();
    let planned = plan(
        &input.plan_input(&candidates),
        &policy,
        chrono::Utc::now(),
        &chrono::Utc,
    )
    .unwrap();
    let ids: Vec<_> = planned
        .removed()
        .into_iter()
        .map(|i| input.row(i).1.id)
        .collect();
    let planning = started.elapsed();
    let started = Instant::now();
    let applied = history
        .remove(&celltime_store::model::Removal {
            notebook: &notebook,
            ids: &ids,
            check: &|_| Ok(()),
            journal: &celltime_store::ops::Unrecorded,
        })
        .unwrap();
    let mut notebook = history
        .store()
        .notebook(&NotebookKey::new(&notebook).unwrap())
        .unwrap();
    notebook.gc(Duration::ZERO).unwrap();
    (planning, started.elapsed(), applied.removed)
}

/// Peak resident memory of `celltime ls` over the workspace, from GNU time, in MiB.
fn ls_peak_memory(workspace: &Path, args: &[&str]) -> Option<f64> {
    let binary = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/celltime");
    if !binary.exists() {
        return None;
    }
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(&binary)
        .arg("ls")
        .arg(workspace)
        .args(args)
        .stdout(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stderr);
    text.lines()
        .last()?
        .trim()
        .parse::<f64>()
        .ok()
        .map(|kib| kib / 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; these figures are for `cargo bench`.
    }
    // `cargo bench --bench store -- put` runs the benchmarks whose name contains "put".
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let wanted = |name: &str| name.contains(&filter);
    println!("store benchmarks (medians; release build)");
    if wanted("open") {
        let hundred_k = scale_workspace(100_000);
        let open = measure(5, || {
            open_and_list(&hundred_k);
        });
        println!(
            "open + list a notebook of 100,000 entries: {} (target < 300 ms)",
            ms(open)
        );
    }
    if wanted("put") {
        println!(
            "put, batches of 1,000 small entries, durable: {:.0} entries/s (target >= 5,000)",
            put_rate()
        );
    }
    if wanted("consolidate") {
        println!(
            "consolidate 100,000 logged entries: {} (target < 1 s)",
            ms(consolidate_from_log())
        );
    }
    if wanted("verify") {
        println!(
            "verify, warm: {:.2} GiB/s hashed (target >= 1 GiB/s)",
            verify_rate()
        );
    }
    if wanted("prune") {
        let (planning, applying, removed) = prune_half(&scale_workspace(100_000));
        println!(
            "prune a 100,000-entry notebook: plan {} (target < 200 ms); remove {removed} entries, consolidate and sweep {} (target < 3 s)",
            ms(planning),
            ms(applying)
        );
    }
    if wanted("million") {
        let million = scale_workspace(1_000_000);
        let summaries = measure(5, || {
            let store = Store::open(&Workspace::at(&million)).unwrap();
            assert_eq!(
                store
                    .summaries()
                    .unwrap()
                    .iter()
                    .map(|s| s.entries)
                    .sum::<usize>(),
                1_000_000
            );
        });
        println!(
            "list the notebooks and counts of a 1,000,000-entry workspace: {} (target < 1 s)",
            ms(summaries)
        );
        match ls_peak_memory(&million, &["--json"]) {
            Some(mib) => println!(
                "peak memory of `celltime ls --json` over 1,000,000 entries: {mib:.0} MiB (target < 300 MiB)"
            ),
            None => {
                println!("peak memory: build the release binary and install GNU time to measure it")
            }
        }
    }
}
