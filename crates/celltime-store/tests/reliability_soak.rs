//! `kill -9` soak: a writer putting entries (re-using contents, large and small) and a pruner
//! removing, consolidating and collecting garbage run against one notebook; a seeded scheduler
//! SIGKILLs them at random points of their work. After every kill `verify` must pass, every
//! listed entry must have its contents, and every put the writer acknowledged must be there
//! unless the pruner had announced its removal.
//!
//! The regular suite does 100 rounds (200 kills). `CELLTIME_SOAK_ROUNDS=5000` makes a long run.

use celltime_store::model::{EntryId, NewPart, PartMask};
use celltime_store::testing::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

fn child_rng() -> StdRng {
    let seed = std::env::var("CELLTIME_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    StdRng::seed_from_u64(seed)
}

fn child_dir() -> std::path::PathBuf {
    std::env::var("CELLTIME_SOAK_DIR")
        .expect("child of the soak test")
        .into()
}

#[test]
#[ignore = "run by the soak test as a child process"]
fn soak_writer() {
    let mut rng = child_rng();
    let mut notebook = store(&child_dir()).notebook_for_write(&nb("nb")).unwrap();
    let large = [vec![1u8; 90_000], vec![2u8; 110_000]];
    let mut out = std::io::stdout().lock();
    for n in 0u64.. {
        let cell = format!("c{}", rng.random_range(0..4));
        let module = format!("m{}", rng.random_range(0..3)); // shared code snapshots
        let created = 1_700_000_000_000 + (rng.random::<u32>() as i64) * 1000 + n as i64;
        let mut e = entry(
            "nb",
            &cell,
            &module,
            created,
            &rng.random::<u64>().to_string(),
        );
        if rng.random_range(0..8) == 0 {
            e.parts.push(NewPart::output(
                "image/png",
                large[rng.random_range(0..2)].clone(),
            ));
        }
        let id = notebook.put(e).unwrap().id();
        writeln!(out, "@@ack {}", id.to_hex()).unwrap();
        out.flush().unwrap();
        if n % 7 == 6 {
            notebook.consolidate().unwrap();
        }
    }
}

#[test]
#[ignore = "run by the soak test as a child process"]
fn soak_pruner() {
    let mut rng = child_rng();
    let mut out = std::io::stdout().lock();
    loop {
        let mut notebook = match store(&child_dir()).notebook_for_write(&nb("nb")) {
            Ok(n) => n,
            Err(e) => panic!("{e}"),
        };
        let keep = rng.random_range(1..4);
        let mut by_cell: std::collections::BTreeMap<String, Vec<(i64, EntryId)>> =
            Default::default();
        for view in notebook.index().views() {
            by_cell
                .entry(view.cell.to_string())
                .or_default()
                .push((view.created_at.millis(), view.id));
        }
        let doomed: Vec<EntryId> = by_cell
            .values_mut()
            .flat_map(|runs| {
                runs.sort_by(|a, b| b.cmp(a));
                runs.split_off(keep.min(runs.len()))
                    .into_iter()
                    .map(|(_, id)| id)
            })
            .collect();
        // Announced before the removal, so a kill right after it is accounted for.
        let names: Vec<String> = doomed.iter().map(|id| id.to_hex()).collect();
        writeln!(out, "@@rm {}", names.join(" ")).unwrap();
        out.flush().unwrap();
        notebook.remove(&doomed).unwrap();
        notebook.consolidate().unwrap();
        notebook.gc(Duration::ZERO).unwrap();
        writeln!(out, "@@swept").unwrap();
        out.flush().unwrap();
    }
}

struct Running {
    child: Child,
    lines: Receiver<String>,
}

fn spawn(dir: &Path, name: &str, seed: u64) -> Running {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            name,
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CELLTIME_SOAK_DIR", dir)
        .env("RUST_BACKTRACE", "1")
        .env("CELLTIME_SOAK_SEED", seed.to_string())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join(format!("{name}.stderr"))).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Running { child, lines }
}

/// What the children said: acknowledged puts and announced removals.
#[derive(Default)]
struct Ledger {
    acked: HashSet<EntryId>,
    announced: HashSet<EntryId>,
}

impl Ledger {
    /// Messages start with `@@`; the test harness may print before them on the same line.
    fn record(&mut self, line: &str) {
        let Some((_, message)) = line.split_once("@@") else {
            return;
        };
        if let Some(id) = message.strip_prefix("ack ") {
            self.acked.insert(id.parse().unwrap());
        } else if let Some(ids) = message.strip_prefix("rm") {
            self.announced.extend(
                ids.split_whitespace()
                    .map(|id| id.parse::<EntryId>().unwrap()),
            );
        }
    }
}

fn kill(running: &mut Running, ledger: &mut Ledger) {
    let _ = running.child.kill();
    running.child.wait().unwrap();
    // The pipe closes with the process: everything it said before dying is read here.
    for line in running.lines.iter() {
        ledger.record(&line);
    }
}

fn check(dir: &Path, ledger: &Ledger, round: usize) {
    let notebook = store(dir).notebook_for_write(&nb("nb")).unwrap();
    let report = notebook.verify().unwrap();
    assert_eq!(report.errors(), 0, "round {round}: {:?}", report.problems);
    let present: HashSet<EntryId> = notebook.index().views().iter().map(|v| v.id).collect();
    for id in &ledger.acked {
        assert!(
            present.contains(id) || ledger.announced.contains(id),
            "round {round}: acknowledged entry {} is gone without a recorded prune",
            id.short()
        );
    }
    for view in notebook.index().views() {
        let fetched = notebook.get(view.id, PartMask::all()).unwrap();
        assert!(
            fetched.parts.iter().all(|(_, b)| b.is_ok()),
            "round {round}: {} lost a content",
            view.id.short()
        );
    }
}

#[test]
fn kill_nine_soak() {
    let rounds: usize = std::env::var("CELLTIME_SOAK_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let dir = workspace();
    let mut scheduler = StdRng::seed_from_u64(20261125);
    let mut ledger = Ledger::default();
    let mut kills = 0;
    for round in 0..rounds {
        let mut writer = spawn(
            dir.path(),
            "reliability_soak::soak_writer",
            scheduler.random(),
        );
        let mut pruner = spawn(
            dir.path(),
            "reliability_soak::soak_pruner",
            scheduler.random(),
        );
        // The victim dies after a random amount of its own progress; the other goes with it,
        // at whatever point it has reached.
        let (victim, other) = if scheduler.random_bool(0.5) {
            (&mut writer, &mut pruner)
        } else {
            (&mut pruner, &mut writer)
        };
        let mut heard = 0;
        let wanted = scheduler.random_range(1..12);
        while heard < wanted {
            match victim.lines.recv() {
                Ok(line) => {
                    heard += usize::from(line.contains("@@"));
                    ledger.record(&line);
                }
                Err(_) => panic!(
                    "round {round}: a child died on its own:\n{}{}",
                    std::fs::read_to_string(dir.path().join("soak_writer.stderr"))
                        .unwrap_or_default(),
                    std::fs::read_to_string(dir.path().join("soak_pruner.stderr"))
                        .unwrap_or_default()
                ),
            }
        }
        kill(victim, &mut ledger);
        kill(other, &mut ledger);
        kills += 2;
        check(dir.path(), &ledger, round);
    }
    assert!(kills >= 200 || rounds < 100);
    assert!(ledger.acked.len() > rounds, "the writer made progress");
}
