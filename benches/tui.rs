//! UI figures: first frame, key press + frame on a 100,000-entry notebook, diff of two
//! 5,000-line snapshots. `cargo bench --bench tui` prints medians and 99th percentiles.
//! The large store is built once under `target/bench-data/` and reused.

#[path = "../tests/common/screens.rs"]
mod support;

use celltime::demo::{DemoOptions, generate};
use celltime::preview::{DiffOptions, diff_code};
use celltime::tui::App;
use celltime::tui::action::Action;
use celltime_store::model::{History, Timestamp};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ENTRIES: usize = 100_000;

fn main() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    first_frame(&data.join("demo"));
    key_presses(&data.join("scale"));
    diffs();
}

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<44} n={:<5} median {:>9.3} ms   p99 {:>9.3} ms   max {:>9.3} ms",
        samples.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3
    );
}

fn open(dir: &Path) -> std::sync::Arc<dyn History> {
    support::history(support::open_store(dir))
}

/// The demo story (or its synthetic scale mode), written once and reused.
fn ensure(dir: &Path, scale: Option<usize>) {
    if dir.join("__marimo__").exists() {
        return;
    }
    let started = Instant::now();
    let options = DemoOptions {
        scale,
        ..DemoOptions::default()
    };
    let report = generate(dir, &options).expect("write the demo workspace");
    eprintln!(
        "wrote {} entries in {} notebooks in {:.1} s",
        report.entries,
        report.notebooks,
        started.elapsed().as_secs_f64()
    );
}

fn first_frame(dir: &Path) {
    ensure(dir, None);
    let entries: usize = open(dir)
        .notebooks()
        .unwrap()
        .iter()
        .map(|n| n.entries)
        .sum();
    let mut loading = Vec::new();
    let mut loaded = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        let mut app = App::inline(open(dir), support::ui(), Timestamp(support::NOW));
        app.act(Action::Resize {
            width: 120,
            height: 40,
        });
        draw(&app);
        loading.push(start.elapsed());
        app.settle();
        draw(&app);
        loaded.push(start.elapsed());
    }
    stats(
        &format!("first frame, loading state (demo, {entries} entries)"),
        loading,
    );
    stats(
        &format!("first frame with data loaded (demo, {entries} entries)"),
        loaded,
    );
}

fn draw(app: &App) {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    app.draw(&mut terminal).unwrap();
}

fn key_presses(dir: &Path) {
    ensure(dir, Some(ENTRIES));
    let start = Instant::now();
    let mut app = App::inline(open(dir), support::ui(), Timestamp(support::NOW));
    app.act(Action::Resize {
        width: 120,
        height: 40,
    });
    app.settle();
    let entries: usize = app.state.notebooks.iter().map(|s| s.info.entries).sum();
    println!(
        "loaded {entries} entries into the UI in {:.0} ms (off the UI thread in real use)",
        start.elapsed().as_secs_f64() * 1e3
    );
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    app.press("<tab>");
    let script = [
        KeyCode::Char('j'),
        KeyCode::Char('j'),
        KeyCode::Char(' '),
        KeyCode::PageDown,
        KeyCode::Char('k'),
        KeyCode::Char('2'),
        KeyCode::Char('j'),
        KeyCode::Char('G'),
        KeyCode::Char('1'),
        KeyCode::Char('g'),
        KeyCode::Char('v'),
        KeyCode::PageDown,
        KeyCode::Char(' '),
        KeyCode::Char('3'),
    ];
    let mut samples = Vec::new();
    for round in 0..150 {
        for code in script {
            let start = Instant::now();
            app.key(KeyEvent::from(code));
            app.draw(&mut terminal).unwrap();
            samples.push(start.elapsed());
            // Loads run on workers in real use; here they complete between key presses.
            app.settle();
        }
        if round % 10 == 9 {
            // Move to another cell now and then (500 runs each).
            app.press("<backtab>j<tab>");
        }
    }
    stats("key press + frame, 100,000-entry notebook", samples);
    bulk(&mut app, &mut terminal);
}

/// The heavy keys: marking ~100,000 entries at once, then the marks pane and the plan.
fn bulk(app: &mut App, terminal: &mut Terminal<TestBackend>) {
    let timed = |app: &mut App, terminal: &mut Terminal<TestBackend>, keys: &str| {
        let keys = celltime::tui::keymap::parse_keys(keys).unwrap();
        let (last, setup) = keys.split_last().unwrap();
        for k in setup {
            app.key(*k);
        }
        let start = Instant::now();
        app.key(*last);
        app.draw(terminal).unwrap();
        let took = start.elapsed();
        app.settle();
        took
    };
    let mark_all: Vec<Duration> = (0..5)
        .map(|_| {
            app.press("C");
            timed(app, terminal, "A<backspace>1<enter>")
        })
        .collect();
    let marked = app.state.marks.count();
    stats(
        &format!("mark all but newest everywhere ({marked} marks)"),
        mark_all,
    );
    let pane: Vec<Duration> = (0..20)
        .map(|i| timed(app, terminal, if i == 0 { "M" } else { "j" }))
        .collect();
    stats("marks pane key press + frame (same marks)", pane);
    app.press("M");
    let plan: Vec<Duration> = (0..5)
        .map(|_| {
            let took = timed(app, terminal, "D");
            app.press("<esc>");
            took
        })
        .collect();
    stats("open the deletion plan (same marks)", plan);
}

fn snapshot(lines: usize, salt: usize) -> String {
    (0..lines)
        .map(|i| {
            if salt > 0 && i % 20 == 7 {
                format!(
                    "    value_{i} = compute(data[{i}], scale={}, mode='fast')  # changed\n",
                    i + salt
                )
            } else {
                format!("    value_{i} = compute(data[{i}], scale={i}, mode='exact')\n")
            }
        })
        .collect()
}

fn diffs() {
    let old = snapshot(5000, 0);
    let new = snapshot(5000, 3);
    for (what, options) in [
        ("default cap", DiffOptions::default()),
        (
            "line level (above the cap)",
            DiffOptions {
                word_max_bytes: 0,
                ..DiffOptions::default()
            },
        ),
    ] {
        let mut samples = Vec::new();
        let mut lines = 0;
        let mut word_level = false;
        for _ in 0..30 {
            let start = Instant::now();
            let diff = diff_code(&old, &new, &options);
            samples.push(start.elapsed());
            lines = diff.lines.len();
            word_level = diff.word_level;
        }
        let name = format!("diff 2×5,000 lines, {what} (word-level {word_level}, {lines} lines)");
        stats(&name, samples);
    }
}
