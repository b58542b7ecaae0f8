//! Asking for data (timelines, previews) and taking in what the jobs return.

use super::marking::build_plan;
use super::marking::offer_undo;
use super::modes::policy_planned;
use super::navigation::{jump_to, nearest_row, rebuild_cells};
use super::{Effect, start};
use crate::preview::human_bytes;
use crate::tui::format::entries;
use crate::tui::jobs::{Job, JobOutput, Loaded};
use crate::tui::previews::PreviewContext;
use crate::tui::state::{AppState, Level, ListPos, Mode, Pane, Tab, ViewKey};
use crate::tui::views::layout;
use celltime_store::model::{Applied, EntryId, HistoryError, HistoryResult, NotebookInfo};
use celltime_store::ops::Undone;
use std::collections::HashMap;

pub(super) fn reload(state: &mut AppState, fx: &mut Vec<Effect>) {
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
    state.reloading = true;
    state.set_status(Level::Info, RELOADING);
}

const RELOADING: &str = "reloading…";

/// Once everything a reload asked for is back, its status says so (an error it met stays).
fn finish_reload(state: &mut AppState) {
    if !state.reloading || state.notebooks_loading || state.notebooks.iter().any(|s| s.loading) {
        return;
    }
    state.reloading = false;
    if state.status.as_ref().is_some_and(|s| s.text == RELOADING) {
        let n = state.notebooks.len();
        state.set_status(
            Level::Info,
            format!(
                "reloaded {}",
                celltime_store::units::count(n, "notebook", "notebooks")
            ),
        );
    }
}

/// Something changed on disk: list the notebooks and reload the loaded timelines, keeping
/// cursor, marks and scroll (rows are found again by id); no status noise.
pub(super) fn follow(state: &mut AppState, fx: &mut Vec<Effect>) {
    for n in 0..state.notebooks.len() {
        if state.notebooks[n].view.is_some() || state.notebooks[n].error.is_some() {
            state.notebooks[n].error = None;
            let generation = next_timeline_gen(state, n);
            fx.push(Effect::Job(Job::Timeline {
                notebook: state.notebooks[n].info.notebook.clone(),
                generation,
            }));
        }
    }
    state.notebooks_gen += 1;
    fx.push(Effect::Job(Job::Notebooks {
        generation: state.notebooks_gen,
    }));
}

pub(super) fn next_timeline_gen(state: &mut AppState, n: usize) -> u64 {
    state.timeline_gen += 1;
    let slot = &mut state.notebooks[n];
    slot.generation = state.timeline_gen;
    slot.loading = true;
    state.timeline_gen
}

/// Requests what the screen needs and nobody has asked for yet: timelines, the preview.
pub(super) fn sync(state: &mut AppState, fx: &mut Vec<Effect>) {
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
        Mode::Compare {
            notebook,
            ids,
            base,
            ..
        } => {
            return Some(ViewKey::Compare {
                notebook: notebook.clone(),
                ids: ids.clone(),
                base: base.clone(),
            });
        }
        Mode::TimeMachine { notebook, stop, .. } => {
            let view = state.view(*notebook)?;
            return Some(ViewKey::TimeMachine {
                notebook: view.name().to_string(),
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
        (Tab::Diff, Some((nb, base))) if *nb == view.name() && *base != row.id => Some(*base),
        (Tab::Diff, _) => view.previous_code(row.id).map(|r| r.id),
        _ => None,
    };
    let width = match tab {
        Tab::Outputs => layout::inner(layout::of_state(state).details).width,
        _ => 0,
    };
    Some(ViewKey::Detail {
        notebook: view.name().to_string(),
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
                Some(Ok(preview)) => state.previews.insert(key, *preview),
                Some(Err(e)) => {
                    state.previews.failed.insert(key, e);
                }
                None => {}
            }
        }
        JobOutput::Removed {
            results,
            stale,
            timelines,
        } => match stale {
            Some(why) => stale_plan(state, &why, timelines),
            None => removed(state, results, timelines),
        },
        JobOutput::Policy(result) => policy_planned(state, result),
        JobOutput::LastOp(found) => offer_undo(state, found),
        JobOutput::Restored { result, timelines } => restored(state, result, timelines),
        JobOutput::Pinned {
            pinned,
            result,
            timeline,
        } => {
            state.writing = state.writing.saturating_sub(1);
            match result {
                Ok(n) => {
                    let verb = if pinned { "pinned" } else { "unpinned" };
                    state.set_status(Level::Info, format!("{verb} {}", entries(n)));
                }
                Err(e) => state.set_status(Level::Error, error_text(&e)),
            }
            apply_loaded(state, timeline);
        }
        JobOutput::Served {
            id,
            result,
            timeline,
        } => {
            state.writing = state.writing.saturating_sub(1);
            match result {
                Ok(()) => state.set_status(
                    Level::Info,
                    format!("marimo is now served {} for this cell's module", id.short()),
                ),
                Err(e) => state.set_status(Level::Error, error_text(&e)),
            }
            apply_loaded(state, timeline);
        }
    }
    let mut fx = Vec::new();
    sync(state, &mut fx);
    finish_reload(state);
    fx
}

/// "store is busy" errors say what to do.
pub(super) fn error_text(e: &HistoryError) -> String {
    if e.busy {
        format!("store is busy: {}; try again in a moment", e.message)
    } else {
        e.message.clone()
    }
}

pub(super) fn set_notebooks(state: &mut AppState, list: Vec<NotebookInfo>) {
    let mut old: HashMap<String, crate::tui::state::NotebookSlot> = state
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
            None => crate::tui::state::NotebookSlot {
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

pub(super) fn apply_loaded(state: &mut AppState, loaded: Loaded) {
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
            slot.info.entries = view.rows().len();
            slot.info.cells = view.cells.len();
            slot.info.bytes = view.bytes;
            slot.error = None;
            let dropped = state.marks.rebase(&view);
            slot.view = Some(view);
            if dropped > 0 {
                state.set_status(
                    Level::Warning,
                    format!(
                        "{} marked in {} vanished (removed elsewhere); their marks are dropped",
                        entries(dropped),
                        loaded.notebook
                    ),
                );
            }
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

pub(super) fn restore_timeline_cursor(
    state: &mut AppState,
    selected: Option<EntryId>,
    cursor: usize,
) {
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

pub(super) fn removed(
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
    if errors.is_empty() {
        state.set_status(
            Level::Info,
            format!(
                "deleted {} ({}); u undoes",
                entries(removed),
                human_bytes(bytes)
            ),
        );
    } else {
        let done = if removed == 0 {
            "nothing was deleted".to_string()
        } else {
            format!("deleted {}", entries(removed))
        };
        state.set_status(Level::Error, format!("{done}; {}", errors.join("; ")));
    }
}

/// The plan no longer held: nothing was deleted. The notebooks are reloaded (marks of runs
/// that vanished are dropped) and the new plan is shown.
fn stale_plan(state: &mut AppState, why: &str, timelines: Vec<Loaded>) {
    state.writing = state.writing.saturating_sub(1);
    for loaded in timelines {
        apply_loaded(state, loaded);
    }
    let text = format!("nothing was deleted: {why}");
    if state.marks.is_empty() {
        state.set_status(Level::Warning, format!("{text}; no marked run is left"));
        return;
    }
    let plan = build_plan(state);
    state.mode = Mode::Plan { plan, scroll: 0 };
    state.set_status(Level::Warning, format!("{text}; this is the new plan"));
}

pub(super) fn restored(
    state: &mut AppState,
    result: Result<Undone, String>,
    timelines: Vec<Loaded>,
) {
    state.writing = state.writing.saturating_sub(1);
    for loaded in timelines {
        apply_loaded(state, loaded);
    }
    match result {
        Ok(done) if done.failures.is_empty() => state.set_status(
            Level::Info,
            format!("undone: {} back as they were", entries(done.restored)),
        ),
        Ok(done) => state.set_status(
            Level::Error,
            format!(
                "undone in part: {} back; failed: {}",
                entries(done.restored),
                done.failures.join("; ")
            ),
        ),
        Err(e) => state.set_status(Level::Error, format!("undo failed: {e}")),
    }
}
