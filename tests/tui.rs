//! Whole-screen snapshots and journeys over a real temporary store: keys in, screen and disk
//! checked. Jobs run synchronously through `settle()`; nothing sleeps.

use crate::common::screens::*;
use celltime::tui::App;
use celltime::tui::action::Action;
use celltime::tui::state::Mode;
use celltime_store::model::{EntryId, History, NotebookKey, Timestamp};
use ratatui::style::Modifier;
use std::collections::HashSet;

struct Fixture {
    dir: tempfile::TempDir,
    app: App,
    w: u16,
    h: u16,
}

impl Fixture {
    fn new(w: u16, h: u16) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = build(dir.path());
        let app = app(history(store), w, h);
        Fixture { dir, app, w, h }
    }

    /// The UI started again on the same workspace (nothing kept in memory).
    fn restart(self) -> Fixture {
        let app = app(history(open_store(self.dir.path())), self.w, self.h);
        Fixture { app, ..self }
    }

    fn press(&mut self, keys: &str) -> &mut Fixture {
        self.app.press(keys);
        self
    }

    /// The screen with the temporary path replaced, for snapshots.
    fn screen(&self) -> String {
        let location = self.dir.path().join("__marimo__").join("persist");
        screen(&self.app, self.w, self.h).replace(&location.display().to_string(), "[STORE]")
    }

    fn ids_on_disk(&self, notebook: &str) -> HashSet<EntryId> {
        let store = open_store(self.dir.path());
        let nb = store
            .notebook(&NotebookKey::new(notebook).unwrap())
            .unwrap();
        nb.index().views().iter().map(|v| v.id).collect()
    }
}

fn id(nb: &str, cell: &str, module: &str, version: &str, at: i64) -> EntryId {
    EntryId::of(nb, cell, module, version, Timestamp(at))
}

fn newest_load() -> EntryId {
    id("analysis/eda", "load_data", "m2load", "0", T0 + 24 * HOUR)
}

fn middle_load() -> EntryId {
    id("analysis/eda", "load_data", "m1load", "0", T0 + 2 * HOUR)
}

#[test]
fn first_frame_shows_loading_before_any_job_ran() {
    let dir = tempfile::tempdir().unwrap();
    let store = build(dir.path());
    let mut app = App::inline(history(store), ui(), Timestamp(NOW));
    app.act(Action::Resize {
        width: 80,
        height: 24,
    });
    let text = screen(&app, 80, 24);
    assert!(text.contains("loading…"), "{text}");
}

#[test]
fn main_screen_80x24() {
    let f = Fixture::new(80, 24);
    insta::assert_snapshot!("main_80x24", f.screen());
}

#[test]
fn main_screen_160x48() {
    let mut f = Fixture::new(160, 48);
    f.press("<tab>");
    insta::assert_snapshot!("main_160x48", f.screen());
}

#[test]
fn empty_workspace() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("__marimo__")).unwrap();
    let app = app(history(open_store(dir.path())), 80, 24);
    let text = screen(&app, 80, 24).replace(&dir.path().display().to_string(), "[WS]");
    assert!(text.contains("no cached runs yet"), "{text}");
    insta::assert_snapshot!("empty_80x24", text);
}

#[test]
fn delete_then_undo_changes_the_disk() {
    let mut f = Fixture::new(120, 40);
    let before = f.ids_on_disk("analysis/eda");
    assert_eq!(before.len(), 7);
    f.press("<tab><space><space>");
    assert!(f.screen().contains("✗ 2 marked"), "{}", f.screen());
    f.press("D");
    let plan = f.screen();
    assert!(plan.contains("Delete 2 entries?"), "{plan}");
    assert!(plan.contains("deletes the newest run of"), "{plan}");
    // Marked rows stay visible, struck through, beside the dialog.
    let buffer = terminal(&f.app, 120, 40).backend().buffer().clone();
    let struck = (0..40).any(|y| {
        (0..120).any(|x| {
            let cell = &buffer[(x, y)];
            cell.symbol() == "c" && cell.modifier.contains(Modifier::CROSSED_OUT) && x < 72
        })
    });
    assert!(
        struck,
        "marked timeline rows are struck through in plan mode"
    );
    f.press("y");
    let after = f.ids_on_disk("analysis/eda");
    assert_eq!(after.len(), 5);
    assert!(!after.contains(&newest_load()) && !after.contains(&middle_load()));
    assert!(f.screen().contains("deleted 2 entries"), "{}", f.screen());
    assert!(f.app.state.marks.is_empty());

    // Quit and start again: the undo comes from the operation log, not from memory.
    f.press("q");
    let mut f = f.restart();
    f.press("u");
    assert!(
        f.screen().contains("Undo delete"),
        "the confirmation names the operation: {}",
        f.screen()
    );
    f.press("y");
    assert_eq!(f.ids_on_disk("analysis/eda"), before);
    assert!(
        f.screen().contains("undone: 2 entries back"),
        "{}",
        f.screen()
    );
    f.press("u");
    assert!(f.screen().contains("nothing to undo"), "{}", f.screen());
}

#[test]
fn a_plan_made_stale_by_a_concurrent_prune_deletes_nothing_and_shows_the_new_plan() {
    let mut f = Fixture::new(120, 40);
    // Mark the two newest runs of load_data and open the plan.
    f.press("<tab><space><space>D");
    assert!(f.screen().contains("Delete 2 entries?"), "{}", f.screen());
    // Meanwhile another process prunes the cell down to its newest run.
    crate::common::celltime(f.dir.path())
        .args([
            "prune",
            "--notebook",
            "analysis/eda",
            "--cell",
            "load_data",
            "--keep-last",
            "2",
            "--yes",
        ])
        .assert()
        .success();
    let after_prune = f.ids_on_disk("analysis/eda");
    f.press("y");
    assert_eq!(
        f.ids_on_disk("analysis/eda"),
        after_prune,
        "the stale plan deleted nothing"
    );
    let Mode::Plan { plan, .. } = &f.app.state.mode else {
        panic!("the new plan is shown: {}", f.screen())
    };
    assert_eq!(plan.entries, 2, "both marked runs still exist");
    assert!(f.screen().contains("nothing was deleted"), "{}", f.screen());
    // Confirming the new plan (made on what is there now) deletes.
    f.press("y");
    assert_eq!(f.ids_on_disk("analysis/eda").len(), after_prune.len() - 2);
}

#[test]
fn runs_written_or_removed_by_another_process_show_while_the_ui_is_open() {
    let mut f = Fixture::new(120, 40);
    // Cursor on the middle load_data run, the newest marked.
    f.press("<tab><space>");
    let selected = f.app.state.selected_row().unwrap().1.id;
    assert_eq!(selected, middle_load());
    let rows = |f: &Fixture| f.app.state.current_cell().unwrap().0.cells[0].runs;
    let before = rows(&f);
    // Another process records a new run of load_data.
    let store = open_store(f.dir.path());
    let mut nb = store
        .notebook_for_write(&NotebookKey::new("analysis/eda").unwrap())
        .unwrap();
    let mut run = celltime_store::model::NewEntry::new(
        NotebookKey::new("analysis/eda").unwrap(),
        celltime_store::model::CellKey::new("load_data").unwrap(),
        celltime_store::model::ModuleHash::new("m3load").unwrap(),
    );
    run.created_at = Some(Timestamp(NOW - HOUR));
    run.parts = vec![celltime_store::model::NewPart::code("df = 3\n")];
    nb.put(run).unwrap();
    // The follower's event arrives through the same path as keys and job results.
    f.app.act(Action::DiskChanged);
    f.app.settle();
    assert_eq!(rows(&f), before + 1, "the new run appears");
    assert_eq!(
        f.app.state.selected_row().unwrap().1.id,
        selected,
        "the cursor stays on its run"
    );
    assert!(f.app.state.marks.contains("analysis/eda", newest_load()));
    // Another process removes the marked run: the mark goes, with a message.
    nb.remove(&[newest_load()]).unwrap();
    f.app.act(Action::DiskChanged);
    f.app.settle();
    assert!(f.app.state.marks.is_empty());
    assert!(f.screen().contains("vanished"), "{}", f.screen());
    assert_eq!(f.app.state.selected_row().unwrap().1.id, selected);
}

#[test]
fn cancelling_the_plan_or_bare_keys_never_delete() {
    let mut f = Fixture::new(120, 40);
    let before = f.ids_on_disk("analysis/eda");
    f.press("<tab><space>y<enter>");
    assert_eq!(
        f.ids_on_disk("analysis/eda"),
        before,
        "y and enter outside the plan do nothing"
    );
    f.press("Dn");
    assert_eq!(f.app.state.mode, Mode::Normal);
    f.press("D<esc>");
    assert_eq!(f.ids_on_disk("analysis/eda"), before);
    assert_eq!(f.app.state.marks.count(), 1);
}

#[test]
fn quitting_with_marks_asks_first() {
    let mut f = Fixture::new(80, 24);
    f.press("<tab><space>q");
    assert!(
        f.screen().contains("marked and nothing was deleted"),
        "{}",
        f.screen()
    );
    f.press("n");
    assert!(!f.app.quit());
    f.press("qy");
    assert!(f.app.quit());
    let mut f = Fixture::new(80, 24);
    f.press("q");
    assert!(f.app.quit(), "no marks, no question");
}

#[test]
fn pins_go_through_the_history() {
    let mut f = Fixture::new(120, 40);
    f.press("<tab>p");
    let store = open_store(f.dir.path());
    let nb = store
        .notebook(&NotebookKey::new("analysis/eda").unwrap())
        .unwrap();
    assert!(nb.index().get(newest_load()).unwrap().pinned);
    assert!(f.screen().contains("pinned 1 entry"), "{}", f.screen());
    f.press("p");
    let nb = store
        .notebook(&NotebookKey::new("analysis/eda").unwrap())
        .unwrap();
    assert!(!nb.index().get(newest_load()).unwrap().pinned);
}

#[test]
fn visual_range_marks_and_keep_newest_marks_the_rest() {
    let mut f = Fixture::new(120, 40);
    f.press("<tab>vj<space>");
    assert_eq!(f.app.state.marks.count(), 2);
    f.press("C");
    assert!(f.app.state.marks.is_empty());
    // All but the newest run of every cell of every notebook: load_data 2, sample 2, plot 0;
    // models/train keeps its newest fit, and its older one is pinned.
    f.press("A<backspace>1<enter>");
    assert_eq!(f.app.state.marks.count(), 4, "{}", f.screen());
    f.press("D");
    let text = f.screen();
    assert!(text.contains("Delete 4 entries?"), "{text}");
    assert!(!text.contains("newest run"), "{text}");
}

#[test]
fn plan_dialog_80x24() {
    let mut f = Fixture::new(80, 24);
    f.press("<tab><space><space><space>D");
    insta::assert_snapshot!("plan_80x24", f.screen());
}

#[test]
fn plan_dialog_160x48() {
    let mut f = Fixture::new(160, 48);
    f.press("<tab><space><space><space>D");
    insta::assert_snapshot!("plan_160x48", f.screen());
}

#[test]
fn help_80x24_and_every_bound_action_is_listed() {
    let mut f = Fixture::new(80, 24);
    f.press("?");
    insta::assert_snapshot!("help_80x24", f.screen());
    let listed: HashSet<&str> = f
        .app
        .state
        .ui
        .keymap
        .help()
        .into_iter()
        .flat_map(|(_, rows)| rows.into_iter().map(|(_, name, _)| name))
        .collect();
    for binding in f.app.state.ui.keymap.bindings() {
        if !binding.keys.is_empty() {
            assert!(
                listed.contains(binding.action.name()),
                "{} missing",
                binding.action.name()
            );
        }
    }
    for &action in Action::BINDABLE {
        assert!(
            listed.contains(action.name()),
            "{} has no key and is not in the help",
            action.name()
        );
    }
}

#[test]
fn help_160x48() {
    let mut f = Fixture::new(160, 48);
    f.press("?");
    insta::assert_snapshot!("help_160x48", f.screen());
}

#[test]
fn diff_unified_at_120_and_split_at_160() {
    let mut f = Fixture::new(120, 40);
    f.press("<tab>2");
    let text = f.screen();
    assert!(text.contains("-df = pd.read_csv('sales.csv')"), "{text}");
    insta::assert_snapshot!("diff_unified_120x40", text);
    let mut f = Fixture::new(160, 48);
    f.press("<tab>2");
    insta::assert_snapshot!("diff_split_160x48", f.screen());
    f.press("s");
    assert!(f.screen().contains("-df = pd.read_csv('sales.csv')"));
}

#[test]
fn diff_emphasis_is_styled() {
    let mut f = Fixture::new(120, 40);
    f.press("<tab>2");
    let buffer = terminal(&f.app, 120, 40).backend().buffer().clone();
    let theme = &f.app.state.ui.theme;
    let emph = theme.style(celltime::tui::theme::ThemeRole::AddedEmph);
    let line = (0..40)
        .find(|&y| {
            (0..120)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                .contains("+df = ")
        })
        .expect("the added line");
    let emphasised: String = (0..120)
        .filter(|&x| buffer[(x, line)].bg == emph.bg.unwrap())
        .map(|x| buffer[(x, line)].symbol().to_string())
        .collect();
    assert!(emphasised.contains("2026"), "emphasised: {emphasised:?}");
    assert!(
        !emphasised.contains("read_csv"),
        "unchanged words stay plain: {emphasised:?}"
    );
}

#[test]
fn base_set_with_a_key_changes_the_diff() {
    let mut f = Fixture::new(120, 40);
    // Base on the oldest run, then look at the newest: diff oldest → newest.
    f.press("<tab>Gb");
    f.press("g2");
    let text = f.screen();
    let oldest = id("analysis/eda", "load_data", "m1load", "0", T0);
    assert!(
        text.contains(&format!(
            "diff {} → {}",
            oldest.short(),
            newest_load().short()
        )),
        "{text}"
    );
}

#[test]
fn compare_versions_160x48() {
    let mut f = Fixture::new(160, 48);
    f.press("jj<tab>c");
    let text = f.screen();
    assert!(
        text.contains("Results of the 3 versions of sample, each against the first"),
        "{text}"
    );
    insta::assert_snapshot!("compare_160x48", text);
    f.press("<esc>");
    assert_eq!(f.app.state.mode, Mode::Normal);
}

#[test]
fn compare_emphasises_what_differs_from_the_first_version() {
    let mut f = Fixture::new(160, 48);
    f.press("jj<tab>c");
    let buffer = terminal(&f.app, 160, 48).backend().buffer().clone();
    let theme = &f.app.state.ui.theme;
    let added = theme.style(celltime::tui::theme::ThemeRole::Added).fg;
    let emph = theme.style(celltime::tui::theme::ThemeRole::AddedEmph).bg;
    let styled_text = |x0: u16, x1: u16, pick: &dyn Fn(&ratatui::buffer::Cell) -> bool| -> String {
        (0..48)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| pick(&buffer[(x, y)]))
            .map(|(x, y)| buffer[(x, y)].symbol().to_string())
            .collect()
    };
    // v1 against v2: its draws and seed differ, word by word.
    let emphasised = styled_text(0, 160, &|c| c.bg == emph.unwrap());
    assert!(
        emphasised.contains("0.4") && emphasised.contains('1'),
        "{emphasised:?}"
    );
    let changed = styled_text(0, 160, &|c| c.fg == added.unwrap() || c.bg == emph.unwrap());
    assert!(
        !changed.contains("draws"),
        "unchanged lines stay plain: {changed:?}"
    );
}

#[test]
fn compare_80x24() {
    let mut f = Fixture::new(80, 24);
    f.press("jj<tab>c");
    insta::assert_snapshot!("compare_80x24", f.screen());
}

#[test]
fn time_machine_scrubs_through_run_times() {
    let mut f = Fixture::new(120, 40);
    f.press("t");
    let text = f.screen();
    assert!(
        text.contains("run time 3/7"),
        "opens at the selected run: {text}"
    );
    f.press("<end>");
    assert!(f.screen().contains("run time 7/7"));
    f.press("<home>");
    let text = f.screen();
    assert!(text.contains("run time 1/7"), "{text}");
    assert!(text.contains("sales.csv"), "{text}");
    assert!(text.contains("no run yet"), "{text}");
    f.press("lll");
    assert!(f.screen().contains("run time 4/7"));
}

#[test]
fn time_machine_80x24_and_160x48() {
    let mut f = Fixture::new(80, 24);
    f.press("t,,");
    insta::assert_snapshot!("time_machine_80x24", f.screen());
    let mut f = Fixture::new(160, 48);
    f.press("t");
    insta::assert_snapshot!("time_machine_160x48", f.screen());
}

#[test]
fn outputs_variables_console_and_meta_tabs() {
    let mut f = Fixture::new(120, 40);
    f.press("j<tab>3");
    let text = f.screen();
    assert!(text.contains("image/png, 29 B, 640×480"), "{text}");
    assert!(text.contains("outputs: 2 parts"), "{text}");
    assert!(text.contains("Sales"), "{text}");
    let mut f = Fixture::new(120, 40);
    f.press("<tab>5");
    assert!(
        f.screen().contains("warning: parsing dates"),
        "{}",
        f.screen()
    );
    f.press("6");
    assert!(f.screen().contains("module hash"), "{}", f.screen());
}

#[test]
fn meta_parent_jump_crosses_notebooks() {
    let mut f = Fixture::new(120, 40);
    f.press("jjjj"); // models/train · fit
    assert!(f.screen().contains("fit · 2 runs"), "{}", f.screen());
    f.press("<tab>G6<tab>");
    let text = f.screen();
    assert!(text.contains("analysis/eda · load_data"), "{text}");
    f.press("<enter>");
    let (_, row) = f.app.state.selected_row().unwrap();
    assert_eq!(row.id, newest_load());
    assert!(f.screen().contains("load_data · 3 runs"));
}

#[test]
fn variables_show_json_and_decoded_pickles() {
    let mut f = Fixture::new(120, 40);
    f.press("jjjj<tab>G4");
    let text = f.screen();
    assert!(text.contains("\"r2\": 0.81"), "{text}");
    assert!(text.contains("{'a': [1, 2.5]}"), "{text}");
}

#[test]
fn filter_and_search() {
    let mut f = Fixture::new(120, 40);
    f.press("/sam<enter>");
    let text = f.screen();
    assert!(text.contains("Cells /sam"), "{text}");
    assert!(!text.contains("plot"), "{text}");
    f.press("<esc>");
    assert!(f.screen().contains("plot"));
    f.press("gj<tab>/m1load<enter>");
    assert!(f.screen().contains("2 runs match"), "{}", f.screen());
    let first = f.app.state.timeline.cursor;
    f.press("n");
    assert_ne!(f.app.state.timeline.cursor, first);
    f.press("N");
    assert_eq!(f.app.state.timeline.cursor, first);
}

#[test]
fn marks_pane_lists_and_unmarks() {
    let mut f = Fixture::new(120, 40);
    f.press("<tab><space><space>M");
    let text = f.screen();
    assert!(text.contains("Marked 2 entries"), "{text}");
    f.press("<space>");
    assert_eq!(f.app.state.marks.count(), 1);
    f.press("<enter>");
    assert_eq!(f.app.state.selected_row().unwrap().1.id, middle_load());
}

#[test]
fn backend_errors_show_in_the_status_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = build(dir.path());
    let inner = history(store);
    let failing: std::sync::Arc<dyn History> = std::sync::Arc::new(Busy(inner));
    let mut app = app(failing, 80, 24);
    app.press("<tab><space>Dy");
    let text = screen(&app, 80, 24).replace(&dir.path().display().to_string(), "[WS]");
    assert!(text.contains("store is busy"), "{text}");
    assert_eq!(
        app.state.marks.count(),
        1,
        "failed deletes keep their marks"
    );
    insta::assert_snapshot!("error_80x24", text);
}

/// A history whose writes fail as if another process held the lock.
struct Busy(std::sync::Arc<dyn History>);

impl History for Busy {
    fn kind(&self) -> celltime_store::model::BackendKind {
        self.0.kind()
    }
    fn location(&self) -> String {
        "[busy store]".into()
    }
    fn notebooks(
        &self,
    ) -> celltime_store::model::HistoryResult<Vec<celltime_store::model::NotebookInfo>> {
        self.0.notebooks()
    }
    fn timeline(
        &self,
        notebook: &str,
    ) -> celltime_store::model::HistoryResult<celltime_store::model::Timeline> {
        self.0.timeline(notebook)
    }
    fn detail(
        &self,
        notebook: &str,
        id: EntryId,
    ) -> celltime_store::model::HistoryResult<celltime_store::model::Detail> {
        self.0.detail(notebook, id)
    }
    fn read(
        &self,
        notebook: &str,
        part: &celltime_store::model::PartInfo,
    ) -> celltime_store::model::HistoryResult<Vec<u8>> {
        self.0.read(notebook, part)
    }
    fn remove(
        &self,
        _: &celltime_store::model::Removal<'_>,
    ) -> celltime_store::model::HistoryResult<celltime_store::model::Applied> {
        Err(celltime_store::model::HistoryError {
            busy: true,
            stale: false,
            message: "the writer lock is held by pid 4242".into(),
        })
    }
    fn reverse(
        &self,
        change: &celltime_store::model::Change,
        journal: &dyn celltime_store::model::Journal,
    ) -> celltime_store::model::HistoryResult<usize> {
        self.0.reverse(change, journal)
    }
    fn ops_dir(&self) -> Option<std::path::PathBuf> {
        self.0.ops_dir()
    }
    fn reclaim(&self, notebook: &str) -> celltime_store::model::HistoryResult<u64> {
        self.0.reclaim(notebook)
    }
    fn set_pinned(
        &self,
        notebook: &str,
        ids: &[EntryId],
        pinned: bool,
        journal: &dyn celltime_store::model::Journal,
    ) -> celltime_store::model::HistoryResult<usize> {
        self.0.set_pinned(notebook, ids, pinned, journal)
    }
}

#[test]
fn mouse_clicks_select_and_can_be_turned_off() {
    use ratatui::crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let mut f = Fixture::new(120, 40);
    let click = |x, y| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    };
    // Row 4 of the screen is the third line of the timeline: the newer m1 run.
    f.app.mouse(click(30, 4));
    f.app.settle();
    assert_eq!(f.app.state.focus, celltime::tui::state::Pane::Timeline);
    assert_eq!(f.app.state.selected_row().unwrap().1.id, middle_load());
    f.app.state.ui.mouse = false;
    f.app.mouse(click(30, 2));
    assert_eq!(f.app.state.selected_row().unwrap().1.id, middle_load());
}

#[test]
fn hostile_names_are_escaped_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let key = NotebookKey::new("nb").unwrap();
    let mut nb = store.notebook_for_write(&key).unwrap();
    let mut e = celltime_store::model::NewEntry::new(
        key,
        celltime_store::model::CellKey::new("evil\u{202e}cell").unwrap(),
        celltime_store::model::ModuleHash::new("m").unwrap(),
    );
    e.created_at = Some(Timestamp(T0));
    e.parts = vec![celltime_store::model::NewPart::console(
        "stdout",
        "a\u{1b}]0;pwned\u{7}b\u{0}c\n",
    )];
    nb.put_batch(vec![e]).unwrap();
    let mut app = app(history(store), 120, 40);
    app.press("<tab>5");
    let text = screen(&app, 120, 40);
    assert!(text.contains("evil<U+202E>cell"), "{text}");
    assert!(text.contains("ab^@c"), "{text}");
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'));
}

#[test]
fn stale_results_are_dropped() {
    let mut f = Fixture::new(120, 40);
    // Ask for two previews without running jobs, then finish them in order: only the
    // latest wanted one is shown.
    f.app.press("<tab>");
    let key_before = celltime::tui::update::desired_view(&f.app.state).unwrap();
    f.app.key(ratatui::crossterm::event::KeyEvent::from(
        ratatui::crossterm::event::KeyCode::Char('j'),
    ));
    let key_after = celltime::tui::update::desired_view(&f.app.state).unwrap();
    assert_ne!(key_before, key_after);
    f.app.settle();
    assert!(f.app.state.previews.get(&key_after).is_some());
    let text = f.screen();
    assert!(
        text.contains(&format!("Details · {}", middle_load().short())),
        "{text}"
    );
}

#[test]
fn mark_by_policy_over_the_store() {
    let mut f = Fixture::new(160, 48);
    f.press("P<ctrl-u>--keep-last 1<enter>");
    // load_data and sample lose 2 runs each; plot has one run; fit's older run is pinned.
    assert_eq!(f.app.state.marks.count(), 4, "{}", f.screen());
    let text = f.screen();
    assert!(text.contains("keep: last, newest of cell"), "{text}");
    insta::assert_snapshot!("policy_160x48", text);
    f.press("P<ctrl-u>--keep-last<enter>");
    assert!(f.screen().contains("policy: "), "{}", f.screen());
}

#[test]
fn tiny_and_odd_terminal_sizes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let history = history(build(dir.path()));
    for (w, h) in [
        (1, 1),
        (8, 3),
        (20, 5),
        (33, 9),
        (60, 12),
        (99, 30),
        (141, 20),
    ] {
        for keys in [
            "",
            "?",
            "<tab><space>D",
            "<tab><space>q",
            "jj<tab>c",
            "t",
            "<tab>M",
            "<tab>2",
            "<tab>6<tab>",
            "/x",
        ] {
            let mut app = app(history.clone(), w, h);
            app.press(keys);
            let _ = screen(&app, w, h);
            app.press("<esc>");
            let _ = screen(&app, w, h);
        }
    }
}

/// docs/TUI.md shows the screen at 80×24; it must be what the UI draws there.
#[test]
fn the_screen_in_tui_md_is_the_one_drawn() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/TUI.md")).unwrap();
    let section = &doc[doc.find("## Screen").unwrap()..];
    let block = section.split("```").nth(1).unwrap();
    let f = Fixture::new(80, 24);
    let drawn = f.screen();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            drawn.contains(line),
            "TUI.md shows {line:?}, the UI draws:\n{drawn}"
        );
    }
}

/// A marimo cache's runs have approximate times (file times), marked `~`: at their longest
/// ("~just now", "~11mo ago") a space still parts them from the id.
#[test]
fn approximate_times_at_their_longest_keep_a_space_before_the_id() {
    use crate::legacy::fixture::{BASE, copy, set_mtime};
    use std::time::{Duration, SystemTime};
    let c = copy("demo");
    let cache = c.root.join("__marimo__/cache");
    let now = BASE + 400 * 86_400;
    let found = celltime_store::legacy::scan::scan(&cache).unwrap();
    let ctx = found.entries.iter().filter(|e| &*e.block == "ctx_block");
    let ctx: Vec<_> = ctx.collect();
    for (entry, age) in ctx.iter().zip([2, 340 * 86_400]) {
        set_mtime(
            &cache.join(&entry.rel_path),
            SystemTime::UNIX_EPOCH + Duration::from_secs(now - age),
        );
    }
    let history: std::sync::Arc<dyn History> =
        std::sync::Arc::new(celltime_store::legacy::LegacyHistory::open(&c.root, None).unwrap());
    let mut app = App::inline(history, ui(), Timestamp(now as i64 * 1000));
    app.act(Action::Resize {
        width: 120,
        height: 30,
    });
    app.settle();
    app.press("j");
    let text = screen(&app, 120, 30);
    assert!(text.contains("ctx_block · 2 runs"), "{text}");
    for (entry, when) in ctx.iter().zip(["~just now", "~11mo ago"]) {
        let shown = format!("{when} {}", entry.id().short());
        assert!(text.contains(&shown), "{shown} in\n{text}");
    }
}
