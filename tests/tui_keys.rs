//! The keys every terminal program honours, the prompts, and what the UI asks of the
//! terminal around it (suspend, clipboard, pager), on the real store of `screens` with the
//! tmux-free harness: keys in, state, screen and requests out.

use crate::common::celltime;
use crate::common::screens::*;
use celltime::tui::action::Action;
use celltime::tui::open::Target;
use celltime::tui::state::{Mode, PromptKind};
use celltime::tui::{App, Request, TuiOptions, load_ui};
use celltime_store::model::{EntryId, Timestamp};

struct Fixture {
    /// The store's folder, alive as long as the app reads it.
    _dir: tempfile::TempDir,
    app: App,
    w: u16,
    h: u16,
}

impl Fixture {
    fn new(w: u16, h: u16) -> Fixture {
        Fixture::with_ui(w, h, |_| {})
    }

    /// The fixture with the UI settings changed by `change` (config, saved policy).
    fn with_ui(w: u16, h: u16, change: impl FnOnce(&mut celltime::tui::state::Ui)) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = build(dir.path());
        let mut settings = ui();
        change(&mut settings);
        let mut app = App::inline(history(store), settings, Timestamp(NOW));
        app.act(Action::Resize {
            width: w,
            height: h,
        });
        app.settle();
        Fixture {
            _dir: dir,
            app,
            w,
            h,
        }
    }

    fn press(&mut self, keys: &str) -> &mut Fixture {
        self.app.press(keys);
        self
    }

    fn screen(&self) -> String {
        screen(&self.app, self.w, self.h)
    }

    fn status(&self) -> String {
        self.app
            .state
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default()
    }
}

fn newest_load() -> EntryId {
    EntryId::of(
        "analysis/eda",
        "load_data",
        "m2load",
        "0",
        Timestamp(T0 + 24 * HOUR),
    )
}

#[test]
fn ctrl_c_cancels_a_prompt_and_otherwise_quits_at_once_even_with_marks() {
    let mut f = Fixture::new(100, 30);
    f.press("/lo<ctrl-c>");
    assert_eq!(f.app.state.mode, Mode::Normal, "the prompt is cancelled");
    assert!(f.app.state.filter.is_empty(), "and its filter with it");
    assert!(!f.app.quit());
    f.press("<tab><space>");
    assert_eq!(f.app.state.marks.count(), 1);
    f.press("<ctrl-c>");
    assert!(f.app.quit(), "Ctrl-C quits without asking, marks or not");
}

#[test]
fn a_config_that_takes_quit_away_is_reported_and_ctrl_c_still_quits() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[keys]\nquit = \"j\"\npin = \"ctrl-c\"\n").unwrap();
    let (settings, problems) = load_ui(&TuiOptions {
        config: Some(config),
        ..TuiOptions::default()
    })
    .unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("quit (global) cannot be reached")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("ctrl-c is reserved")),
        "{problems:?}"
    );
    let mut f = Fixture::with_ui(100, 30, |ui| ui.keymap = settings.keymap.clone());
    f.press("<tab>j");
    assert!(!f.app.quit(), "j still moves: that is what the report says");
    f.press("<ctrl-c>");
    assert!(f.app.quit());
}

#[test]
fn ctrl_z_asks_the_terminal_to_suspend_and_the_ui_carries_on() {
    let mut f = Fixture::new(100, 30);
    f.press("<tab><space><ctrl-z>");
    assert_eq!(f.app.take_requests(), vec![Request::Suspend]);
    assert!(!f.app.quit());
    assert_eq!(
        f.app.state.marks.count(),
        1,
        "nothing is lost across a suspend"
    );
    assert!(f.app.take_requests().is_empty(), "asked once");
}

#[test]
fn the_policy_prompt_starts_from_the_saved_default_policy() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    celltime(dir.path())
        .args([
            "prune",
            "--keep-last",
            "2",
            "--keep-within",
            "7d",
            "--save-default",
        ])
        .assert()
        .success();
    let saved = celltime::cli::saved_policy(&celltime::cli::WorkspaceArgs::at(Some(
        dir.path().to_path_buf(),
    )));
    assert_eq!(saved.as_deref(), Some("--keep-last 2 --keep-within 7d"));
    let mut f = Fixture::with_ui(120, 40, |ui| ui.default_policy = saved);
    f.press("P");
    match &f.app.state.mode {
        Mode::Prompt(p) => {
            assert_eq!(p.kind, PromptKind::Policy);
            assert_eq!(p.input, "--keep-last 2 --keep-within 7d");
        }
        other => panic!("no prompt: {other:?}"),
    }
    assert!(
        f.screen().contains("from 2 notebooks"),
        "the prompt says what it covers: {}",
        f.screen()
    );
    // Without a saved policy the prompt starts from an example.
    let mut f = Fixture::new(120, 40);
    f.press("P");
    assert!(matches!(&f.app.state.mode, Mode::Prompt(p) if p.input == "--keep-last 3"));
}

#[test]
fn a_covers_every_notebook_as_p_does_and_says_so() {
    let mut f = Fixture::new(160, 48);
    f.press("A");
    assert!(
        f.screen()
            .contains("every cell of 2 notebooks (analysis/eda, models/train)"),
        "{}",
        f.screen()
    );
    f.press("<backspace>0<enter>");
    // Every unpinned run: analysis/eda 7, models/train 1 (its other run is pinned).
    assert_eq!(f.app.state.marks.count(), 8, "{}", f.status());
    assert!(f.status().contains("in 2 notebooks"), "{}", f.status());
    assert!(f.status().contains("1 pinned left alone"), "{}", f.status());
}

#[test]
fn clearing_the_marks_clears_the_policys_labels() {
    let mut f = Fixture::new(160, 48);
    f.press("P<enter>");
    assert!(!f.app.state.keep_reasons.is_empty());
    assert!(f.screen().contains("newest of cell"), "{}", f.screen());
    f.press("C");
    assert!(f.app.state.marks.is_empty());
    assert!(f.app.state.keep_reasons.is_empty());
    assert!(!f.screen().contains("newest of cell"), "{}", f.screen());
}

#[test]
fn reloading_says_when_it_is_done() {
    let mut f = Fixture::new(100, 30);
    f.app.act(Action::Reload);
    assert_eq!(f.status(), "reloading…");
    f.app.settle();
    assert_eq!(f.status(), "reloaded 2 notebooks");
    assert!(!f.screen().contains("reloading"));
}

#[test]
fn zoom_gives_the_details_the_whole_screen() {
    let mut f = Fixture::new(100, 30);
    let before = f.screen();
    assert!(before.contains("Cells"), "{before}");
    f.press("<tab>z");
    let zoomed = f.screen();
    assert!(!zoomed.contains("Cells"), "{zoomed}");
    assert!(zoomed.contains("Details ·"), "{zoomed}");
    assert!(zoomed.contains("parse_dates"), "the code shows: {zoomed}");
    f.press("z");
    assert!(f.screen().contains("Cells"));
    f.press("zh");
    assert!(
        !f.app.state.zoom,
        "moving to another pane brings the panes back"
    );
}

#[test]
fn long_lines_scroll_sideways_with_a_marker_where_they_are_cut() {
    let mut f = Fixture::with_ui(100, 30, |ui| ui.wrap = false);
    f.press("<tab>");
    let text = f.screen();
    let line = text
        .lines()
        .find(|l| l.contains("df = pd.read_csv"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains('›'), "cut on the right: {line}");
    f.press("LL");
    let text = f.screen();
    let line = text
        .lines()
        .find(|l| l.contains("parse_dates"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains('‹'),
        "cut on the left after scrolling: {line}"
    );
    f.press("HH");
    assert_eq!(f.app.state.details.hscroll, 0);
}

#[test]
fn y_copies_the_full_id_and_o_opens_the_output_or_the_text() {
    let mut f = Fixture::new(100, 30);
    f.press("<tab>y");
    assert_eq!(
        f.app.take_requests(),
        vec![Request::Copy(newest_load().to_hex())]
    );
    assert!(f.status().contains("copied"), "{}", f.status());
    f.press("3o");
    assert_eq!(
        f.app.take_requests(),
        vec![Request::Open(Target::Output {
            notebook: "analysis/eda".into(),
            id: newest_load(),
        })]
    );
    f.press("1o");
    match f.app.take_requests().as_slice() {
        [Request::Open(Target::Text { text, .. })] => {
            assert!(text.contains("parse_dates"), "{text}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_open_request_resolves_to_the_output_bytes_and_its_viewer() {
    let dir = tempfile::tempdir().unwrap();
    let store = build(dir.path());
    let history = history(store);
    let target = Target::Output {
        notebook: "analysis/eda".into(),
        id: newest_load(),
    };
    let (bytes, name, viewer) = celltime::tui::open::resolve(history.as_ref(), &target).unwrap();
    assert!(!bytes.is_empty());
    assert!(name.starts_with("output."), "{name}");
    let expected = if name.ends_with(".txt") {
        celltime::tui::open::Viewer::Pager
    } else {
        celltime::tui::open::Viewer::System
    };
    assert_eq!(viewer, expected);
}
