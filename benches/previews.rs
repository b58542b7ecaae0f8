//! Previews of large results, each next to a floor or a peer measured in the same run:
//!
//! - a pickled pandas DataFrame of 1,000,000 rows × 20 float64 columns (made by real pandas):
//!   the whole preview (decode + table + the visible rows), the visible part alone, against
//!   copying the pickle's bytes once (the floor) and pandas' own `pickle.loads` + `repr` (the
//!   peer);
//! - the results diff of two such frames (one column changed in 1,000 rows), against comparing
//!   their bytes (the floor);
//! - a pickled 40 MB integer: its preview against copying its bytes once.
//!
//! Run: `cargo bench --bench previews`. Python with pandas is `CELLTIME_BENCH_PYTHON`, else
//! `.venv/bin/python` in the workspace (see crates/celltime-pyvalue/tests/data/frames/
//! make_frames.py for the versions); `CELLTIME_BENCH_RUNS` sets the repetitions (default 5).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use celltime::preview::output::{Decoded, decode_variable, variable};
use celltime::preview::results::compare_tables;
use celltime::preview::{Limits, table};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn measure(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

/// Peak resident memory of this process so far, from /proc.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn python() -> PathBuf {
    std::env::var_os("CELLTIME_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"))
}

const MAKE_FRAMES: &str = r#"
import pickle, sys, time
import numpy as np, pandas as pd
out, runs = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
df = pd.DataFrame({f"c{i}": rng.random(1_000_000) for i in range(20)})
other = df.copy()
other.loc[::1000, "c3"] = -1.0
a, b = pickle.dumps(df, protocol=5), pickle.dumps(other, protocol=5)
open(out + "/a.pickle", "wb").write(a)
open(out + "/b.pickle", "wb").write(b)
times = []
for _ in range(runs):
    t = time.perf_counter()
    repr(pickle.loads(a))
    times.append(time.perf_counter() - t)
print(sorted(times)[len(times) // 2])
"#;

fn main() {
    let runs: usize = std::env::var("CELLTIME_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let made = Command::new(python())
        .args(["-c", MAKE_FRAMES])
        .arg(dir.path())
        .arg(runs.to_string())
        .output();
    let peer = match made {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse::<f64>()
            .ok()
            .map(Duration::from_secs_f64),
        _ => None,
    };
    let limits = Limits::default();
    let ms = |d: Duration| format!("{:>9.1} ms", d.as_secs_f64() * 1e3);
    if let Some(peer) = peer {
        let a = std::fs::read(dir.path().join("a.pickle")).unwrap();
        let b = std::fs::read(dir.path().join("b.pickle")).unwrap();
        println!(
            "pandas DataFrame 1,000,000 rows × 20 float64 columns, pickle {:.1} MiB, median of {runs}",
            a.len() as f64 / (1 << 20) as f64
        );
        let floor = measure(runs, || {
            std::hint::black_box(a.to_vec());
        });
        let whole = measure(runs, || {
            std::hint::black_box(variable("pickle", &a, &limits, false));
        });
        let Decoded::Table(ta) = decode_variable("pickle", &a) else {
            panic!("not a table");
        };
        let Decoded::Table(tb) = decode_variable("pickle", &b) else {
            panic!("not a table");
        };
        let visible = measure(runs, || {
            std::hint::black_box(table::render(&ta, &limits));
        });
        let diff = measure(runs, || {
            std::hint::black_box(compare_tables(&ta, &tb));
        });
        let bytes_floor = measure(runs, || {
            std::hint::black_box(a == b);
        });
        let changed = compare_tables(&ta, &tb).cells_changed;
        println!(
            "  preview, whole (decode + table + visible rows) {}",
            ms(whole)
        );
        println!(
            "  preview, visible part alone                    {}",
            ms(visible)
        );
        println!(
            "  floor: copy the pickle's bytes once            {}",
            ms(floor)
        );
        println!(
            "  peer: pandas pickle.loads + repr               {}",
            ms(peer)
        );
        println!(
            "  ratio whole / floor {:.1}x, whole / pandas {:.2}x",
            whole.as_secs_f64() / floor.as_secs_f64(),
            whole.as_secs_f64() / peer.as_secs_f64()
        );
        println!(
            "  diff of two such frames ({changed} cells changed)  {}",
            ms(diff)
        );
        println!(
            "  floor: compare their pickles' bytes            {}",
            ms(bytes_floor)
        );
        println!(
            "  ratio diff / floor {:.1}x",
            diff.as_secs_f64() / bytes_floor.as_secs_f64()
        );
        println!("  peak memory so far {:.0} MiB", peak_rss_mib());
    } else {
        println!(
            "pandas not found at {} (set CELLTIME_BENCH_PYTHON): DataFrame figures skipped",
            python().display()
        );
    }
    let int = huge_int_pickle(40 << 20);
    let before = peak_rss_mib();
    let preview = measure(runs, || {
        std::hint::black_box(variable("pickle", &int, &limits, false));
    });
    let floor = measure(runs, || {
        std::hint::black_box(int.to_vec());
    });
    let text = variable("pickle", &int, &limits, false).to_text();
    println!("pickled 40 MiB integer, median of {runs}");
    println!(
        "  preview                                        {}",
        ms(preview)
    );
    println!(
        "  floor: copy its bytes once                     {}",
        ms(floor)
    );
    println!(
        "  ratio {:.1}x; {} characters shown; peak memory {:.0} → {:.0} MiB",
        preview.as_secs_f64() / floor.as_secs_f64(),
        text.chars().count(),
        before,
        peak_rss_mib()
    );
    println!("  {}", text.chars().take(100).collect::<String>());
}

/// LONG4 of `n` pseudo-random bytes (a positive integer of `8n` bits).
fn huge_int_pickle(n: usize) -> Vec<u8> {
    let mut p = b"\x80\x04\x8b".to_vec();
    p.extend_from_slice(&(n as u32).to_le_bytes());
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p.push(x as u8);
    }
    // Positive: the top byte's sign bit clear.
    if let Some(top) = p.last_mut() {
        *top &= 0x7f;
    }
    p.push(b'.');
    p
}
