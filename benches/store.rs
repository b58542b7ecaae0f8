//! Store figures (issue 16's table): each row is measured next to its peer or floor in the same
//! run — `cat`, `ls --json`, the process start and an `fsync`, blake3's own multi-threaded
//! hashing (b3sum's path) — as medians, with the ratio. Whole commands run the release binary as a user would; memory
//! is the peak resident size reported by `/usr/bin/time` (rows without it say so).
//!
//! Run: `cargo bench --bench store [-- ROW]`, ROW one of put, open, prune, million, verify,
//! size (a row runs when its name contains ROW). Generated workspaces are kept under
//! `target/bench-data/` and reused; `CELLTIME_BENCH_RUNS` sets the repetitions (default 7).

use celltime::demo::{DemoOptions, generate};
use celltime_store::model::{CellKey, ModuleHash, NewEntry, NewPart, NotebookKey, Timestamp};
use celltime_store::store::{Store, Workspace};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data")
}

fn runs() -> usize {
    std::env::var("CELLTIME_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7usize)
        .max(1)
}

/// A demo workspace of `entries` entries (notebooks of 100,000), generated once.
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

fn notebook_dir(workspace: &Path, n: usize) -> PathBuf {
    workspace.join(format!("__marimo__/persist/scale/nb{n:03}"))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn median_u64(mut samples: Vec<u64>) -> u64 {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn ratio(ours: Duration, peer: Duration) -> String {
    format!("{:.2}x", ours.as_secs_f64() / peer.as_secs_f64())
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a (no /usr/bin/time)".into(), |k| {
        format!("{:.0} MiB", k as f64 / 1024.0)
    })
}

const TIME: &str = "/usr/bin/time";

/// One run of a command: its wall time and, with GNU time, its peak resident memory (KiB).
fn run(program: &Path, args: &[&str], prepare: &mut dyn FnMut()) -> (Duration, Option<u64>) {
    prepare();
    let with_time = Path::new(TIME).exists();
    let mut command = if with_time {
        let mut c = Command::new(TIME);
        c.args(["-f", "%M"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let output = command.output().unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} {args:?}: {stderr}",
        program.display()
    );
    let rss = with_time
        .then(|| stderr.lines().last()?.trim().parse().ok())
        .flatten();
    (took, rss)
}

/// Medians of a command and its peer, run alternately (one warm-up each first).
struct Pair {
    ours: Duration,
    ours_rss: Option<u64>,
    peer: Duration,
}

fn pair(
    ours: (&Path, &[&str]),
    prepare: &mut dyn FnMut(),
    peer: (&Path, &[&str]),
    count: usize,
) -> Pair {
    run(ours.0, ours.1, prepare);
    run(peer.0, peer.1, &mut || {});
    let (mut times, mut rss, mut peers) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..count {
        let (t, r) = run(ours.0, ours.1, prepare);
        times.push(t);
        rss.extend(r);
        peers.push(run(peer.0, peer.1, &mut || {}).0);
    }
    Pair {
        ours: median(times),
        ours_rss: (!rss.is_empty()).then(|| median_u64(rss)),
        peer: median(peers),
    }
}

fn celltime() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_celltime"))
}

fn cat() -> PathBuf {
    PathBuf::from("cat")
}

fn copy_tree(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// The floor of a durable write: one `fsync` of a small append, median of 20.
fn fsync_floor(dir: &Path) -> Duration {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).unwrap();
    let samples = (0..20)
        .map(|_| {
            file.write_all(&[7u8; 400]).unwrap();
            let started = Instant::now();
            file.sync_all().unwrap();
            started.elapsed()
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    median(samples)
}

fn small_entry(key: &NotebookKey, i: usize) -> NewEntry {
    let mut entry = NewEntry::new(
        key.clone(),
        CellKey::new(&format!("cell_{}", i % 100)).unwrap(),
        ModuleHash::new(&format!("m{}", i / 100)).unwrap(),
    );
    entry.created_at = Some(Timestamp(1_900_000_000_000 + i as i64));
    entry.parts = vec![
        NewPart::code(&format!("x = {}\n", i / 100)),
        NewPart::output("text/plain", format!("{i}").into_bytes()),
    ];
    entry
}

/// Row: one `celltime put` into a notebook of 100,000 entries and into an empty one, and a
/// put through the library into an open notebook of 100,000, next to the fsync floor.
fn put_rows(count: usize) {
    let source = scale_workspace(100_000);
    let dir = data_dir().join("put-work");
    copy_tree(&source, &dir);
    let empty = data_dir().join("put-empty");
    let _ = std::fs::remove_dir_all(&empty);
    std::fs::create_dir_all(empty.join("__marimo__")).unwrap();
    let code = data_dir().join("put-code.py");
    let floor = fsync_floor(&data_dir());
    let mut n = 0;
    let mut put = |workspace: &Path| {
        n += 1;
        std::fs::write(&code, format!("x = {n}\n")).unwrap();
        let args = [
            "put",
            workspace.to_str().unwrap(),
            "--notebook",
            "scale/nb000",
            "--cell",
            "bench",
            "--module",
            &format!("m{n}"),
            "--code",
            code.to_str().unwrap(),
            "--output",
            &format!("text/plain={}", code.display()),
        ];
        run(&celltime(), &args, &mut || {})
    };
    put(&dir); // a fresh copy's first put reads the map once (no snapshot of this copy yet)
    put(&empty);
    let mut into_big = Vec::new();
    let mut into_empty = Vec::new();
    let mut starts = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..count.max(15) {
        let (t, r) = put(&dir);
        into_big.push(t);
        rss.extend(r);
        into_empty.push(put(&empty).0);
        starts.push(run(&celltime(), &["--version"], &mut || {}).0);
    }
    let (big, small, start) = (median(into_big), median(into_empty), median(starts));
    println!(
        "one `celltime put` into 100,000 entries: {} ({}) | into an empty notebook {} | the process alone (`celltime --version`) {} | put / process {} | one fsync {} (a put makes 5: SQLite's journal 4, the log 1) (target < 10 ms)",
        ms(big),
        mib(rss.iter().copied().max()),
        ms(small),
        ms(start),
        ratio(big, start),
        ms(floor),
    );
    let store = Store::open(&Workspace::at(&dir)).unwrap();
    let key = NotebookKey::new("scale/nb000").unwrap();
    let mut notebook = store.notebook_for_write(&key).unwrap();
    let samples: Vec<Duration> = (0..50)
        .map(|i| {
            let entry = small_entry(&key, 1_000 + i);
            let started = Instant::now();
            notebook.put(entry).unwrap();
            started.elapsed()
        })
        .collect();
    let library = median(samples);
    println!(
        "  a put into an open notebook of 100,000 (the library, as the marimo plugin puts): {} | put / fsync {} (target well under 2 ms: {} of it is fsyncs)",
        ms(library),
        ratio(library, floor),
        ms(floor * 5)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Rows: `ls --json` of 100,000 entries on a fresh clone (no `.index/`) next to `cat map.toml`,
/// and with the snapshot next to `cat` of the snapshot file.
fn open_rows(count: usize) {
    let workspace = scale_workspace(100_000);
    let nb = notebook_dir(&workspace, 0);
    let ws = workspace.to_str().unwrap().to_string();
    let map = nb.join("map.toml");
    let index = nb.join(".index");
    let mut fresh_clone = || {
        let _ = std::fs::remove_dir_all(&index);
    };
    let cold = pair(
        (&celltime(), &["ls", &ws, "--json"]),
        &mut fresh_clone,
        (&cat(), &[map.to_str().unwrap()]),
        count,
    );
    println!(
        "ls --json of 100,000 entries, fresh clone (no .index/): {}, {} | cat map.toml {} | ratio {} (target < 300 ms, < 100 MiB)",
        ms(cold.ours),
        mib(cold.ours_rss),
        ms(cold.peer),
        ratio(cold.ours, cold.peer)
    );
    run(&celltime(), &["ls", &ws, "--json"], &mut || {});
    let snapshot = std::fs::read_dir(&index)
        .unwrap()
        .map(|i| i.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "bin"))
        .unwrap();
    let warm = pair(
        (&celltime(), &["ls", &ws, "--json"]),
        &mut || {},
        (&cat(), &[snapshot.to_str().unwrap()]),
        count,
    );
    println!(
        "ls --json of 100,000 entries with the snapshot: {}, {} | cat of the snapshot {} | ratio {} (target < 100 ms)",
        ms(warm.ours),
        mib(warm.ours_rss),
        ms(warm.peer),
        ratio(warm.ours, warm.peer)
    );
}

/// Rows: `prune --dry-run --json` over 100,000 entries next to `ls --json` of the same, and
/// over 1,000,000 in 10 notebooks (memory) next to `ls` of the same.
fn prune_rows(count: usize) {
    let workspace = scale_workspace(100_000);
    let ws = workspace.to_str().unwrap().to_string();
    let policy = ["--keep-last", "5", "--dry-run", "--json"];
    let args: Vec<&str> = ["prune", ws.as_str()].into_iter().chain(policy).collect();
    let hundred = pair(
        (&celltime(), &args),
        &mut || {},
        (&celltime(), &["ls", &ws, "--json"]),
        count,
    );
    println!(
        "prune --keep-last 5 --dry-run --json over 100,000: {}, {} | ls --json {} | ratio {} (target < 150 ms)",
        ms(hundred.ours),
        mib(hundred.ours_rss),
        ms(hundred.peer),
        ratio(hundred.ours, hundred.peer)
    );
    let budget: Vec<&str> = [
        "prune",
        ws.as_str(),
        "--max-entries",
        "50000",
        "--dry-run",
        "--json",
    ]
    .into();
    let (took, rss) = run(&celltime(), &budget, &mut || {});
    println!(
        "  with a budget over all notebooks (--max-entries 50000, planned at once): {}, {}",
        ms(took),
        mib(rss)
    );
}

fn million_rows(count: usize) {
    let million = scale_workspace(1_000_000);
    let ws = million.to_str().unwrap().to_string();
    let count = count.min(3);
    let args = [
        "prune",
        ws.as_str(),
        "--keep-last",
        "5",
        "--dry-run",
        "--json",
    ];
    let pruned = pair(
        (&celltime(), &args),
        &mut || {},
        (&celltime(), &["ls", &ws]),
        count,
    );
    let (_, ls_rss) = run(&celltime(), &["ls", &ws], &mut || {});
    println!(
        "prune --keep-last 5 --dry-run --json over 1,000,000 (10 notebooks): {}, {} | ls {}, {} (target < 300 MiB)",
        ms(pruned.ours),
        mib(pruned.ours_rss),
        ms(pruned.peer),
        mib(ls_rss)
    );
    let budget = [
        "prune",
        ws.as_str(),
        "--max-entries",
        "500000",
        "--dry-run",
        "--json",
    ];
    let (took, rss) = run(&celltime(), &budget, &mut || {});
    println!(
        "  with a budget over all notebooks (--max-entries 500000, planned at once): {}, {}",
        ms(took),
        mib(rss)
    );
    let summaries = median(
        (0..count)
            .map(|_| {
                let started = Instant::now();
                let store = Store::open(&Workspace::at(&million)).unwrap();
                let total: usize = store.summaries().unwrap().iter().map(|s| s.entries).sum();
                assert_eq!(total, 1_000_000);
                started.elapsed()
            })
            .collect(),
    );
    println!(
        "  notebooks and counts of the 1,000,000 entries (library): {}",
        ms(summaries)
    );
}

/// BLAKE3 the way b3sum hashes: memory-mapped, on every core (blake3's own path).
fn blake3_floor(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .map(|f| {
            let mut hasher = blake3::Hasher::new();
            hasher.update_mmap_rayon(f).unwrap();
            std::fs::metadata(f).unwrap().len()
        })
        .sum()
}

fn b3sum() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("b3sum"))
            .find(|p| p.is_file())
    })
}

/// A workspace holding objects of `size` bytes (`count` of them), made through the library.
fn objects_workspace(name: &str, count: usize, size: usize) -> PathBuf {
    let dir = data_dir().join(name);
    if dir.join("__marimo__").exists() {
        return dir;
    }
    std::fs::create_dir_all(dir.join("__marimo__")).unwrap();
    let store = Store::open(&Workspace::at(&dir)).unwrap();
    let key = NotebookKey::new("bench/large").unwrap();
    let mut notebook = store.notebook_for_write(&key).unwrap();
    for i in 0..count {
        let mut entry = small_entry(&key, i);
        let mut bytes = vec![(i % 251) as u8; size];
        bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
        entry
            .parts
            .push(NewPart::output("application/octet-stream", bytes));
        notebook.put(entry).unwrap();
    }
    notebook.consolidate().unwrap();
    dir
}

fn object_files(workspace: &Path) -> Vec<PathBuf> {
    let objects = workspace.join("__marimo__/persist/bench/large/objects");
    let mut files = Vec::new();
    for fanout in std::fs::read_dir(objects).unwrap() {
        for item in std::fs::read_dir(fanout.unwrap().path()).unwrap() {
            files.push(item.unwrap().path());
        }
    }
    files
}

/// Rows: `verify` of 1.5 GiB in 32 MiB objects (throughput next to blake3's own mapped,
/// multi-threaded hashing, and b3sum when installed), and memory of `verify` and
/// `show --raw` with one 512 MiB object.
fn verify_rows(count: usize) {
    let workspace = objects_workspace("objects-32mib", 48, 32 << 20);
    let ws = workspace.to_str().unwrap().to_string();
    let files = object_files(&workspace);
    let bytes = blake3_floor(&files) as f64;
    let gib = |d: Duration| bytes / d.as_secs_f64() / f64::from(1u32 << 30);
    run(&celltime(), &["verify", &ws], &mut || {});
    let (mut ours, mut floor, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..count.min(5) {
        let (t, r) = run(&celltime(), &["verify", &ws], &mut || {});
        ours.push(t);
        rss.extend(r);
        let started = Instant::now();
        blake3_floor(&files);
        floor.push(started.elapsed());
    }
    let (ours, floor) = (median(ours), median(floor));
    let mut line = format!(
        "verify of 1.5 GiB in 32 MiB objects: {:.2} GiB/s, {} | blake3 mapped on all cores (b3sum's way) {:.2} GiB/s | {:.2}x of it (target >= 0.8x)",
        gib(ours),
        mib(rss.iter().copied().max()),
        gib(floor),
        floor.as_secs_f64() / ours.as_secs_f64()
    );
    if let Some(b3sum) = b3sum() {
        let args: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
        let took = median(
            (0..count.min(5))
                .map(|_| run(&b3sum, &args, &mut || {}).0)
                .collect(),
        );
        line.push_str(&format!(" | b3sum {:.2} GiB/s", gib(took)));
    }
    println!("{line}");
    let big = objects_workspace("objects-512mib", 1, 512 << 20);
    let big_ws = big.to_str().unwrap().to_string();
    let (_, verify_rss) = run(&celltime(), &["verify", &big_ws], &mut || {});
    let out = Command::new(celltime())
        .args(["ls", &big_ws, "--json"])
        .output()
        .unwrap();
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = listing["entries"][0]["id"].as_str().unwrap().to_string();
    let (_, show_rss) = run(
        &celltime(),
        &[
            "show",
            &id,
            &big_ws,
            "--part",
            "outputs:application/octet-stream",
            "--raw",
        ],
        &mut || {},
    );
    println!(
        "  one 512 MiB object: verify {} | show --raw {} (target < 64 MiB)",
        mib(verify_rss),
        mib(show_rss)
    );
}

/// Row: map size per entry, and what git stores of it.
fn size_rows() {
    let workspace = scale_workspace(100_000);
    let map = notebook_dir(&workspace, 0).join("map.toml");
    let len = std::fs::metadata(&map).unwrap().len();
    // git stores a file zlib-compressed (before any delta): gzip -6 is the same deflate.
    let packed = Command::new("gzip")
        .args(["-6", "-c"])
        .arg(&map)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| o.stdout.len());
    println!(
        "map size: {:.0} B per entry ({:.1} MB for 100,000 entries) | compressed as git stores it (gzip -6): {}",
        len as f64 / 100_000.0,
        len as f64 / 1e6,
        packed.map_or("n/a (no gzip)".into(), |p| format!(
            "{:.0} B per entry ({:.1} MiB)",
            p as f64 / 100_000.0,
            p as f64 / f64::from(1u32 << 20)
        ))
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; these figures are for `cargo bench`.
    }
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let wanted = |name: &str| name.contains(&filter);
    let count = runs();
    std::fs::create_dir_all(data_dir()).unwrap();
    println!("store benchmarks (medians of {count} runs, release build, whole processes)");
    if wanted("put") {
        put_rows(count);
    }
    if wanted("open") {
        open_rows(count);
    }
    if wanted("prune") {
        prune_rows(count);
    }
    if wanted("million") {
        million_rows(count);
    }
    if wanted("verify") {
        verify_rows(count);
    }
    if wanted("size") {
        size_rows();
    }
}
