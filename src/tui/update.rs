//! The reducer: `update(state, action) -> effects` and `on_job(state, output) -> effects`.
//! Effects are data (jobs to run, quit); nothing here touches the disk or the terminal.

use super::action::Action;
use super::format::entries;
use super::jobs::Job;
use super::state::{AppState, Confirm, Level, Mode, Pane, Prompt, PromptKind, Tab};
use loading::follow;

mod loading;
mod marking;
mod modes;
mod navigation;
#[cfg(test)]
mod tests;

pub use loading::{desired_view, on_job};
use loading::{reload, sync};
use marking::{
    ask_keep_newest, ask_undo, confirm_mode, open_plan, pin, plan_mode, selected_rows, serve,
    set_base, toggle_marks_pane, toggle_selected, unmark_in_pane, visual,
};
use modes::{open_compare, open_time_machine, overlay, prompt, time_machine};
use navigation::{current_preview, focus_step, mouse, navigate, next_match, open, set_tab};

pub use marking::{build_plan, coverage, loaded_notebooks, marked_entries};

pub use navigation::{jump_to, rebuild_cells, row_matches};

#[derive(Debug, Clone)]
pub enum Effect {
    Job(Job),
    Quit,
    /// Something only the terminal around the UI can do (suspend, clipboard, a pager).
    Request(crate::tui::Request),
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
        Action::DiskChanged => follow(state, &mut fx),
        Action::Mouse(m) => mouse(state, m),
        // Ctrl-C cancels a prompt; anywhere else it quits at once, marks or not.
        Action::Interrupt if matches!(state.mode, Mode::Prompt(_)) => {
            prompt(state, Action::Cancel, &mut fx)
        }
        Action::Interrupt => {
            state.quit = true;
            fx.push(Effect::Quit);
        }
        Action::Suspend => fx.push(Effect::Request(crate::tui::Request::Suspend)),
        _ => match state.mode {
            Mode::Prompt(_) => prompt(state, action, &mut fx),
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
            let input = state
                .search
                .as_ref()
                .map(|s| s.query.clone())
                .unwrap_or_default();
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
        Serve => serve(state, fx),
        SetBase => set_base(state),
        MarksPane => toggle_marks_pane(state),
        OpenPlan => open_plan(state),
        Undo => ask_undo(state, fx),
        TimeMachine => open_time_machine(state),
        Compare => open_compare(state),
        MarkAllButNewest | MarkAllButNewestEverywhere => ask_keep_newest(state, action),
        MarkByPolicy => {
            state.mode = Mode::Prompt(Prompt {
                kind: PromptKind::Policy,
                input: state.last_policy.clone(),
            })
        }
        ClearMarks => {
            let n = state.marks.count();
            state.marks.clear();
            // The policy's reasons described those marks: they go with them.
            state.keep_reasons.clear();
            state.set_status(Level::Info, format!("unmarked {}", entries(n)));
        }
        Reload => reload(state, fx),
        NextTab | PrevTab => {
            let i = Tab::ALL
                .iter()
                .position(|t| *t == state.details.tab)
                .unwrap_or(0);
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
        Wrap => {
            state.details.wrap = !state.details.wrap;
            state.details.hscroll = 0;
        }
        ScrollLeft => state.details.hscroll = state.details.hscroll.saturating_sub(HSCROLL_STEP),
        ScrollRight => state.details.hscroll += HSCROLL_STEP,
        Zoom => {
            state.zoom = !state.zoom;
            if state.zoom {
                state.focus = if state.marks_pane {
                    Pane::Marks
                } else {
                    Pane::Details
                };
            }
        }
        CopyId => copy_id(state, fx),
        OpenExternal => open_external(state, fx),
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

/// Columns one sideways scroll moves.
const HSCROLL_STEP: usize = 8;

/// `y`: the selected run's full id to the clipboard.
fn copy_id(state: &mut AppState, fx: &mut Vec<Effect>) {
    let Some((_, row)) = state.selected_row() else {
        return state.set_status(Level::Info, "select a run first");
    };
    let id = row.id.to_hex();
    state.set_status(
        Level::Info,
        format!("copied {id} (OSC 52: the terminal must allow clipboard access)"),
    );
    fx.push(Effect::Request(crate::tui::Request::Copy(id)));
}

/// `o`: on the Outputs tab the run's first output as a file; elsewhere the tab's text.
fn open_external(state: &mut AppState, fx: &mut Vec<Effect>) {
    use crate::tui::open::Target;
    let Some((view, row)) = state.selected_row() else {
        return state.set_status(Level::Info, "select a run first");
    };
    let target = if state.details.tab == Tab::Outputs {
        if !row.parts.contains(celltime_store::model::PartKind::Outputs) {
            return state.set_status(Level::Info, "this run has no output");
        }
        Target::Output {
            notebook: view.name().to_string(),
            id: row.id,
        }
    } else {
        let Some(text) = current_preview(state).map(|p| p.text()) else {
            return state.set_status(Level::Info, "nothing is shown yet");
        };
        Target::Text {
            name: format!(
                "{}-{}",
                row.id.short(),
                state.details.tab.title().to_lowercase()
            ),
            text,
        }
    };
    fx.push(Effect::Request(crate::tui::Request::Open(target)));
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
