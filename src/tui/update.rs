//! The reducer: `update(state, action) -> effects` and `on_job(state, output) -> effects`.
//! Effects are data (jobs to run, quit); nothing here touches the disk or the terminal.

use super::action::{Action, MouseAction};
use super::data::Item;
use super::jobs::{Job, JobOutput, Loaded, PreviewContext};
use super::state::{
    AppState, CellRow, Confirm, Level, ListPos, Mode, PLAN_LIST_MAX, Pane, Plan, PlanTarget,
    Prompt, PromptKind, Search, Tab, ViewKey,
};
use super::views::{details::tab_at, layout};
use crate::model::{Applied, EntryId, HistoryError, HistoryResult, NotebookInfo};
use crate::preview::human_bytes;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Effect {
    Job(Job),
    Quit,
}

/// The first effects: list the notebooks.
pub fn start(state: &mut AppState) -> Vec<Effect> {
    state.notebooks_gen += 1;
    state.notebooks_loading = true;
    vec![Effect::Job(Job::Notebooks {
        generation: state.notebooks_gen,
    })]
}

pub fn update(state: &mut AppState, action: Action) -> Vec<Effect> {
    let mut fx = Vec::new();
    match action {
        Action::Resize { width, height } => state.size = (width, height),
        Action::Tick(now) => state.now = now,
        Action::Mouse(m) => mouse(state, m),
        _ => match state.mode {
            Mode::Prompt(_) => prompt(state, action),
            Mode::Plan { .. } => plan_mode(state, action, &mut fx),
            Mode::Confirm(_) => confirm_mode(state, action, &mut fx),
            Mode::Help { .. } => overlay(state, action),
            Mode::Compare { .. } => overlay(state, action),
            Mode::TimeMachine { .. } => time_machine(state, action),
            Mode::Visual { .. } => visual(state, action, &mut fx),
            Mode::Normal => normal(state, action, &mut fx),
        },
    }
    sync(state, &mut fx);
    fx
}

fn normal(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    use Action::*;
    match action {
        Quit => quit(state, fx),
        Help => state.mode = Mode::Help { scroll: 0 },
        Cancel => cancel(state),
        FocusNext | FocusRight => focus_step(state, 1, action == FocusNext),
        FocusPrev | FocusLeft => focus_step(state, -1, action == FocusPrev),
        MoveDown | MoveUp | PageDown | PageUp | Top | Bottom => navigate(state, action),
        Open => open(state),
        Filter => {
            state.mode = Mode::Prompt(Prompt {
                kind: PromptKind::Filter,
                input: state.filter.clone(),
            })
        }
        Search if state.current_cell().is_some() => {
            let input = state.search.as_ref().map(|s| s.query.clone()).unwrap_or_default();
            state.mode = Mode::Prompt(Prompt {
                kind: PromptKind::Search,
                input,
            });
        }
        NextMatch => next_match(state, true),
        PrevMatch => next_match(state, false),
        ToggleMark if state.focus == Pane::Marks => unmark_in_pane(state),
        ToggleMark => toggle_selected(state),
        Visual if state.selected_row().is_some() => {
            state.focus = Pane::Timeline;
            state.mode = Mode::Visual {
                anchor: state.timeline.cursor,
            };
        }
        Pin => pin(state, fx, selected_rows(state)),
        SetBase => set_base(state),
        MarksPane => toggle_marks_pane(state),
        OpenPlan => open_plan(state),
        Undo => ask_undo(state),
        TimeMachine => open_time_machine(state),
        Compare => open_compare(state),
        MarkAllButNewest | MarkAllButNewestEverywhere => ask_keep_newest(state, action),
        MarkByPolicy => state.set_status(
            Level::Warning,
            "mark by policy needs the retention planner (crate::policy), which is not in this build yet",
        ),
        ClearMarks => {
            let n = state.marks.count();
            state.marks.clear();
            state.set_status(Level::Info, format!("unmarked {n} entries"));
        }
        Reload => reload(state, fx),
        NextTab | PrevTab => {
            let i = Tab::ALL.iter().position(|t| *t == state.details.tab).unwrap_or(0);
            let n = Tab::ALL.len();
            let next = if action == NextTab { i + 1 } else { i + n - 1 };
            set_tab(state, Tab::ALL[next % n]);
        }
        TabCode => set_tab(state, Tab::Code),
        TabDiff => set_tab(state, Tab::Diff),
        TabOutputs => set_tab(state, Tab::Outputs),
        TabVariables => set_tab(state, Tab::Variables),
        TabConsole => set_tab(state, Tab::Console),
        TabMeta => set_tab(state, Tab::Meta),
        DiffLayout => {
            state.details.layout = if state.split_diff() {
                super::state::DiffLayout::Unified
            } else {
                super::state::DiffLayout::Split
            };
        }
        _ => {}
    }
}

fn quit(state: &mut AppState, fx: &mut Vec<Effect>) {
    if state.marks.is_empty() {
        state.quit = true;
        fx.push(Effect::Quit);
    } else {
        state.mode = Mode::Confirm(Confirm::Quit);
    }
}

fn cancel(state: &mut AppState) {
    if state.search.take().is_some() || state.status.take().is_some() {
        return;
    }
    if state.focus == Pane::Cells && !state.filter.is_empty() {
        state.filter.clear();
        rebuild_cells(state);
    }
}

/// The panes in focus order.
fn panes(state: &AppState) -> [Pane; 3] {
    let last = if state.marks_pane {
        Pane::Marks
    } else {
        Pane::Details
    };
    [Pane::Cells, Pane::Timeline, last]
}

fn focus_step(state: &mut AppState, delta: isize, wrap: bool) {
    let order = panes(state);
    let i = order.iter().position(|p| *p == state.focus).unwrap_or(0) as isize;
    let next = if wrap {
        (i + delta).rem_euclid(3)
    } else {
        (i + delta).clamp(0, 2)
    };
    state.focus = order[next as usize];
}

fn navigate(state: &mut AppState, action: Action) {
    match state.focus {
        Pane::Cells => {
            state.auto_select = false;
            let len = state.cell_rows.len();
            let page = layout::page(state, Pane::Cells);
            let before = state.cells.cursor;
            move_list(&mut state.cells, action, len, page);
            if state.cells.cursor != before {
                cell_changed(state);
            }
        }
        Pane::Timeline => move_timeline(state, action),
        Pane::Details => {
            if state.details.tab == Tab::Meta && has_parents(state) {
                move_parent_cursor(state, action);
            } else {
                state.details.scroll = scroll(
                    state.details.scroll,
                    action,
                    layout::page(state, Pane::Details),
                );
            }
        }
        Pane::Marks => {
            let len = marked_entries(state).len();
            let page = layout::page(state, Pane::Marks);
            move_list(&mut state.marks_list, action, len, page);
        }
    }
}

/// A new scroll offset; clamping to the content happens when rendering.
fn scroll(offset: usize, action: Action, page: usize) -> usize {
    match action {
        Action::MoveDown => offset + 1,
        Action::MoveUp => offset.saturating_sub(1),
        Action::PageDown => offset + page,
        Action::PageUp => offset.saturating_sub(page),
        Action::Top => 0,
        Action::Bottom => usize::MAX / 2,
        _ => offset,
    }
}

fn move_list(pos: &mut ListPos, action: Action, len: usize, page: usize) {
    if len == 0 {
        *pos = ListPos::default();
        return;
    }
    let last = len - 1;
    pos.cursor = match action {
        Action::MoveDown => (pos.cursor + 1).min(last),
        Action::MoveUp => pos.cursor.saturating_sub(1),
        Action::PageDown => (pos.cursor + page).min(last),
        Action::PageUp => pos.cursor.saturating_sub(page),
        Action::Top => 0,
        Action::Bottom => last,
        _ => pos.cursor.min(last),
    };
    pos.offset = layout::follow(pos.offset, pos.cursor, page, len);
}

fn move_timeline(state: &mut AppState, action: Action) {
    let items = state.items();
    if items.is_empty() {
        return;
    }
    let page = layout::page(state, Pane::Timeline);
    let from = state.timeline.cursor;
    let mut pos = state.timeline;
    let len = items.len();
    move_list(&mut pos, action, len, page);
    let down = pos.cursor >= from;
    pos.cursor = nearest_row(items, pos.cursor, down);
    pos.offset = layout::follow(pos.offset, pos.cursor, page, len);
    if pos.cursor != from {
        state.timeline = pos;
        entry_changed(state);
    } else {
        state.timeline = pos;
    }
}

/// Separators are never selected: step past them in the direction of travel.
fn nearest_row(items: &[Item], at: usize, down: bool) -> usize {
    let at = at.min(items.len().saturating_sub(1));
    if items[at].row().is_some() {
        return at;
    }
    let forward = (at + 1..items.len()).find(|&i| items[i].row().is_some());
    let backward = (0..at).rev().find(|&i| items[i].row().is_some());
    let (first, second) = if down {
        (forward, backward)
    } else {
        (backward, forward)
    };
    first.or(second).unwrap_or(0)
}

fn cell_changed(state: &mut AppState) {
    state.timeline = ListPos::default();
    if let Mode::Visual { .. } = state.mode {
        state.mode = Mode::Normal;
    }
    entry_changed(state);
}

fn entry_changed(state: &mut AppState) {
    state.details.scroll = 0;
    state.details.parent_cursor = 0;
}

fn has_parents(state: &AppState) -> bool {
    current_preview(state).is_some_and(|p| !p.parents.is_empty())
}

fn current_preview(state: &AppState) -> Option<&Arc<super::state::Preview>> {
    state.previews.get(&desired_view(state)?)
}

fn move_parent_cursor(state: &mut AppState, action: Action) {
    let Some(preview) = current_preview(state) else {
        return;
    };
    let len = preview.parents.len();
    let at = preview.parents_at;
    let mut pos = ListPos {
        cursor: state.details.parent_cursor,
        offset: 0,
    };
    move_list(&mut pos, action, len, 5);
    state.details.parent_cursor = pos.cursor;
    let page = layout::page(state, Pane::Details);
    state.details.scroll = layout::follow(state.details.scroll, at + pos.cursor, page, at + len);
}

fn open(state: &mut AppState) {
    match state.focus {
        Pane::Cells => match state.cell_rows.get(state.cells.cursor).copied() {
            Some(CellRow::Notebook(n)) => {
                state.notebooks[n].expanded = !state.notebooks[n].expanded;
                rebuild_cells(state);
            }
            Some(CellRow::Cell(..)) => state.focus = Pane::Timeline,
            None => {}
        },
        Pane::Timeline => {
            if state.selected_row().is_some() {
                state.focus = Pane::Details;
            }
        }
        Pane::Details => {
            let parent = current_preview(state)
                .and_then(|p| p.parents.get(state.details.parent_cursor))
                .map(|p| (p.notebook.clone(), p.id));
            if let Some((notebook, id)) = parent {
                jump_to(state, &notebook, id);
            }
        }
        Pane::Marks => {
            let entries = marked_entries(state);
            if let Some((notebook, id)) = entries.get(state.marks_list.cursor).cloned() {
                jump_to(state, &notebook, id);
            }
        }
    }
}

/// Selects an entry anywhere; waits for its notebook to load when needed.
pub fn jump_to(state: &mut AppState, notebook: &str, id: EntryId) {
    let Some(n) = state.notebook_index(notebook) else {
        state.set_status(Level::Warning, format!("{notebook} is not in this history"));
        return;
    };
    let Some(view) = state.view(n).cloned() else {
        state.pending_jump = Some((notebook.to_string(), id));
        state.notebooks[n].expanded = true;
        rebuild_cells(state);
        return;
    };
    let Some((c, item)) = view.position(id) else {
        state.set_status(
            Level::Warning,
            format!("entry {} is no longer there", id.short()),
        );
        return;
    };
    state.notebooks[n].expanded = true;
    if !state.filter.is_empty() && !matches_filter(&view.cells[c].name, &state.filter) {
        state.filter.clear();
    }
    rebuild_cells(state);
    if let Some(row) = state
        .cell_rows
        .iter()
        .position(|r| *r == CellRow::Cell(n, c))
    {
        let page = layout::page(state, Pane::Cells);
        state.cells.cursor = row;
        state.cells.offset = layout::follow(state.cells.offset, row, page, state.cell_rows.len());
    }
    let page = layout::page(state, Pane::Timeline);
    state.timeline.cursor = item;
    state.timeline.offset =
        layout::follow(state.timeline.offset, item, page, view.cells[c].items.len());
    state.search = None;
    state.focus = Pane::Timeline;
    if let Mode::Visual { .. } = state.mode {
        state.mode = Mode::Normal;
    }
    entry_changed(state);
}

fn visual(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    use Action::*;
    match action {
        MoveDown | MoveUp | PageDown | PageUp | Top | Bottom => move_timeline(state, action),
        ToggleMark => {
            let rows = selected_rows(state);
            mark_rows(state, &rows);
            state.mode = Mode::Normal;
        }
        Cancel => state.mode = Mode::Normal,
        Pin => {
            pin(state, fx, selected_rows(state));
            state.mode = Mode::Normal;
        }
        _ => {
            state.mode = Mode::Normal;
            normal(state, action, fx);
        }
    }
}

/// Rows under the cursor, or in the visual range.
fn selected_rows(state: &AppState) -> Vec<usize> {
    let items = state.items();
    let cursor = state.timeline.cursor;
    let (lo, hi) = match state.mode {
        Mode::Visual { anchor } => (anchor.min(cursor), anchor.max(cursor)),
        _ => (cursor, cursor),
    };
    items
        .get(lo..=hi.min(items.len().saturating_sub(1)))
        .unwrap_or(&[])
        .iter()
        .filter_map(|i| i.row())
        .collect()
}

/// Marks the rows, or unmarks them when all are marked already.
fn mark_rows(state: &mut AppState, rows: &[usize]) {
    let Some((view, _)) = state.current_cell() else {
        return;
    };
    let view = view.clone();
    let all_marked = rows
        .iter()
        .all(|&r| state.marks.contains(&view.name, view.rows[r].id));
    state.marks.set(&view, rows, !all_marked);
}

fn toggle_selected(state: &mut AppState) {
    let rows = selected_rows(state);
    if rows.is_empty() {
        return;
    }
    mark_rows(state, &rows);
    move_timeline(state, Action::MoveDown);
}

fn unmark_in_pane(state: &mut AppState) {
    let entries = marked_entries(state);
    let Some((notebook, id)) = entries.get(state.marks_list.cursor) else {
        return;
    };
    let Some(view) = state
        .notebook_index(notebook)
        .and_then(|n| state.view(n))
        .cloned()
    else {
        return;
    };
    if let Some((c, i)) = view.position(*id)
        && let Some(row) = view.cells[c].items[i].row()
    {
        state.marks.set(&view, &[row], false);
    }
    let len = entries.len() - 1;
    let page = layout::page(state, Pane::Marks);
    state.marks_list.cursor = state.marks_list.cursor.min(len.saturating_sub(1));
    state.marks_list.offset =
        layout::follow(state.marks_list.offset, state.marks_list.cursor, page, len);
}

/// Marked entries in notebook, cell and time order (the marks pane's lines).
pub fn marked_entries(state: &AppState) -> Vec<(String, EntryId)> {
    let mut out = Vec::new();
    for (notebook, marks) in &state.marks.by_notebook {
        let Some(view) = state.notebook_index(notebook).and_then(|n| state.view(n)) else {
            continue;
        };
        let mut ids: Vec<(usize, usize, EntryId)> = marks
            .ids
            .iter()
            .filter_map(|&id| view.position(id).map(|(c, i)| (c, i, id)))
            .collect();
        ids.sort_unstable();
        out.extend(ids.into_iter().map(|(_, _, id)| (notebook.clone(), id)));
    }
    out
}

fn pin(state: &mut AppState, fx: &mut Vec<Effect>, rows: Vec<usize>) {
    let Some((view, _)) = state.current_cell() else {
        return;
    };
    if rows.is_empty() {
        return;
    }
    let view = view.clone();
    let pinned = !rows.iter().all(|&r| view.rows[r].pinned);
    let ids = rows.iter().map(|&r| view.rows[r].id).collect();
    let Some(n) = state.notebook_index(&view.name) else {
        return;
    };
    let generation = next_timeline_gen(state, n);
    state.writing += 1;
    fx.push(Effect::Job(Job::SetPinned {
        notebook: view.name.clone(),
        ids,
        pinned,
        generation,
    }));
}

fn set_base(state: &mut AppState) {
    let Some((view, row)) = state.selected_row() else {
        return;
    };
    let this = (view.name.clone(), row.id);
    if state.details.base.as_ref() == Some(&this) {
        state.details.base = None;
        state.set_status(
            Level::Info,
            "diffs compare with the previous code version again",
        );
    } else {
        state.set_status(
            Level::Info,
            format!(
                "diffs now compare with {} (b again on it to reset)",
                this.1.short()
            ),
        );
        state.details.base = Some(this);
        state.details.tab = Tab::Diff;
    }
}

fn toggle_marks_pane(state: &mut AppState) {
    state.marks_pane = !state.marks_pane;
    if state.marks_pane {
        state.focus = Pane::Marks;
        state.marks_list = ListPos::default();
    } else if state.focus == Pane::Marks {
        state.focus = Pane::Timeline;
    }
}

fn set_tab(state: &mut AppState, tab: Tab) {
    state.details.tab = tab;
    state.details.scroll = 0;
    state.details.parent_cursor = 0;
}

fn ask_keep_newest(state: &mut AppState, action: Action) {
    let everywhere = action == Action::MarkAllButNewestEverywhere;
    let ready = if everywhere {
        state
            .selected_cell()
            .and_then(|(n, _)| state.view(n))
            .is_some()
    } else {
        state.current_cell().is_some()
    };
    if !ready {
        state.set_status(Level::Warning, "select a loaded cell first");
        return;
    }
    let kind = if everywhere {
        PromptKind::KeepNewestAll
    } else {
        PromptKind::KeepNewestCell
    };
    state.mode = Mode::Prompt(Prompt {
        kind,
        input: "1".into(),
    });
}

/// Marks all but the newest `keep` runs of the cells; pinned runs are never marked this way.
fn keep_newest(state: &mut AppState, keep: usize, everywhere: bool) {
    let Some((n, cell)) = state.selected_cell() else {
        return;
    };
    let Some(view) = state.view(n).cloned() else {
        return;
    };
    let cells: Vec<usize> = match (everywhere, cell) {
        (true, _) => (0..view.cells.len()).collect(),
        (false, Some(c)) => vec![c],
        (false, None) => return,
    };
    let mut rows = Vec::new();
    let mut pinned = 0;
    for c in cells {
        for r in view.cells[c].rows().skip(keep) {
            if view.rows[r].pinned {
                pinned += 1;
            } else {
                rows.push(r);
            }
        }
    }
    let marked = state.marks.set(&view, &rows, true);
    let mut text = format!(
        "marked {marked} entries; {} marked in all, frees {}",
        state.marks.count(),
        human_bytes(state.marks.freed())
    );
    if pinned > 0 {
        text.push_str(&format!("; {pinned} pinned left alone"));
    }
    state.set_status(Level::Info, text);
}

fn prompt(state: &mut AppState, action: Action) {
    let Mode::Prompt(p) = &mut state.mode else {
        return;
    };
    match action {
        Action::Insert(c) => p.input.push(c),
        Action::DeleteChar => {
            p.input.pop();
        }
        Action::Cancel => {
            let kind = p.kind;
            state.mode = Mode::Normal;
            if kind == PromptKind::Filter {
                state.filter.clear();
                rebuild_cells(state);
            }
            return;
        }
        Action::Submit => {
            let Prompt { kind, input } = p.clone();
            state.mode = Mode::Normal;
            submit(state, kind, input.trim());
            return;
        }
        _ => return,
    }
    if p.kind == PromptKind::Filter {
        state.filter = p.input.clone();
        rebuild_cells(state);
    }
}

fn submit(state: &mut AppState, kind: PromptKind, input: &str) {
    match kind {
        PromptKind::Filter => {}
        PromptKind::Search => search(state, input),
        PromptKind::KeepNewestCell | PromptKind::KeepNewestAll => match input.parse::<usize>() {
            Ok(n) => keep_newest(state, n, kind == PromptKind::KeepNewestAll),
            Err(_) => state.set_status(
                Level::Error,
                format!("{input:?} is not a number of runs to keep"),
            ),
        },
        PromptKind::Policy => state.last_policy = input.to_string(),
    }
}

fn search(state: &mut AppState, query: &str) {
    if query.is_empty() {
        state.search = None;
        return;
    }
    let Some((n, Some(c))) = state.selected_cell() else {
        return;
    };
    let Some(view) = state.view(n) else {
        return;
    };
    let tz = state.ui.tz;
    let needle = query.to_lowercase();
    let matches: Vec<usize> = view.cells[c]
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let row = &view.rows[item.row()?];
            row_matches(row, &needle, tz).then_some(i)
        })
        .collect();
    let count = matches.len();
    state.search = Some(Search {
        query: query.to_string(),
        notebook: n,
        cell: c,
        matches,
    });
    if count == 0 {
        state.set_status(Level::Warning, format!("no run matches {query:?}"));
    } else {
        state.set_status(
            Level::Info,
            format!("{count} runs match {query:?} (n/N to move)"),
        );
        let cursor = state.timeline.cursor;
        if !state
            .search
            .as_ref()
            .is_some_and(|s| s.matches.contains(&cursor))
        {
            next_match(state, true);
        }
    }
}

/// A run matches by id prefix, module hash, version, time or pin/mark words.
pub fn row_matches(row: &crate::model::Row, needle: &str, tz: chrono::FixedOffset) -> bool {
    row.id.to_hex().starts_with(needle)
        || row.module.to_lowercase().contains(needle)
        || row.version.to_lowercase() == needle
        || super::format::absolute(row.created_at, tz).contains(needle)
        || (needle == "pinned" && row.pinned)
}

fn next_match(state: &mut AppState, forward: bool) {
    let Some(search) = &state.search else {
        state.set_status(Level::Info, "no search; / searches this timeline");
        return;
    };
    if state.selected_cell() != Some((search.notebook, Some(search.cell)))
        || search.matches.is_empty()
    {
        return;
    }
    let cursor = state.timeline.cursor;
    let m = &search.matches;
    let target = if forward {
        m.iter().find(|&&i| i > cursor).or(m.first())
    } else {
        m.iter().rev().find(|&&i| i < cursor).or(m.last())
    };
    if let Some(&target) = target {
        let page = layout::page(state, Pane::Timeline);
        let len = state.items().len();
        state.timeline.cursor = target;
        state.timeline.offset = layout::follow(state.timeline.offset, target, page, len);
        entry_changed(state);
    }
}

fn open_plan(state: &mut AppState) {
    if state.marks.is_empty() {
        let key = state
            .ui
            .keymap
            .keys_for(&[super::keymap::Scope::Timeline], Action::ToggleMark)
            .and_then(|k| k.first())
            .map_or("the mark key".to_string(), |k| k.to_string());
        state.set_status(
            Level::Info,
            format!("nothing is marked; {key} marks the selected run"),
        );
        return;
    }
    let plan = build_plan(state);
    state.mode = Mode::Plan { plan, scroll: 0 };
}

/// The deletion plan of the current marks, with its warnings.
pub fn build_plan(state: &AppState) -> Plan {
    let mut plan = Plan {
        groups: Vec::new(),
        entries: 0,
        bytes: state.marks.freed(),
        warnings: Vec::new(),
        targets: Vec::new(),
    };
    for (notebook, id) in marked_entries(state) {
        let Some(view) = state.notebook_index(&notebook).and_then(|n| state.view(n)) else {
            continue;
        };
        let Some(row) = view.row(id) else {
            continue;
        };
        match plan.groups.last_mut() {
            Some((nb, ids)) if *nb == notebook => ids.push(id),
            _ => plan.groups.push((notebook.clone(), vec![id])),
        }
        if plan.targets.len() < PLAN_LIST_MAX {
            plan.targets.push(PlanTarget {
                notebook: notebook.clone(),
                cell: row.cell.clone(),
                id,
                created_at: row.created_at,
                size: row.size,
            });
        }
        plan.entries += 1;
    }
    plan.warnings = plan_warnings(state, &plan);
    plan
}

fn plan_warnings(state: &AppState, plan: &Plan) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut pinned = Vec::new();
    for (notebook, ids) in &plan.groups {
        let Some(view) = state.notebook_index(notebook).and_then(|n| state.view(n)) else {
            continue;
        };
        let mut per_cell: HashMap<usize, (usize, bool)> = HashMap::new();
        for &id in ids {
            let Some((c, i)) = view.position(id) else {
                continue;
            };
            let newest = view.cells[c].items.first().and_then(|it| it.row());
            let entry = per_cell.entry(c).or_default();
            entry.0 += 1;
            entry.1 |= newest == view.cells[c].items[i].row();
            if view.row(id).is_some_and(|r| r.pinned) {
                pinned.push(format!(
                    "{notebook} · {} · {}",
                    view.cells[c].name,
                    id.short()
                ));
            }
        }
        let mut cells: Vec<_> = per_cell.into_iter().collect();
        cells.sort_unstable_by_key(|(c, _)| *c);
        for (c, (marked, newest)) in cells {
            let cell = &view.cells[c];
            let name = format!("{notebook} · {}", cell.name);
            if marked == cell.runs && cell.runs == 1 {
                warnings.push(format!("deletes the only run of {name}"));
            } else if marked == cell.runs {
                warnings.push(format!("deletes every run of {name} ({} runs)", cell.runs));
            } else if newest {
                warnings.push(format!("deletes the newest run of {name}"));
            }
        }
    }
    warnings.extend(
        pinned
            .into_iter()
            .map(|p| format!("a pinned entry is marked: {p}")),
    );
    warnings
}

fn plan_mode(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    let Mode::Plan { plan, scroll } = &mut state.mode else {
        return;
    };
    match action {
        Action::Confirm => {
            let groups = plan.groups.clone();
            let text = format!("deleting {} entries…", plan.entries);
            state.mode = Mode::Normal;
            apply(state, groups, fx);
            state.set_status(Level::Info, text);
        }
        Action::Cancel => state.mode = Mode::Normal,
        Action::MoveDown
        | Action::MoveUp
        | Action::PageDown
        | Action::PageUp
        | Action::Top
        | Action::Bottom => {
            *scroll = self::scroll(*scroll, action, 10);
        }
        _ => {}
    }
}

fn apply(state: &mut AppState, groups: Vec<(String, Vec<EntryId>)>, fx: &mut Vec<Effect>) {
    let slots: Vec<usize> = groups
        .iter()
        .filter_map(|(nb, _)| state.notebook_index(nb))
        .collect();
    let gens = slots
        .into_iter()
        .map(|n| next_timeline_gen(state, n))
        .collect();
    state.writing += 1;
    fx.push(Effect::Job(Job::Remove { groups, gens }));
}

fn ask_undo(state: &mut AppState) {
    let Some(applied) = &state.undo else {
        state.set_status(Level::Info, "nothing to undo");
        return;
    };
    let entries: usize = applied.iter().map(|a| a.removed).sum();
    let bytes: u64 = applied.iter().map(|a| a.bytes).sum();
    let notebooks: Vec<&str> = applied.iter().map(|a| a.notebook.as_str()).collect();
    let text = format!(
        "Restore {entries} deleted entries ({}) of {}?",
        human_bytes(bytes),
        notebooks.join(", ")
    );
    state.mode = Mode::Confirm(Confirm::Undo(text));
}

fn confirm_mode(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    let Mode::Confirm(kind) = &state.mode else {
        return;
    };
    match action {
        Action::Confirm => {
            let kind = kind.clone();
            state.mode = Mode::Normal;
            match kind {
                Confirm::Quit => {
                    state.quit = true;
                    fx.push(Effect::Quit);
                }
                Confirm::Undo(_) => undo(state, fx),
            }
        }
        Action::Cancel => state.mode = Mode::Normal,
        _ => {}
    }
}

fn undo(state: &mut AppState, fx: &mut Vec<Effect>) {
    let Some(applied) = state.undo.take() else {
        return;
    };
    let slots: Vec<usize> = applied
        .iter()
        .filter_map(|a| state.notebook_index(&a.notebook))
        .collect();
    let gens = slots
        .into_iter()
        .map(|n| next_timeline_gen(state, n))
        .collect();
    state.writing += 1;
    state.set_status(Level::Info, "restoring…");
    fx.push(Effect::Job(Job::Undo { applied, gens }));
}

fn overlay(state: &mut AppState, action: Action) {
    let page = layout::main_page(state);
    match (&mut state.mode, action) {
        (_, Action::Close) => state.mode = Mode::Normal,
        (Mode::Help { scroll } | Mode::Compare { scroll, .. }, a) => {
            *scroll = self::scroll(*scroll, a, page)
        }
        _ => {}
    }
}

fn open_compare(state: &mut AppState) {
    let Some((view, row)) = state.selected_row() else {
        return;
    };
    let versions: Vec<EntryId> = view.versions_of(row.id).iter().map(|r| r.id).collect();
    if versions.len() < 2 {
        state.set_status(
            Level::Info,
            "this code ran as one version only; compare shows the versions (non-deterministic alternatives) of one module hash",
        );
        return;
    }
    state.mode = Mode::Compare {
        notebook: view.name.clone(),
        ids: versions,
        scroll: 0,
    };
}

fn open_time_machine(state: &mut AppState) {
    let Some((n, _)) = state.selected_cell() else {
        return;
    };
    let Some(view) = state.view(n) else {
        state.set_status(Level::Info, "the notebook is still loading");
        return;
    };
    if view.run_times.is_empty() {
        state.set_status(Level::Info, "this notebook has no runs");
        return;
    }
    let at = state.selected_row().map(|(_, r)| r.created_at);
    let stop = at
        .and_then(|t| view.run_times.binary_search(&t).ok())
        .unwrap_or(view.run_times.len() - 1);
    state.mode = Mode::TimeMachine {
        notebook: n,
        stop,
        scroll: 0,
    };
}

fn time_machine(state: &mut AppState, action: Action) {
    let page = layout::main_page(state);
    let Mode::TimeMachine {
        notebook,
        stop,
        scroll,
    } = &mut state.mode
    else {
        return;
    };
    let stops = state.notebooks[*notebook]
        .view
        .as_ref()
        .map_or(0, |v| v.run_times.len());
    let last = stops.saturating_sub(1);
    match action {
        Action::Close => state.mode = Mode::Normal,
        Action::Earlier => *stop = stop.saturating_sub(1),
        Action::Later => *stop = (*stop + 1).min(last),
        Action::Earliest => *stop = 0,
        Action::Latest => *stop = last,
        a => *scroll = self::scroll(*scroll, a, page),
    }
}

fn reload(state: &mut AppState, fx: &mut Vec<Effect>) {
    state.previews.clear();
    for n in 0..state.notebooks.len() {
        state.notebooks[n].error = None;
        let generation = next_timeline_gen(state, n);
        fx.push(Effect::Job(Job::Timeline {
            notebook: state.notebooks[n].info.notebook.clone(),
            generation,
        }));
    }
    state.notebooks_error = None;
    fx.extend(start(state));
    state.set_status(Level::Info, "reloading…");
}

fn next_timeline_gen(state: &mut AppState, n: usize) -> u64 {
    state.timeline_gen += 1;
    let slot = &mut state.notebooks[n];
    slot.generation = state.timeline_gen;
    slot.loading = true;
    state.timeline_gen
}

fn mouse(state: &mut AppState, m: MouseAction) {
    if !matches!(
        state.mode,
        Mode::Normal | Mode::Help { .. } | Mode::Compare { .. } | Mode::TimeMachine { .. }
    ) {
        return;
    }
    let (x, y, action) = match m {
        MouseAction::Click { x, y } => (x, y, None),
        MouseAction::ScrollUp { x, y } => (x, y, Some(Action::MoveUp)),
        MouseAction::ScrollDown { x, y } => (x, y, Some(Action::MoveDown)),
    };
    if state.mode != Mode::Normal {
        if let Some(a) = action {
            for _ in 0..3 {
                update_scroll_only(state, a);
            }
        }
        return;
    }
    let a = layout::of_state(state);
    let hit = |r: ratatui::layout::Rect| r.contains(ratatui::layout::Position { x, y });
    let pane = if hit(a.cells) {
        Pane::Cells
    } else if hit(a.timeline) {
        Pane::Timeline
    } else if hit(a.details) {
        panes(state)[2]
    } else {
        return;
    };
    state.focus = pane;
    match action {
        Some(a) => {
            for _ in 0..3 {
                navigate(state, a);
            }
        }
        None => click(state, pane, x, y, a),
    }
}

fn update_scroll_only(state: &mut AppState, action: Action) {
    let page = layout::main_page(state);
    if let Mode::Help { scroll } | Mode::Compare { scroll, .. } | Mode::TimeMachine { scroll, .. } =
        &mut state.mode
    {
        *scroll = self::scroll(*scroll, action, page);
    }
}

fn click(state: &mut AppState, pane: Pane, x: u16, y: u16, a: layout::Areas) {
    let line = |r: ratatui::layout::Rect| y.checked_sub(layout::inner(r).y).map(usize::from);
    match pane {
        Pane::Cells => {
            if let Some(l) = line(a.cells) {
                let target = state.cells.offset + l;
                state.auto_select = false;
                if target < state.cell_rows.len() && target != state.cells.cursor {
                    state.cells.cursor = target;
                    cell_changed(state);
                }
            }
        }
        Pane::Timeline => {
            if let Some(l) = line(a.timeline) {
                let target = state.timeline.offset + l;
                if state.items().get(target).is_some_and(|i| i.row().is_some()) {
                    state.timeline.cursor = target;
                    entry_changed(state);
                }
            }
        }
        Pane::Details => {
            if let Some(tab) = tab_at(layout::inner(a.details), x, y) {
                set_tab(state, tab);
            }
        }
        Pane::Marks => {
            if let Some(l) = line(a.details) {
                let target = state.marks_list.offset + l;
                if target < marked_entries(state).len() {
                    state.marks_list.cursor = target;
                }
            }
        }
    }
}

/// Requests what the screen needs and nobody has asked for yet: timelines, the preview.
fn sync(state: &mut AppState, fx: &mut Vec<Effect>) {
    for n in 0..state.notebooks.len() {
        let slot = &state.notebooks[n];
        if slot.view.is_none() && slot.error.is_none() && !slot.loading {
            let generation = next_timeline_gen(state, n);
            fx.push(Effect::Job(Job::Timeline {
                notebook: state.notebooks[n].info.notebook.clone(),
                generation,
            }));
        }
    }
    let Some(key) = desired_view(state) else {
        return;
    };
    let p = &state.previews;
    if p.get(&key).is_some() || p.failed.contains_key(&key) || p.in_flight.contains(&key) {
        return;
    }
    let view = match &key {
        ViewKey::Detail { .. } => None,
        ViewKey::Compare { notebook, .. } | ViewKey::TimeMachine { notebook, .. } => state
            .notebook_index(notebook)
            .and_then(|n| state.view(n))
            .cloned(),
    };
    state.previews.generation += 1;
    state.previews.in_flight.insert(key.clone());
    fx.push(Effect::Job(Job::Preview {
        key,
        generation: state.previews.generation,
        view,
        context: PreviewContext {
            now: state.now,
            tz: state.ui.tz,
        },
    }));
}

/// What the screen shows in its content area now.
pub fn desired_view(state: &AppState) -> Option<ViewKey> {
    match &state.mode {
        Mode::Compare { notebook, ids, .. } => {
            return Some(ViewKey::Compare {
                notebook: notebook.clone(),
                ids: ids.clone(),
            });
        }
        Mode::TimeMachine { notebook, stop, .. } => {
            let view = state.view(*notebook)?;
            return Some(ViewKey::TimeMachine {
                notebook: view.name.clone(),
                at: *view.run_times.get(*stop)?,
            });
        }
        _ => {}
    }
    if state.marks_pane {
        return None;
    }
    let (view, row) = state.selected_row()?;
    let tab = state.details.tab;
    let base = match (tab, &state.details.base) {
        (Tab::Diff, Some((nb, base))) if *nb == view.name && *base != row.id => Some(*base),
        (Tab::Diff, _) => view.previous_code(row.id).map(|r| r.id),
        _ => None,
    };
    let width = match tab {
        Tab::Outputs => layout::inner(layout::of_state(state).details).width,
        _ => 0,
    };
    Some(ViewKey::Detail {
        notebook: view.name.clone(),
        id: row.id,
        tab,
        base,
        width,
    })
}

pub fn on_job(state: &mut AppState, output: JobOutput) -> Vec<Effect> {
    match output {
        JobOutput::Notebooks { generation, result } if generation == state.notebooks_gen => {
            state.notebooks_loading = false;
            match result {
                Ok(list) => set_notebooks(state, list),
                Err(e) => {
                    state.set_status(Level::Error, error_text(&e));
                    state.notebooks_error = Some(error_text(&e));
                }
            }
        }
        JobOutput::Notebooks { .. } => {}
        JobOutput::Timeline(loaded) => apply_loaded(state, loaded),
        JobOutput::Preview { key, result } => {
            state.previews.in_flight.remove(&key);
            match result {
                Some(Ok(preview)) => state.previews.insert(key, preview),
                Some(Err(e)) => {
                    state.previews.failed.insert(key, e);
                }
                None => {}
            }
        }
        JobOutput::Removed { results, timelines } => removed(state, results, timelines),
        JobOutput::Restored {
            results,
            retry,
            timelines,
        } => {
            if !retry.is_empty() {
                state.undo = Some(retry);
            }
            restored(state, results, timelines)
        }
        JobOutput::Pinned {
            pinned,
            result,
            timeline,
        } => {
            state.writing = state.writing.saturating_sub(1);
            match result {
                Ok(n) => {
                    let verb = if pinned { "pinned" } else { "unpinned" };
                    state.set_status(Level::Info, format!("{verb} {n} entries"));
                }
                Err(e) => state.set_status(Level::Error, error_text(&e)),
            }
            apply_loaded(state, timeline);
        }
    }
    let mut fx = Vec::new();
    sync(state, &mut fx);
    fx
}

/// "store is busy" errors say what to do.
fn error_text(e: &HistoryError) -> String {
    if e.busy {
        format!(
            "store is busy (another process is writing); try again: {}",
            e.message
        )
    } else {
        e.message.clone()
    }
}

fn set_notebooks(state: &mut AppState, list: Vec<NotebookInfo>) {
    let mut old: HashMap<String, super::state::NotebookSlot> = state
        .notebooks
        .drain(..)
        .map(|s| (s.info.notebook.clone(), s))
        .collect();
    state.notebooks = list
        .into_iter()
        .map(|info| match old.remove(&info.notebook) {
            Some(mut slot) => {
                slot.info = info;
                slot
            }
            None => super::state::NotebookSlot {
                info,
                view: None,
                error: None,
                expanded: true,
                loading: false,
                generation: 0,
            },
        })
        .collect();
    if state.notebooks.is_empty() {
        state.marks.clear();
    }
    rebuild_cells(state);
}

fn apply_loaded(state: &mut AppState, loaded: Loaded) {
    let Some(n) = state.notebook_index(&loaded.notebook) else {
        return;
    };
    if loaded.generation < state.notebooks[n].generation {
        return;
    }
    let selected = state.selected_row().map(|(_, r)| r.id);
    let cursor = state.timeline.cursor;
    let slot = &mut state.notebooks[n];
    slot.loading = false;
    match loaded.result {
        Ok(view) => {
            slot.info.entries = view.rows.len();
            slot.info.cells = view.cells.len();
            slot.info.bytes = view.bytes;
            slot.error = None;
            state.marks.rebase(&view);
            slot.view = Some(view);
            state.keep_reasons.retain(|id, _| {
                state
                    .notebooks
                    .iter()
                    .any(|s| s.view.as_ref().is_some_and(|v| v.position(*id).is_some()))
            });
        }
        Err(e) => {
            slot.error = Some(error_text(&e));
            state.set_status(
                Level::Error,
                format!("{}: {}", loaded.notebook, error_text(&e)),
            );
        }
    }
    rebuild_cells(state);
    restore_timeline_cursor(state, selected, cursor);
    if let Some((notebook, id)) = state.pending_jump.clone()
        && notebook == loaded.notebook
    {
        state.pending_jump = None;
        jump_to(state, &notebook, id);
    }
}

fn restore_timeline_cursor(state: &mut AppState, selected: Option<EntryId>, cursor: usize) {
    let target = state
        .current_cell()
        .and_then(|(view, c)| {
            let (cell, item) = view.position(selected?)?;
            (cell == c).then_some(item)
        })
        .unwrap_or(cursor);
    let items = state.items();
    if items.is_empty() {
        state.timeline = ListPos::default();
        return;
    }
    let len = items.len();
    let page = layout::page(state, Pane::Timeline);
    state.timeline.cursor = nearest_row(items, target.min(len - 1), false);
    state.timeline.offset = layout::follow(state.timeline.offset, state.timeline.cursor, page, len);
}

fn removed(
    state: &mut AppState,
    results: Vec<(String, HistoryResult<Applied>)>,
    timelines: Vec<Loaded>,
) {
    state.writing = state.writing.saturating_sub(1);
    let mut applied = Vec::new();
    let mut errors = Vec::new();
    for (notebook, result) in results {
        match result {
            Ok(a) => {
                errors.extend(a.failures.iter().map(|f| format!("{notebook}: {f}")));
                applied.push(a);
            }
            Err(e) => errors.push(format!("{notebook}: {}", error_text(&e))),
        }
    }
    for loaded in timelines {
        apply_loaded(state, loaded);
    }
    let removed: usize = applied.iter().map(|a| a.removed).sum();
    let bytes: u64 = applied.iter().map(|a| a.bytes).sum();
    if !applied.is_empty() {
        state.undo = Some(applied);
    }
    if errors.is_empty() {
        state.set_status(
            Level::Info,
            format!(
                "deleted {removed} entries, freed {}; u undoes",
                human_bytes(bytes)
            ),
        );
    } else {
        state.set_status(
            Level::Error,
            format!("deleted {removed} entries; failed: {}", errors.join("; ")),
        );
    }
}

fn restored(
    state: &mut AppState,
    results: Vec<(String, HistoryResult<usize>)>,
    timelines: Vec<Loaded>,
) {
    state.writing = state.writing.saturating_sub(1);
    let mut restored = 0;
    let mut errors = Vec::new();
    for (notebook, result) in results {
        match result {
            Ok(n) => restored += n,
            Err(e) => errors.push(format!("{notebook}: {}", error_text(&e))),
        }
    }
    for loaded in timelines {
        apply_loaded(state, loaded);
    }
    if errors.is_empty() {
        state.set_status(Level::Info, format!("restored {restored} entries"));
    } else {
        state.set_status(
            Level::Error,
            format!("restored {restored} entries; failed: {}", errors.join("; ")),
        );
    }
}

fn matches_filter(name: &str, filter: &str) -> bool {
    // Smart case: an upper-case letter in the filter makes it case-sensitive.
    if filter.chars().any(char::is_uppercase) {
        name.contains(filter)
    } else {
        name.to_lowercase().contains(filter)
    }
}

/// Rebuilds the cells pane's lines, keeping the selection on the same notebook or cell.
pub fn rebuild_cells(state: &mut AppState) {
    let before = state.selected_cell().map(|(n, c)| {
        let name = c.and_then(|c| Some(state.view(n)?.cells.get(c)?.name.clone()));
        (state.notebooks[n].info.notebook.clone(), name)
    });
    let mut rows = Vec::new();
    for (n, slot) in state.notebooks.iter().enumerate() {
        rows.push(CellRow::Notebook(n));
        if let (true, Some(view)) = (slot.expanded, &slot.view) {
            rows.extend(
                view.cells
                    .iter()
                    .enumerate()
                    .filter(|(_, cell)| {
                        state.filter.is_empty() || matches_filter(&cell.name, &state.filter)
                    })
                    .map(|(c, _)| CellRow::Cell(n, c)),
            );
        }
    }
    state.cell_rows = rows;
    let found = before.and_then(|(nb, cell)| {
        let n = state.notebook_index(&nb)?;
        let c = cell.and_then(|name| state.view(n)?.cell_index(&name));
        let want = c.map_or(CellRow::Notebook(n), |c| CellRow::Cell(n, c));
        state.cell_rows.iter().position(|r| *r == want).or_else(|| {
            state
                .cell_rows
                .iter()
                .position(|r| *r == CellRow::Notebook(n))
        })
    });
    let len = state.cell_rows.len();
    let previous = state.selected_cell();
    state.cells.cursor = found.unwrap_or(0).min(len.saturating_sub(1));
    // Until the user moves, land on the first cell rather than on a notebook line.
    if state.auto_select
        && let Some(CellRow::Notebook(_)) = state.cell_rows.get(state.cells.cursor)
        && let Some(CellRow::Cell(..)) = state.cell_rows.get(state.cells.cursor + 1)
    {
        state.cells.cursor += 1;
    }
    let page = layout::page(state, Pane::Cells);
    state.cells.offset = layout::follow(state.cells.offset, state.cells.cursor, page, len);
    if state.selected_cell() != previous {
        cell_changed(state);
    }
}
