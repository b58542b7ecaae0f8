//! Moving around: panes, lists, the timeline, jumps, the mouse, filter and search.

use super::loading::desired_view;
use super::marking::marked_entries;
use crate::tui::action::{Action, MouseAction};
use crate::tui::data::Item;
use crate::tui::state::{AppState, CellRow, Level, ListPos, Mode, Pane, Search, Tab};
use crate::tui::views::layout;
use crate::tui::views::layout::tab_at;
use celltime_store::model::EntryId;
use std::sync::Arc;

/// The panes in focus order.
pub(super) fn panes(state: &AppState) -> [Pane; 3] {
    let last = if state.marks_pane {
        Pane::Marks
    } else {
        Pane::Details
    };
    [Pane::Cells, Pane::Timeline, last]
}

pub(super) fn focus_step(state: &mut AppState, delta: isize, wrap: bool) {
    // Moving to another pane needs the panes back.
    state.zoom = false;
    let order = panes(state);
    let i = order.iter().position(|p| *p == state.focus).unwrap_or(0) as isize;
    let next = if wrap {
        (i + delta).rem_euclid(3)
    } else {
        (i + delta).clamp(0, 2)
    };
    state.focus = order[next as usize];
}

pub(super) fn navigate(state: &mut AppState, action: Action) {
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
pub(super) fn scroll(offset: usize, action: Action, page: usize) -> usize {
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

pub(super) fn move_list(pos: &mut ListPos, action: Action, len: usize, page: usize) {
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

pub(super) fn move_timeline(state: &mut AppState, action: Action) {
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
pub(super) fn nearest_row(items: &[Item], at: usize, down: bool) -> usize {
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

pub(super) fn cell_changed(state: &mut AppState) {
    state.timeline = ListPos::default();
    if let Mode::Visual { .. } = state.mode {
        state.mode = Mode::Normal;
    }
    entry_changed(state);
}

pub(super) fn entry_changed(state: &mut AppState) {
    state.details.scroll = 0;
    state.details.hscroll = 0;
    state.details.parent_cursor = 0;
}

pub(super) fn has_parents(state: &AppState) -> bool {
    current_preview(state).is_some_and(|p| !p.parents.is_empty())
}

pub(super) fn current_preview(state: &AppState) -> Option<&Arc<crate::tui::state::Preview>> {
    state.previews.get(&desired_view(state)?)
}

pub(super) fn move_parent_cursor(state: &mut AppState, action: Action) {
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

pub(super) fn open(state: &mut AppState) {
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
            if let Some(&(n, id)) = entries.get(state.marks_list.cursor) {
                let notebook = state.notebooks[n].info.notebook.clone();
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

pub(super) fn set_tab(state: &mut AppState, tab: Tab) {
    state.details.tab = tab;
    state.details.scroll = 0;
    state.details.hscroll = 0;
    state.details.parent_cursor = 0;
}

pub(super) fn search(state: &mut AppState, query: &str) {
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
            let row = &view.rows()[item.row()?];
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
            format!(
                "{} {query:?} (n/N to move)",
                celltime_store::units::count(count, "run matches", "runs match")
            ),
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
pub fn row_matches(
    row: &celltime_store::model::Row,
    needle: &str,
    tz: celltime_store::model::Zone,
) -> bool {
    row.id.has_prefix(needle)
        || row.module.to_lowercase().contains(needle)
        || row.version.to_lowercase() == needle
        || crate::tui::format::absolute(row.created_at, tz).contains(needle)
        || (needle == "pinned" && row.pinned)
}

pub(super) fn next_match(state: &mut AppState, forward: bool) {
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

pub(super) fn mouse(state: &mut AppState, m: MouseAction) {
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

pub(super) fn update_scroll_only(state: &mut AppState, action: Action) {
    let page = layout::main_page(state);
    if let Mode::Help { scroll } | Mode::Compare { scroll, .. } | Mode::TimeMachine { scroll, .. } =
        &mut state.mode
    {
        *scroll = self::scroll(*scroll, action, page);
    }
}

pub(super) fn click(state: &mut AppState, pane: Pane, x: u16, y: u16, a: layout::Areas) {
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

pub(super) fn matches_filter(name: &str, filter: &str) -> bool {
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
