//! Planning 100,000 entries (200 cells × 500 runs) under three policies.
//! Run: `cargo bench --bench policy`.

use std::hint::black_box;

use celltime_store::policy::{Candidate, PlanInput, plan};
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use criterion::{Criterion, criterion_group, criterion_main};

const CELLS: usize = 200;
const RUNS: usize = 500;

struct Synthetic {
    notebooks: Vec<String>,
    cells: Vec<String>,
    modules: Vec<String>,
    versions: Vec<String>,
    contents: Vec<[u32; 2]>,
    sizes: Vec<u64>,
    runs: Vec<Run>,
}

struct Run {
    notebook: usize,
    cell: usize,
    module: usize,
    version: usize,
    created: DateTime<Utc>,
    used: DateTime<Utc>,
    pinned: bool,
}

/// A deterministic store: 10 notebooks of 20 cells, one run every ~35 h over two years,
/// a new module hash every 50 runs, 4 versions, 1 in 50 pinned, and one output in ten
/// deduplicated onto the run before it. Sizes 2 kB (code) and up to ~5 MB (outputs).
fn synthetic() -> Synthetic {
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut s = Synthetic {
        notebooks: (0..10).map(|n| format!("project/nb-{n}")).collect(),
        cells: (0..CELLS).map(|c| format!("cell-{c}")).collect(),
        modules: (0..RUNS / 50).map(|m| format!("{m:016x}")).collect(),
        versions: (0..4).map(|v| v.to_string()).collect(),
        contents: Vec::with_capacity(CELLS * RUNS),
        sizes: Vec::new(),
        runs: Vec::with_capacity(CELLS * RUNS),
    };
    for cell in 0..CELLS {
        for run in 0..RUNS {
            let module = run / 50;
            let code = if run % 50 == 0 {
                s.sizes.push(2_000);
                s.sizes.len() as u32 - 1
            } else {
                s.contents.last().expect("run 0 came first")[0]
            };
            let output = if run % 10 == 9 {
                s.contents.last().expect("run 9 came first")[1]
            } else {
                s.sizes.push(10_000 + next() % 5_000_000);
                s.sizes.len() as u32 - 1
            };
            s.contents.push([code, output]);
            let created = start + Duration::minutes((run as i64) * 2_100 + (next() % 600) as i64);
            let used = created + Duration::hours((next() % 2_000) as i64);
            let version = (next() % 4) as usize;
            s.runs.push(Run {
                notebook: cell % 10,
                cell,
                module,
                version,
                created,
                used,
                pinned: next() % 50 == 0,
            });
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let s = synthetic();
    let entries: Vec<Candidate<'_>> = s
        .runs
        .iter()
        .zip(&s.contents)
        .map(|(r, contents)| Candidate {
            notebook: &s.notebooks[r.notebook],
            cell: &s.cells[r.cell],
            module: &s.modules[r.module],
            version: &s.versions[r.version],
            created_at: r.created,
            last_used: r.used,
            pinned: r.pinned,
            contents,
        })
        .collect();
    let input = PlanInput {
        entries: &entries,
        content_sizes: &s.sizes,
    };
    let now = Utc.with_ymd_and_hms(2027, 1, 20, 12, 0, 0).unwrap();
    let policies = [
        (
            "calendar",
            "--keep-last 3 --keep-daily 7 --keep-weekly 4 --keep-monthly 12",
        ),
        (
            "budgets",
            "--max-age 180d --max-size 50GiB --max-entries 50000",
        ),
        (
            "combined",
            "--notebook 'project/*' --keep-within 30d --keep-versions 3 --max-size 20GiB",
        ),
    ];
    let mut group = c.benchmark_group("plan_100k");
    group.sample_size(30);
    for (name, text) in policies {
        let policy = celltime::cli::policy_args::policy_from_text(text).expect("valid policy");
        group.bench_function(name, |b| {
            b.iter(|| plan(black_box(&input), black_box(&policy), now, &Berlin).expect("plans"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
