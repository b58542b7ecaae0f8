//! A small real store for UI tests, benchmarks and manual runs: two notebooks, a cell whose
//! code changed, a cell with three non-deterministic versions, parents across notebooks,
//! a pin. Fixed times, so screens are reproducible.
#![allow(dead_code)]

use celltime::tui::App;
use celltime::tui::keymap::Keymap;
use celltime::tui::state::Ui;
use celltime::tui::theme::Theme;
use celltime_store::model::{
    CellKey, ExecKey, History, ModuleHash, NewEntry, NewPart, NotebookKey, Timestamp, Version,
};
use celltime_store::store::history::StoreHistory;
use celltime_store::store::{Store, StoreOptions, Workspace};
use chrono::FixedOffset;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::sync::Arc;

/// 2026-11-20T10:00:00Z
pub const T0: i64 = 1_795_168_800_000;
pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 60 * MINUTE;
/// "Now" in every test: five days and two hours after T0.
pub const NOW: i64 = T0 + 5 * 24 * HOUR + 2 * HOUR;

pub fn open_store(dir: &Path) -> Store {
    let options = StoreOptions {
        writer: Some("test".into()),
        ..StoreOptions::default()
    };
    Store::open_with(&Workspace::at(dir), options).expect("open store")
}

fn entry(
    nb: &str,
    cell: &str,
    module: &str,
    version: &str,
    at: i64,
    parts: Vec<NewPart>,
) -> NewEntry {
    let mut e = NewEntry::new(
        NotebookKey::new(nb).unwrap(),
        CellKey::new(cell).unwrap(),
        ModuleHash::new(module).unwrap(),
    );
    e.version = Version::new(version).unwrap();
    e.created_at = Some(Timestamp(at));
    e.parts = parts;
    e
}

pub fn key(nb: &str, cell: &str, module: &str, version: &str, at: i64) -> ExecKey {
    ExecKey {
        notebook: NotebookKey::new(nb).unwrap(),
        cell: CellKey::new(cell).unwrap(),
        module: ModuleHash::new(module).unwrap(),
        version: Version::new(version).unwrap(),
        created_at: Timestamp(at),
    }
}

const PICKLED: &[u8] =
    b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00es.";

const LOAD_V1: &str = "import pandas as pd\n\ndf = pd.read_csv('sales.csv')\ndf.head()\n";
const LOAD_V2: &str =
    "import pandas as pd\n\ndf = pd.read_csv('sales_2026.csv', parse_dates=['day'])\ndf.head()\n";

/// Writes the fixture into `dir` (which becomes the workspace).
pub fn build(dir: &Path) -> Store {
    let store = open_store(dir);
    let eda = NotebookKey::new("analysis/eda").unwrap();
    let mut nb = store.notebook_for_write(&eda).unwrap();
    let table = |rows: u32| {
        NewPart::output(
            "text/plain",
            format!("rows: {rows}\n  day  sales\n0 mon  {}\n", rows * 3).into_bytes(),
        )
    };
    nb.put_batch(vec![
        entry(
            "analysis/eda",
            "load_data",
            "m1load",
            "0",
            T0,
            vec![
                NewPart::code(LOAD_V1),
                table(120),
                NewPart::console("stdout", "reading sales.csv\n"),
            ],
        ),
        entry(
            "analysis/eda",
            "load_data",
            "m1load",
            "0",
            T0 + 2 * HOUR,
            vec![
                NewPart::code(LOAD_V1),
                table(121),
                NewPart::console("stdout", "reading sales.csv\n"),
            ],
        ),
        entry(
            "analysis/eda",
            "load_data",
            "m2load",
            "0",
            T0 + 24 * HOUR,
            vec![
                NewPart::code(LOAD_V2),
                table(365),
                NewPart::console("stderr", "\u{1b}[33mwarning\u{1b}[0m: parsing dates\n"),
            ],
        ),
        entry(
            "analysis/eda",
            "plot",
            "p1plot",
            "0",
            T0 + 25 * HOUR,
            vec![
                NewPart::code("import matplotlib.pyplot as plt\nplt.plot(df.day, df.sales)\n"),
                NewPart::output("image/png", png(640, 480)),
                NewPart::output("text/html", b"<h2>Sales</h2><p>up <b>12%</b></p>".to_vec()),
            ],
        ),
        entry(
            "analysis/eda",
            "sample",
            "s1samp",
            "0",
            T0 + 26 * HOUR,
            sample(0, "[0.1, 0.7]"),
        ),
        entry(
            "analysis/eda",
            "sample",
            "s1samp",
            "1",
            T0 + 26 * HOUR + MINUTE,
            sample(1, "[0.4, 0.2]"),
        ),
        entry(
            "analysis/eda",
            "sample",
            "s1samp",
            "2",
            T0 + 26 * HOUR + 2 * MINUTE,
            sample(2, "[0.9, 0.5]"),
        ),
    ])
    .unwrap();
    let train = NotebookKey::new("models/train").unwrap();
    let mut nb = store.notebook_for_write(&train).unwrap();
    let parent = key("analysis/eda", "load_data", "m2load", "0", T0 + 24 * HOUR);
    let mut fit = entry(
        "models/train",
        "fit",
        "f1fit",
        "0",
        T0 + 48 * HOUR,
        vec![
            NewPart::code("model = fit(df)\n"),
            NewPart::variables("score", "json", b"{\"r2\": 0.81}".to_vec()),
            // pickle.dumps({"a": [1, 2.5]}, protocol=2)
            NewPart::variables("model", "pickle", PICKLED.to_vec()),
        ],
    );
    fit.parents = vec![parent];
    fit.pinned = true;
    let fit2 = entry(
        "models/train",
        "fit",
        "f2fit",
        "0",
        T0 + 72 * HOUR,
        vec![
            NewPart::code("model = fit(df, alpha=0.5)\n"),
            NewPart::variables("score", "json", b"{\"r2\": 0.84}".to_vec()),
        ],
    );
    nb.put_batch(vec![fit, fit2]).unwrap();
    store
}

fn sample(seed: u32, values: &str) -> Vec<NewPart> {
    vec![
        NewPart::code("draws = rng.random(2)\n"),
        NewPart::output(
            "application/json",
            format!("{{\"seed\": {seed}, \"draws\": {values}}}").into_bytes(),
        ),
    ]
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend(w.to_be_bytes());
    b.extend(h.to_be_bytes());
    b.extend([8, 6, 0, 0, 0]);
    b
}

pub fn ui() -> Ui {
    Ui {
        keymap: Arc::new(Keymap::default()),
        theme: Arc::new(Theme::new(true)),
        mouse: true,
        tz: celltime_store::model::Zone::Fixed(FixedOffset::east_opt(0).unwrap()),
        pictures: Arc::default(),
        wrap: true,
        default_policy: None,
    }
}

/// A settled app over the history, sized `w`×`h`.
pub fn app(history: Arc<dyn History>, w: u16, h: u16) -> App {
    let mut app = App::inline(history, ui(), Timestamp(NOW));
    app.act(celltime::tui::action::Action::Resize {
        width: w,
        height: h,
    });
    app.settle();
    app
}

pub fn history(store: Store) -> Arc<dyn History> {
    Arc::new(StoreHistory::new(store))
}

/// The screen as text (one line per row).
pub fn screen(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    app.draw(&mut terminal).unwrap();
    let buffer = terminal.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn terminal(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    app.draw(&mut terminal).unwrap();
    terminal
}
