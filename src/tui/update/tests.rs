//! Reducer tests: every action against a state built in memory (no history, no terminal).

use super::*;
use crate::tui::action::MouseAction;
use crate::tui::data::NotebookView;
use crate::tui::jobs::{JobOutput, Loaded};
use crate::tui::keymap::Keymap;
use crate::tui::state::{CellRow, Confirm, DiffLayout, NotebookSlot, Ui, ViewKey};
use crate::tui::theme::Theme;
use Action::*;
use celltime_store::model::{
    Applied, BackendKind, EntryId, HistoryError, HistoryResult, NotebookInfo, Row, Timeline,
    Timestamp,
};
use std::sync::Arc;

const NOW: i64 = 10_000_000;

fn row(cell: &str, module: &str, version: &str, t: i64, content: u32) -> Row {
    Row {
        size: 100,
        ..crate::tui::data::tests::row(cell, module, version, t, &[content])
    }
}

/// Cell `a`: m1 at 1000 and 2000, then m2 v0 at 3000 and m2 v1 at 4000 (siblings);
/// cell `b`: one run. Timeline items of `a`: [v1@4000, v0@3000, separator, @2000, @1000].
fn rows() -> Vec<Row> {
    vec![
        row("a", "m1", "0", 1000, 0),
        row("a", "m1", "0", 2000, 1),
        row("a", "m2", "0", 3000, 2),
        row("a", "m2", "1", 4000, 3),
        row("b", "m9", "0", 5000, 4),
    ]
}

fn view() -> Arc<NotebookView> {
    Arc::new(NotebookView::new(Timeline {
        notebook: "nb".into(),
        rows: rows(),
        content_sizes: vec![100; 5],
    }))
}

fn state() -> AppState {
    let ui = Ui {
        keymap: Arc::new(Keymap::default()),
        theme: Arc::new(Theme::new(true)),
        mouse: true,
        tz: celltime_store::model::Zone::Fixed(chrono::FixedOffset::east_opt(0).unwrap()),
        pictures: Arc::default(),
        wrap: true,
        default_policy: None,
    };
    let mut s = AppState::new(ui, "mem".into(), BackendKind::Store, Timestamp(NOW));
    s.size = (120, 40);
    let v = view();
    s.notebooks = vec![NotebookSlot {
        info: NotebookInfo {
            notebook: "nb".into(),
            cells: 2,
            entries: 5,
            bytes: 500,
        },
        view: Some(v),
        error: None,
        expanded: true,
        loading: false,
        generation: 1,
    }];
    rebuild_cells(&mut s);
    s
}

fn id_at(t: i64, version: &str) -> EntryId {
    let module = if t >= 3000 { "m2" } else { "m1" };
    let cell = if t == 5000 { "b" } else { "a" };
    let module = if t == 5000 { "m9" } else { module };
    EntryId::of("nb", cell, module, version, Timestamp(t))
}

fn selected(s: &AppState) -> EntryId {
    s.selected_row().unwrap().1.id
}

fn jobs(fx: &[Effect]) -> Vec<&Job> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Job(j) => Some(j),
            Effect::Quit | Effect::Request(_) => None,
        })
        .collect()
}

fn act(s: &mut AppState, actions: &[Action]) -> Vec<Effect> {
    actions.iter().flat_map(|a| update(s, *a)).collect()
}

#[test]
fn starts_on_the_first_cell_and_its_newest_run() {
    let s = state();
    assert_eq!(s.selected_cell(), Some((0, Some(0))));
    assert_eq!(selected(&s), id_at(4000, "1"));
}

#[test]
fn focus_moves_between_panes() {
    let mut s = state();
    act(&mut s, &[FocusNext]);
    assert_eq!(s.focus, Pane::Timeline);
    act(&mut s, &[FocusRight]);
    assert_eq!(s.focus, Pane::Details);
    act(&mut s, &[FocusRight]);
    assert_eq!(s.focus, Pane::Details, "left/right do not wrap");
    act(&mut s, &[FocusNext]);
    assert_eq!(s.focus, Pane::Cells, "tab wraps");
    act(&mut s, &[FocusPrev]);
    assert_eq!(s.focus, Pane::Details);
    act(&mut s, &[FocusLeft, FocusLeft, FocusLeft]);
    assert_eq!(s.focus, Pane::Cells);
}

#[test]
fn timeline_moves_skip_the_code_change_separator() {
    let mut s = state();
    act(&mut s, &[FocusNext, MoveDown]);
    assert_eq!(selected(&s), id_at(3000, "0"));
    act(&mut s, &[MoveDown]);
    assert_eq!(s.timeline.cursor, 3, "the separator at 2 is skipped");
    assert_eq!(selected(&s), id_at(2000, "0"));
    act(&mut s, &[MoveUp]);
    assert_eq!(s.timeline.cursor, 1);
    act(&mut s, &[Bottom]);
    assert_eq!(selected(&s), id_at(1000, "0"));
    act(&mut s, &[Top]);
    assert_eq!(s.timeline.cursor, 0);
    act(&mut s, &[PageDown]);
    assert_eq!(s.timeline.cursor, 4);
    act(&mut s, &[PageUp]);
    assert_eq!(s.timeline.cursor, 0);
}

#[test]
fn cells_moves_change_the_timeline_and_open_toggles_notebooks() {
    let mut s = state();
    act(&mut s, &[MoveDown]);
    assert_eq!(s.selected_cell(), Some((0, Some(1))));
    assert_eq!(selected(&s), id_at(5000, "0"));
    act(&mut s, &[Top]);
    assert_eq!(s.selected_cell(), Some((0, None)));
    act(&mut s, &[Open]);
    assert_eq!(s.cell_rows.len(), 1, "collapsed");
    act(&mut s, &[Open, MoveDown, Open]);
    assert_eq!(
        s.focus,
        Pane::Timeline,
        "open on a cell focuses its timeline"
    );
    act(&mut s, &[Open]);
    assert_eq!(s.focus, Pane::Details);
}

#[test]
fn filter_narrows_cells_live_and_cancel_clears_it() {
    let mut s = state();
    act(&mut s, &[Filter, Insert('b')]);
    assert_eq!(s.filter, "b");
    assert_eq!(s.cell_rows, vec![CellRow::Notebook(0), CellRow::Cell(0, 1)]);
    act(&mut s, &[DeleteChar]);
    assert_eq!(s.cell_rows.len(), 3);
    act(&mut s, &[Insert('B'), Submit]);
    assert_eq!(s.cell_rows.len(), 1, "smart case: upper case is exact");
    act(&mut s, &[Filter, Cancel]);
    assert!(s.filter.is_empty());
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn search_finds_and_cycles_matches() {
    let mut s = state();
    act(
        &mut s,
        &[FocusNext, Search, Insert('m'), Insert('1'), Submit],
    );
    let search = s.search.clone().unwrap();
    assert_eq!(search.matches, vec![3, 4]);
    assert_eq!(s.timeline.cursor, 3, "jumps to the first match");
    act(&mut s, &[NextMatch]);
    assert_eq!(s.timeline.cursor, 4);
    act(&mut s, &[NextMatch]);
    assert_eq!(s.timeline.cursor, 3, "wraps");
    act(&mut s, &[PrevMatch]);
    assert_eq!(s.timeline.cursor, 4);
    act(&mut s, &[Cancel]);
    assert!(s.search.is_none());
}

#[test]
fn toggle_mark_marks_moves_on_and_counts_freed_bytes() {
    let mut s = state();
    act(&mut s, &[FocusNext, ToggleMark]);
    assert_eq!(s.marks.count(), 1);
    assert_eq!(s.marks.freed(), 100);
    assert_eq!(s.timeline.cursor, 1);
    act(&mut s, &[MoveUp, ToggleMark]);
    assert!(s.marks.is_empty(), "toggling again unmarks");
}

#[test]
fn visual_range_marks_every_row_between() {
    let mut s = state();
    act(&mut s, &[FocusNext, Visual, MoveDown, MoveDown]);
    assert_eq!(s.mode, Mode::Visual { anchor: 0 });
    act(&mut s, &[ToggleMark]);
    assert_eq!(s.marks.count(), 3, "the separator is not a row");
    assert_eq!(s.mode, Mode::Normal);
    act(&mut s, &[Visual, Cancel]);
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.marks.count(), 3);
}

#[test]
fn pin_asks_the_history_through_a_job() {
    let mut s = state();
    let fx = act(&mut s, &[FocusNext, Pin]);
    let pins: Vec<_> = jobs(&fx)
        .into_iter()
        .filter_map(|j| match j {
            Job::SetPinned { ids, pinned, .. } => Some((ids.clone(), *pinned)),
            _ => None,
        })
        .collect();
    assert_eq!(pins, vec![(vec![id_at(4000, "1")], true)]);
    assert_eq!(s.writing, 1);
}

#[test]
fn serve_asks_the_history_through_a_job() {
    let mut s = state();
    let fx = act(&mut s, &[FocusNext, Serve]);
    let served: Vec<_> = jobs(&fx)
        .into_iter()
        .filter_map(|j| match j {
            Job::Serve { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(served, vec![id_at(4000, "1")]);
    assert_eq!(s.writing, 1);
}

#[test]
fn set_base_changes_what_the_diff_compares_with() {
    let mut s = state();
    act(&mut s, &[FocusNext, TabDiff]);
    let base_of = |s: &AppState| match desired_view(s) {
        Some(ViewKey::Detail { base, .. }) => base,
        _ => panic!("no detail view"),
    };
    assert_eq!(base_of(&s), Some(id_at(2000, "0")), "previous code version");
    act(&mut s, &[Bottom, SetBase, Top]);
    assert_eq!(base_of(&s), Some(id_at(1000, "0")));
    act(&mut s, &[Bottom, SetBase, Top]);
    assert_eq!(base_of(&s), Some(id_at(2000, "0")), "b again resets");
}

#[test]
fn marks_pane_shows_unmarks_and_jumps() {
    let mut s = state();
    act(&mut s, &[FocusNext, ToggleMark, ToggleMark, MarksPane]);
    assert!(s.marks_pane);
    assert_eq!(s.focus, Pane::Marks);
    assert_eq!(marked_entries(&s).len(), 2);
    act(&mut s, &[MoveDown, Open]);
    assert_eq!(selected(&s), id_at(3000, "0"));
    assert_eq!(s.focus, Pane::Timeline, "the jump focuses the timeline");
    act(&mut s, &[FocusNext, ToggleMark]);
    assert_eq!(s.focus, Pane::Marks);
    assert_eq!(s.marks.count(), 1);
    act(&mut s, &[MarksPane]);
    assert!(!s.marks_pane);
    assert_eq!(s.focus, Pane::Timeline);
}

#[test]
fn plan_needs_marks_and_warns() {
    let mut s = state();
    act(&mut s, &[OpenPlan]);
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        s.status
            .as_ref()
            .unwrap()
            .text
            .contains("nothing is marked")
    );
    act(&mut s, &[MoveDown, FocusNext, ToggleMark, OpenPlan]);
    let Mode::Plan { plan, .. } = &s.mode else {
        panic!("no plan")
    };
    assert_eq!(plan.entries, 1);
    assert_eq!(plan.warnings, vec!["deletes the only run of nb · b"]);
    assert_eq!(
        plan.groups,
        vec![("nb".to_string(), vec![id_at(5000, "0")])]
    );
}

#[test]
fn plan_warns_about_newest_every_run_and_pins() {
    let mut s = state();
    let mut rows = rows();
    rows[1].pinned = true;
    let v = Arc::new(NotebookView::new(Timeline {
        notebook: "nb".into(),
        rows,
        content_sizes: vec![100; 5],
    }));
    s.notebooks[0].view = Some(v.clone());
    s.marks.set(&v, &[3], true);
    assert_eq!(
        build_plan(&s).warnings,
        vec!["deletes the newest run of nb · a"]
    );
    s.marks.set(&v, &[0, 1, 2], true);
    let warnings = build_plan(&s).warnings;
    assert_eq!(warnings[0], "deletes every run of nb · a (4 runs)");
    assert!(warnings[1].starts_with("a pinned entry is marked: nb · a · "));
}

#[test]
fn confirm_applies_through_one_remove_job_and_cancel_does_nothing() {
    let mut s = state();
    act(&mut s, &[FocusNext, ToggleMark, OpenPlan]);
    let fx = act(&mut s, &[Cancel]);
    assert!(jobs(&fx).iter().all(|j| !matches!(j, Job::Remove { .. })));
    assert_eq!(s.mode, Mode::Normal);
    let fx = act(&mut s, &[OpenPlan, Confirm]);
    let removes: Vec<_> = jobs(&fx)
        .into_iter()
        .filter_map(|j| match j {
            Job::Remove { groups, .. } => Some(groups.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        removes,
        vec![vec![("nb".to_string(), vec![id_at(4000, "1")])]]
    );
    assert_eq!(s.writing, 1);
}

#[test]
fn bare_confirm_and_cancel_in_normal_mode_never_delete() {
    let mut s = state();
    let fx = act(&mut s, &[FocusNext, ToggleMark, Confirm, Submit, Cancel]);
    assert!(jobs(&fx).iter().all(|j| !matches!(j, Job::Remove { .. })));
}

/// An operation as the log gives it back: a prune that removed two entries of `nb`.
fn prune_op() -> Box<celltime_store::ops::Operation> {
    use celltime_store::ops::{End, Header, OpKind, Operation};
    Box::new(Operation {
        header: Header {
            id: "0123456789abcdef0123456789abcdef".into(),
            kind: OpKind::Prune,
            at: Timestamp(NOW - 120_000),
            user: "me".into(),
            host: "box".into(),
            pid: 7,
            writer: "box_1".into(),
            command: "celltime prune --keep-last 1".into(),
            undoes: None,
        },
        changes: vec![celltime_store::model::Change::StoreAdded {
            notebook: "nb".into(),
            ids: vec![id_at(1000, "0"), id_at(2000, "0")],
        }],
        end: Some(End {
            at: Timestamp(NOW - 119_000),
            summary: "removed 2 runs".into(),
            ok: true,
        }),
        file: "x".into(),
    })
}

#[test]
fn undo_reads_the_log_then_asks_naming_the_operation() {
    let mut s = state();
    let fx = act(&mut s, &[Undo]);
    assert!(
        jobs(&fx).iter().any(|j| matches!(j, Job::LastOp)),
        "the log is read on a worker"
    );
    on_job(&mut s, JobOutput::LastOp(Ok(None)));
    assert!(s.status.as_ref().unwrap().text.contains("nothing to undo"));
    assert_eq!(s.mode, Mode::Normal);
    act(&mut s, &[Undo]);
    on_job(&mut s, JobOutput::LastOp(Ok(Some(prune_op()))));
    let Mode::Confirm(Confirm::Undo(text)) = &s.mode else {
        panic!("asks first: {:?}", s.mode)
    };
    assert!(text.contains("prune 0123456789ab"), "{text}");
    assert!(
        text.contains("removed 2 runs") && text.contains("2 entries"),
        "{text}"
    );
    let fx = act(&mut s, &[Confirm]);
    assert!(jobs(&fx).iter().any(|j| matches!(j, Job::Undo { .. })));
    assert!(s.undo.is_none());
}

#[test]
fn a_stale_plan_deletes_nothing_and_shows_the_new_plan() {
    let mut s = state();
    // Mark the two m1 runs of cell a and confirm the plan.
    act(
        &mut s,
        &[FocusNext, Bottom, ToggleMark, MoveUp, ToggleMark, OpenPlan],
    );
    let Mode::Plan { plan, .. } = &s.mode else {
        panic!("plan open")
    };
    assert_eq!(plan.entries, 2);
    let fx = act(&mut s, &[Confirm]);
    let Some(Job::Remove { expect, gens, .. }) = jobs(&fx).into_iter().next().cloned() else {
        panic!("one remove job")
    };
    // Another process removed the older of the two meanwhile: the check refuses.
    let mut fresh = view().timeline.clone();
    fresh.rows.retain(|r| r.id != id_at(1000, "0"));
    let why = expect[0].check(&fresh).unwrap_err();
    assert!(why.contains("nb · a changed"), "{why}");
    on_job(
        &mut s,
        JobOutput::Removed {
            results: Vec::new(),
            stale: Some(why),
            timelines: vec![Loaded {
                notebook: "nb".into(),
                generation: gens[0],
                result: Ok(Arc::new(NotebookView::new(fresh))),
            }],
        },
    );
    let Mode::Plan { plan, .. } = &s.mode else {
        panic!("the new plan is shown: {:?}", s.mode)
    };
    assert_eq!(plan.entries, 1, "the vanished run's mark is dropped");
    let status = s.status.clone().unwrap().text;
    assert!(status.contains("nothing was deleted"), "{status}");
    assert_eq!(s.writing, 0);
}

#[test]
fn quit_asks_only_when_marks_are_pending() {
    let mut s = state();
    act(&mut s, &[FocusNext, ToggleMark]);
    let fx = act(&mut s, &[Quit]);
    assert!(fx.iter().all(|e| !matches!(e, Effect::Quit)));
    assert_eq!(s.mode, Mode::Confirm(Confirm::Quit));
    act(&mut s, &[Cancel]);
    assert!(!s.quit);
    let fx = act(&mut s, &[Quit, Confirm]);
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
    let mut s = state();
    let fx = act(&mut s, &[Quit]);
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
}

#[test]
fn help_opens_scrolls_and_closes() {
    let mut s = state();
    act(&mut s, &[Help, MoveDown, MoveDown]);
    assert_eq!(s.mode, Mode::Help { scroll: 2 });
    act(&mut s, &[Close]);
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn time_machine_scrubs_across_run_times() {
    let mut s = state();
    act(&mut s, &[FocusNext, MoveDown, TimeMachine]);
    assert_eq!(
        s.mode,
        Mode::TimeMachine {
            notebook: 0,
            stop: 2,
            scroll: 0
        }
    );
    act(&mut s, &[Earlier]);
    assert!(matches!(s.mode, Mode::TimeMachine { stop: 1, .. }));
    act(&mut s, &[Latest]);
    assert!(matches!(s.mode, Mode::TimeMachine { stop: 4, .. }));
    act(&mut s, &[Later]);
    assert!(matches!(s.mode, Mode::TimeMachine { stop: 4, .. }));
    act(&mut s, &[Earliest]);
    assert_eq!(
        desired_view(&s),
        Some(ViewKey::TimeMachine {
            notebook: "nb".into(),
            at: Timestamp(1000)
        })
    );
    act(&mut s, &[Close]);
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn compare_needs_several_versions_of_one_module() {
    let mut s = state();
    act(&mut s, &[FocusNext, Compare]);
    assert_eq!(
        s.mode,
        Mode::Compare {
            notebook: "nb".into(),
            ids: vec![id_at(4000, "1"), id_at(3000, "0")],
            base: None,
            scroll: 0
        }
    );
    act(&mut s, &[Close, Bottom, Compare]);
    assert_eq!(s.mode, Mode::Normal);
    assert!(s.status.as_ref().unwrap().text.contains("one version only"));
}

#[test]
fn compare_with_a_marked_base_compares_any_two_runs() {
    let mut s = state();
    act(&mut s, &[FocusNext, Bottom, SetBase, Top, Compare]);
    assert_eq!(
        s.mode,
        Mode::Compare {
            notebook: "nb".into(),
            ids: vec![id_at(4000, "1")],
            base: Some(("nb".into(), id_at(1000, "0"))),
            scroll: 0
        }
    );
    assert!(matches!(
        desired_view(&s),
        Some(ViewKey::Compare { base: Some(_), .. })
    ));
}

#[test]
fn keep_newest_marks_the_rest_but_never_pins() {
    let mut s = state();
    act(&mut s, &[MarkAllButNewest, DeleteChar, Insert('2'), Submit]);
    assert_eq!(s.marks.count(), 2, "cell a keeps its newest 2 of 4");
    act(&mut s, &[ClearMarks]);
    assert!(s.marks.is_empty());
    act(&mut s, &[MarkAllButNewestEverywhere, Submit]);
    assert_eq!(s.marks.count(), 3, "a keeps 1 of 4, b keeps its only run");
    act(&mut s, &[MarkAllButNewest, DeleteChar, Insert('x'), Submit]);
    assert_eq!(s.status.as_ref().unwrap().level, Level::Error);
}

#[test]
fn mark_by_policy_plans_on_a_worker_and_marks_what_it_removes() {
    let mut s = state();
    act(&mut s, &[MarkByPolicy]);
    assert_eq!(
        s.mode,
        Mode::Prompt(Prompt {
            kind: PromptKind::Policy,
            input: "--keep-last 3".into()
        })
    );
    act(&mut s, &[ClearInput, Insert('x'), Submit]);
    assert_eq!(
        s.status.as_ref().unwrap().level,
        Level::Error,
        "bad text fails at once"
    );
    act(&mut s, &[MarkByPolicy, ClearInput]);
    for c in "--keep-last 1".chars() {
        act(&mut s, &[Insert(c)]);
    }
    let fx = act(&mut s, &[Submit]);
    let job = jobs(&fx)
        .into_iter()
        .find(|j| matches!(j, Job::Policy { .. }))
        .expect("a policy job")
        .clone();
    let JobOutput::Policy(result) = crate::tui::jobs::run(&NoHistory, job) else {
        panic!("not a policy result")
    };
    on_job(&mut s, JobOutput::Policy(result));
    assert_eq!(s.marks.count(), 3, "cell a keeps its newest of 4");
    assert_eq!(
        s.keep_reasons.get(&id_at(4000, "1")).map(String::as_str),
        Some("last, newest of cell")
    );
    assert!(s.keep_reasons.contains_key(&id_at(5000, "0")));
    assert_eq!(s.last_policy, "--keep-last 1");
}

/// The policy job reads no history; anything else would be a bug.
struct NoHistory;

impl celltime_store::model::History for NoHistory {
    fn kind(&self) -> BackendKind {
        BackendKind::Store
    }
    fn location(&self) -> String {
        unreachable!()
    }
    fn notebooks(&self) -> HistoryResult<Vec<NotebookInfo>> {
        unreachable!()
    }
    fn timeline(&self, _: &str) -> HistoryResult<Timeline> {
        unreachable!()
    }
    fn detail(&self, _: &str, _: EntryId) -> HistoryResult<celltime_store::model::Detail> {
        unreachable!()
    }
    fn read(&self, _: &str, _: &celltime_store::model::PartInfo) -> HistoryResult<Vec<u8>> {
        unreachable!()
    }
    fn remove(&self, _: &celltime_store::model::Removal<'_>) -> HistoryResult<Applied> {
        unreachable!()
    }
    fn reverse(
        &self,
        _: &celltime_store::model::Change,
        _: &dyn celltime_store::model::Journal,
    ) -> HistoryResult<usize> {
        unreachable!()
    }
    fn reclaim(&self, _: &str) -> HistoryResult<u64> {
        unreachable!()
    }
    fn set_pinned(
        &self,
        _: &str,
        _: &[EntryId],
        _: bool,
        _: &dyn celltime_store::model::Journal,
    ) -> HistoryResult<usize> {
        unreachable!()
    }
}

#[test]
fn reload_asks_for_everything_again() {
    let mut s = state();
    s.previews
        .failed
        .insert(desired_view(&s).unwrap(), "boom".into());
    let fx = act(&mut s, &[Reload]);
    let kinds: Vec<&str> = jobs(&fx)
        .iter()
        .map(|j| match j {
            Job::Timeline { .. } => "timeline",
            Job::Notebooks { .. } => "notebooks",
            Job::Preview { .. } => "preview",
            _ => "other",
        })
        .collect();
    assert!(
        kinds.contains(&"timeline") && kinds.contains(&"notebooks") && kinds.contains(&"preview")
    );
    assert!(s.previews.failed.is_empty());
}

#[test]
fn tabs_and_diff_layout() {
    let mut s = state();
    for (action, tab) in [
        (TabDiff, Tab::Diff),
        (TabOutputs, Tab::Outputs),
        (TabVariables, Tab::Variables),
        (TabConsole, Tab::Console),
        (TabMeta, Tab::Meta),
        (TabCode, Tab::Code),
        (PrevTab, Tab::Meta),
        (NextTab, Tab::Code),
    ] {
        act(&mut s, &[action]);
        assert_eq!(s.details.tab, tab);
    }
    assert!(s.details.wrap);
    act(&mut s, &[Wrap]);
    assert!(!s.details.wrap);
    assert!(!s.split_diff(), "120 columns: unified");
    act(&mut s, &[DiffLayout]);
    assert_eq!(s.details.layout, DiffLayout::Split);
    act(
        &mut s,
        &[
            Resize {
                width: 160,
                height: 48,
            },
            DiffLayout,
        ],
    );
    assert!(!s.split_diff());
    s.details.layout = DiffLayout::Auto;
    assert!(s.split_diff(), "160 columns: side by side");
}

#[test]
fn details_scroll_and_clock() {
    let mut s = state();
    act(&mut s, &[FocusNext, FocusNext, MoveDown, PageDown]);
    assert!(s.details.scroll > 1);
    act(&mut s, &[Top]);
    assert_eq!(s.details.scroll, 0);
    act(&mut s, &[Tick(Timestamp(NOW + 5))]);
    assert_eq!(s.now, Timestamp(NOW + 5));
}

#[test]
fn mouse_clicks_focus_and_select_and_wheel_scrolls() {
    let mut s = state();
    // 120x40: the timeline starts at x=24; its first row is y=2.
    act(&mut s, &[Mouse(MouseAction::Click { x: 30, y: 3 })]);
    assert_eq!(s.focus, Pane::Timeline);
    assert_eq!(selected(&s), id_at(3000, "0"));
    act(&mut s, &[Mouse(MouseAction::ScrollDown { x: 30, y: 3 })]);
    assert_eq!(s.timeline.cursor, 4);
    act(&mut s, &[Mouse(MouseAction::Click { x: 100, y: 2 })]);
    assert_eq!(s.focus, Pane::Details);
}

#[test]
fn previews_are_requested_once_and_results_cached_or_remembered_as_failed() {
    let mut s = state();
    let count = |fx: &[Effect]| {
        jobs(fx)
            .iter()
            .filter(|j| matches!(j, Job::Preview { .. }))
            .count()
    };
    assert_eq!(count(&act(&mut s, &[FocusNext])), 1);
    assert_eq!(
        count(&act(&mut s, &[FocusPrev, FocusNext])),
        0,
        "asked for already"
    );
    let key = desired_view(&s).unwrap();
    assert!(s.previews.in_flight.contains(&key));
    on_job(
        &mut s,
        JobOutput::Preview {
            key: key.clone(),
            result: Some(Err("unreadable".into())),
        },
    );
    assert_eq!(
        s.previews.failed.get(&key).map(String::as_str),
        Some("unreadable")
    );
    let fx = act(&mut s, &[MoveDown, MoveUp]);
    assert_eq!(
        count(&fx),
        1,
        "only the new row; the failed one is not retried"
    );
}

#[test]
fn stale_timelines_are_dropped_and_selection_survives_reloads() {
    let mut s = state();
    act(&mut s, &[FocusNext, MoveDown]);
    let chosen = selected(&s);
    s.notebooks[0].generation = 5;
    let mut older = rows();
    older.truncate(1);
    on_job(
        &mut s,
        JobOutput::Timeline(Loaded {
            notebook: "nb".into(),
            generation: 4,
            result: Ok(Arc::new(NotebookView::new(Timeline {
                notebook: "nb".into(),
                rows: older,
                content_sizes: vec![100; 5],
            }))),
        }),
    );
    assert_eq!(
        s.view(0).unwrap().rows().len(),
        5,
        "generation 4 < 5: dropped"
    );
    let mut newer = rows();
    newer.remove(3);
    on_job(
        &mut s,
        JobOutput::Timeline(Loaded {
            notebook: "nb".into(),
            generation: 5,
            result: Ok(Arc::new(NotebookView::new(Timeline {
                notebook: "nb".into(),
                rows: newer,
                content_sizes: vec![100; 5],
            }))),
        }),
    );
    assert_eq!(selected(&s), chosen, "the same entry stays selected");
}

#[test]
fn busy_errors_say_so_and_keep_marks() {
    let mut s = state();
    act(&mut s, &[FocusNext, ToggleMark, OpenPlan, Confirm]);
    on_job(
        &mut s,
        JobOutput::Removed {
            results: vec![(
                "nb".into(),
                Err(HistoryError {
                    busy: true,
                    stale: false,
                    message: "locked".into(),
                }),
            )],
            stale: None,
            timelines: Vec::new(),
        },
    );
    let status = s.status.clone().unwrap();
    assert_eq!(status.level, Level::Error);
    assert!(status.text.contains("store is busy"), "{}", status.text);
    assert_eq!(s.marks.count(), 1);
    assert_eq!(s.writing, 0);
    assert!(s.undo.is_none());
}
