//! Marks, pins, the deletion plan, apply and undo.

use super::loading::next_timeline_gen;
use super::navigation::{move_timeline, scroll};
use super::{Effect, normal};
use crate::preview::human_bytes;
use crate::tui::action::Action;
use crate::tui::format::entries;
use crate::tui::jobs::Job;
use crate::tui::state::Marked;
use crate::tui::state::{
    AppState, Confirm, Level, ListPos, Mode, PLAN_LIST_MAX, Pane, Plan, PlanTarget, Prompt,
    PromptKind, Tab,
};
use crate::tui::views::layout;
use celltime_store::model::EntryId;
use celltime_store::ops::{self, Operation};
use std::sync::Arc;

pub(super) fn visual(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
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
pub(super) fn selected_rows(state: &AppState) -> Vec<usize> {
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
pub(super) fn mark_rows(state: &mut AppState, rows: &[usize]) {
    let Some((view, _)) = state.current_cell() else {
        return;
    };
    let view = view.clone();
    let all_marked = rows
        .iter()
        .all(|&r| state.marks.contains(view.name(), view.rows()[r].id));
    state.marks.set(&view, rows, !all_marked);
}

pub(super) fn toggle_selected(state: &mut AppState) {
    let rows = selected_rows(state);
    if rows.is_empty() {
        return;
    }
    mark_rows(state, &rows);
    move_timeline(state, Action::MoveDown);
}

pub(super) fn unmark_in_pane(state: &mut AppState) {
    let entries = marked_entries(state);
    let Some((n, id)) = entries.get(state.marks_list.cursor) else {
        return;
    };
    let Some(view) = state.view(*n).cloned() else {
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

/// Marked entries in notebook, cell and time order (the marks pane's lines), memoised.
pub fn marked_entries(state: &AppState) -> Arc<Vec<Marked>> {
    let key = (state.marks.version, state.timeline_gen);
    if let Some((built, list)) = state.marked_memo.borrow().as_ref()
        && *built == key
    {
        return list.clone();
    }
    let list = Arc::new(build_marked(state));
    *state.marked_memo.borrow_mut() = Some((key, list.clone()));
    list
}

fn build_marked(state: &AppState) -> Vec<Marked> {
    let mut out = Vec::new();
    for (n, slot) in state.notebooks.iter().enumerate() {
        let (Some(marks), Some(view)) =
            (state.marks.by_notebook.get(&slot.info.notebook), &slot.view)
        else {
            continue;
        };
        // Few marks: sort them by position; many: one pass over the rows in order.
        if marks.ids.len() * 16 < view.rows().len() {
            let mut ids: Vec<(usize, usize, EntryId)> = marks
                .ids
                .iter()
                .filter_map(|&id| view.position(id).map(|(c, i)| (c, i, id)))
                .collect();
            ids.sort_unstable();
            out.extend(ids.into_iter().map(|(_, _, id)| (n, id)));
        } else {
            for cell in &view.cells {
                out.extend(
                    cell.rows()
                        .map(|r| view.rows()[r].id)
                        .filter(|id| marks.ids.contains(id))
                        .map(|id| (n, id)),
                );
            }
        }
    }
    out
}

pub(super) fn pin(state: &mut AppState, fx: &mut Vec<Effect>, rows: Vec<usize>) {
    let Some((view, _)) = state.current_cell() else {
        return;
    };
    if rows.is_empty() {
        return;
    }
    let view = view.clone();
    let pinned = !rows.iter().all(|&r| view.rows()[r].pinned);
    let ids = rows.iter().map(|&r| view.rows()[r].id).collect();
    let Some(n) = state.notebook_index(view.name()) else {
        return;
    };
    let generation = next_timeline_gen(state, n);
    state.writing += 1;
    fx.push(Effect::Job(Job::SetPinned {
        notebook: view.name().to_string(),
        ids,
        pinned,
        generation,
    }));
}

/// Asks the history to serve marimo the selected run (`celltime serve`).
pub(super) fn serve(state: &mut AppState, fx: &mut Vec<Effect>) {
    let Some((view, row)) = state.selected_row() else {
        return;
    };
    let (notebook, id) = (view.name().to_string(), row.id);
    let Some(n) = state.notebook_index(&notebook) else {
        return;
    };
    let generation = next_timeline_gen(state, n);
    state.writing += 1;
    fx.push(Effect::Job(Job::Serve {
        notebook,
        id,
        generation,
    }));
}

pub(super) fn set_base(state: &mut AppState) {
    let Some((view, row)) = state.selected_row() else {
        return;
    };
    let this = (view.name().to_string(), row.id);
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
                "diffs now compare with {}; c compares results with it (b again on it to reset)",
                this.1.short()
            ),
        );
        state.details.base = Some(this);
        state.details.tab = Tab::Diff;
    }
}

pub(super) fn toggle_marks_pane(state: &mut AppState) {
    state.marks_pane = !state.marks_pane;
    if state.marks_pane {
        state.focus = Pane::Marks;
        state.marks_list = ListPos::default();
    } else if state.focus == Pane::Marks {
        state.focus = Pane::Timeline;
    }
}

pub(super) fn ask_keep_newest(state: &mut AppState, action: Action) {
    let everywhere = action == Action::MarkAllButNewestEverywhere;
    let ready = if everywhere {
        state.notebooks.iter().any(|s| s.view.is_some())
    } else {
        state.current_cell().is_some()
    };
    if !ready {
        let what = if everywhere { "a notebook" } else { "a cell" };
        state.set_status(Level::Warning, format!("select a loaded {what} first"));
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

/// The loaded notebooks `A` and `P` work on: every notebook of the workspace, as `prune`.
pub fn loaded_notebooks(state: &AppState) -> Vec<Arc<crate::tui::data::NotebookView>> {
    state
        .notebooks
        .iter()
        .filter_map(|s| s.view.clone())
        .collect()
}

/// "4 notebooks (analysis/eda, llm/summaries, …)" — what `A` and `P` cover.
pub fn coverage(state: &AppState) -> String {
    let names: Vec<String> = loaded_notebooks(state)
        .iter()
        .map(|v| crate::preview::sanitize(v.name()))
        .collect();
    const SHOWN: usize = 3;
    let mut list = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        list.push_str(", …");
    }
    format!(
        "{} ({list})",
        celltime_store::units::count(names.len(), "notebook", "notebooks")
    )
}

/// Marks all but the newest `keep` runs of the cells — the selected one, or every cell of
/// every loaded notebook; pinned runs are never marked this way.
pub(super) fn keep_newest(state: &mut AppState, keep: usize, everywhere: bool) {
    let targets: Vec<(Arc<crate::tui::data::NotebookView>, Vec<usize>)> = if everywhere {
        loaded_notebooks(state)
            .into_iter()
            .map(|view| {
                let cells = (0..view.cells.len()).collect();
                (view, cells)
            })
            .collect()
    } else {
        match state.current_cell() {
            Some((view, c)) => vec![(view.clone(), vec![c])],
            None => return,
        }
    };
    let mut marked = 0;
    let mut pinned = 0;
    for (view, cells) in &targets {
        let mut rows = Vec::new();
        for &c in cells {
            for r in view.cells[c].rows().skip(keep) {
                if view.rows()[r].pinned {
                    pinned += 1;
                } else {
                    rows.push(r);
                }
            }
        }
        marked += state.marks.set(view, &rows, true);
    }
    let scope = if everywhere {
        format!(" in {}", coverage(state))
    } else {
        String::new()
    };
    let mut text = format!(
        "marked {}{scope}; {} marked in all, frees {}",
        entries(marked),
        state.marks.count(),
        human_bytes(state.marks.freed())
    );
    if pinned > 0 {
        text.push_str(&format!("; {pinned} pinned left alone"));
    }
    state.set_status(Level::Info, text);
}

pub(super) fn open_plan(state: &mut AppState) {
    if state.marks.is_empty() {
        let key = state
            .ui
            .keymap
            .keys_for(&[crate::tui::keymap::Scope::Timeline], Action::ToggleMark)
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

/// The deletion plan of the current marks, with its warnings: one pass over the marks.
pub fn build_plan(state: &AppState) -> Plan {
    let mut plan = Plan {
        groups: Vec::new(),
        expect: Vec::new(),
        entries: 0,
        bytes: state.marks.freed(),
        warnings: Vec::new(),
        targets: Vec::new(),
    };
    let marked = marked_entries(state);
    let mut pinned = Vec::new();
    for (n, slot) in state.notebooks.iter().enumerate() {
        let Some(view) = &slot.view else {
            continue;
        };
        // (marked runs, newest marked) per cell.
        let mut per_cell = vec![(0usize, false); view.cells.len()];
        let mut touched: Vec<Arc<str>> = Vec::new();
        let mut ids = Vec::new();
        for &(_, id) in marked.iter().filter(|(m, _)| *m == n) {
            let Some((c, i)) = view.position(id) else {
                continue;
            };
            let Some(row) = view.cells[c].items[i].row().map(|r| &view.rows()[r]) else {
                continue;
            };
            if per_cell[c].0 == 0 {
                touched.push(view.cells[c].name.clone());
            }
            per_cell[c].0 += 1;
            per_cell[c].1 |=
                view.cells[c].items.first().and_then(|it| it.row()) == view.cells[c].items[i].row();
            if row.pinned {
                pinned.push(format!("{} · {} · {}", view.name(), row.cell, id.short()));
            }
            if plan.targets.len() < PLAN_LIST_MAX {
                plan.targets.push(PlanTarget {
                    notebook: view.name().to_string(),
                    cell: row.cell.clone(),
                    id,
                    created_at: row.created_at,
                    size: row.size,
                });
            }
            ids.push(id);
        }
        if ids.is_empty() {
            continue;
        }
        plan.entries += ids.len();
        plan.groups.push((view.name().to_string(), ids));
        plan.expect
            .push(crate::tui::jobs::Expected::of(&view.timeline, &touched));
        plan.warnings.extend(cell_warnings(view, &per_cell));
    }
    plan.warnings.extend(
        pinned
            .into_iter()
            .map(|p| format!("a pinned entry is marked: {p}")),
    );
    plan
}

fn cell_warnings<'a>(
    view: &'a crate::tui::data::NotebookView,
    per_cell: &'a [(usize, bool)],
) -> impl Iterator<Item = String> + 'a {
    per_cell
        .iter()
        .enumerate()
        .filter_map(move |(c, &(marked, newest))| {
            let cell = &view.cells[c];
            let name = format!("{} · {}", view.name(), cell.name);
            if marked == cell.runs && cell.runs == 1 {
                Some(format!("deletes the only run of {name}"))
            } else if marked == cell.runs {
                Some(format!("deletes every run of {name} ({} runs)", cell.runs))
            } else if newest {
                Some(format!("deletes the newest run of {name}"))
            } else {
                None
            }
        })
}

pub(super) fn plan_mode(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    let Mode::Plan { plan, scroll } = &mut state.mode else {
        return;
    };
    match action {
        Action::Confirm => {
            let groups = plan.groups.clone();
            let expect = plan.expect.clone();
            let text = format!("deleting {}…", entries(plan.entries));
            state.mode = Mode::Normal;
            apply(state, groups, expect, fx);
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

pub(super) fn apply(
    state: &mut AppState,
    groups: Vec<(String, Vec<EntryId>)>,
    expect: Vec<crate::tui::jobs::Expected>,
    fx: &mut Vec<Effect>,
) {
    let gens = reload_generations(state, groups.iter().map(|(nb, _)| nb.as_str()));
    state.writing += 1;
    fx.push(Effect::Job(Job::Remove {
        groups,
        expect,
        gens,
    }));
}

/// One new timeline generation per notebook a write touches, for the reloads after it.
fn reload_generations<'a>(
    state: &mut AppState,
    notebooks: impl Iterator<Item = &'a str>,
) -> Vec<u64> {
    let slots: Vec<Option<usize>> = notebooks.map(|nb| state.notebook_index(nb)).collect();
    slots
        .into_iter()
        .map(|n| n.map_or(0, |n| next_timeline_gen(state, n)))
        .collect()
}

/// `u`: reads the operation log (on a worker) for the operation to undo, then asks.
pub(super) fn ask_undo(state: &mut AppState, fx: &mut Vec<Effect>) {
    state.set_status(Level::Info, "reading the operation log…");
    fx.push(Effect::Job(Job::LastOp));
}

/// The operation `u` would undo, found: ask, naming it and what comes back.
pub(super) fn offer_undo(state: &mut AppState, found: Result<Option<Box<Operation>>, String>) {
    let op = match found {
        Ok(Some(op)) => op,
        Ok(None) => return state.set_status(Level::Info, "nothing to undo"),
        Err(e) => return state.set_status(Level::Error, format!("operation log: {e}")),
    };
    let entries_back: usize = op.changes.iter().map(ops::change_size).sum();
    let when = crate::tui::format::relative(state.now, op.header.at);
    let text = format!(
        "Undo {} {} ({when}, {}): {} — puts back {} as they were?",
        op.header.kind.name(),
        op.short_id(),
        op.header.command,
        op.end
            .as_ref()
            .map_or("did not finish", |e| e.summary.as_str()),
        entries(entries_back),
    );
    state.undo = Some(op);
    state.mode = Mode::Confirm(Confirm::Undo(text));
}

pub(super) fn confirm_mode(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
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

pub(super) fn undo(state: &mut AppState, fx: &mut Vec<Effect>) {
    let Some(op) = state.undo.take() else {
        return;
    };
    // Every loaded notebook is reloaded: the operation may have touched any.
    let notebooks: Vec<String> = state
        .notebooks
        .iter()
        .map(|s| s.info.notebook.clone())
        .collect();
    let gens = reload_generations(state, notebooks.iter().map(String::as_str));
    state.writing += 1;
    state.set_status(Level::Info, "undoing…");
    fx.push(Effect::Job(Job::Undo {
        op,
        notebooks,
        gens,
    }));
}
