//! Prompts and the full-screen views (compare, time machine, help).

use super::Effect;
use super::marking::{keep_newest, loaded_notebooks};
use super::navigation::{rebuild_cells, scroll, search};
use crate::preview::human_bytes;
use crate::tui::action::Action;
use crate::tui::format::entries;
use crate::tui::jobs::Job;
use crate::tui::policy::PolicyMarks;
use crate::tui::state::{AppState, Level, Mode, Prompt, PromptKind};
use crate::tui::views::layout;
use celltime_store::model::EntryId;
use std::collections::HashMap;

pub(super) fn prompt(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    let Mode::Prompt(p) = &mut state.mode else {
        return;
    };
    match action {
        Action::Insert(c) => p.input.push(c),
        Action::DeleteChar => {
            p.input.pop();
        }
        Action::ClearInput => p.input.clear(),
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
            submit(state, kind, input.trim(), fx);
            return;
        }
        _ => return,
    }
    if p.kind == PromptKind::Filter {
        state.filter = p.input.clone();
        rebuild_cells(state);
    }
}

pub(super) fn submit(state: &mut AppState, kind: PromptKind, input: &str, fx: &mut Vec<Effect>) {
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
        PromptKind::Policy => mark_by_policy(state, input, fx),
    }
}

/// Parses the policy here (errors show at once), plans on a worker.
fn mark_by_policy(state: &mut AppState, text: &str, fx: &mut Vec<Effect>) {
    state.last_policy = text.to_string();
    let policy = match crate::cli::policy_args::policy_from_text(text) {
        Ok(p) => p,
        Err(e) => return state.set_status(Level::Error, format!("policy: {e}")),
    };
    let views = loaded_notebooks(state);
    if views.is_empty() {
        return state.set_status(Level::Warning, "nothing is loaded yet");
    }
    state.set_status(Level::Info, "planning…");
    fx.push(Effect::Job(Job::Policy {
        views,
        policy: Box::new(policy),
        now: state.now,
        tz: state.ui.tz,
    }));
}

/// Marks what the policy removes; kept rows show why they stay.
pub(super) fn policy_planned(state: &mut AppState, result: Result<PolicyMarks, String>) {
    let marks = match result {
        Ok(m) => m,
        Err(e) => return state.set_status(Level::Error, format!("policy: {e}")),
    };
    let mut rows: HashMap<String, Vec<usize>> = HashMap::new();
    for (notebook, id) in &marks.remove {
        let Some(view) = state.notebook_index(notebook).and_then(|n| state.view(n)) else {
            continue;
        };
        if let Some(row) = view
            .position(*id)
            .and_then(|(c, i)| view.cells[c].items[i].row())
        {
            rows.entry(notebook.clone()).or_default().push(row);
        }
    }
    let mut marked = 0;
    for (notebook, rows) in rows {
        if let Some(view) = state
            .notebook_index(&notebook)
            .and_then(|n| state.view(n))
            .cloned()
        {
            marked += state.marks.set(&view, &rows, true);
        }
    }
    state.keep_reasons = marks.keep.into_iter().collect();
    state.set_status(
        Level::Info,
        format!(
            "the policy removes {}: {} newly marked, frees {} in all; kept runs show why (D reviews)",
            entries(marks.remove.len()),
            marked,
            human_bytes(state.marks.freed())
        ),
    );
}

pub(super) fn overlay(state: &mut AppState, action: Action) {
    let page = layout::main_page(state);
    match (&mut state.mode, action) {
        (_, Action::Close) => state.mode = Mode::Normal,
        (Mode::Help { scroll } | Mode::Compare { scroll, .. }, a) => {
            *scroll = self::scroll(*scroll, a, page)
        }
        _ => {}
    }
}

/// `c`: the selected run's results against the marked base (`b`), or, without a base, the
/// non-deterministic alternatives of its module hash against the first.
pub(super) fn open_compare(state: &mut AppState) {
    let Some((view, row)) = state.selected_row() else {
        return;
    };
    if let Some(base) = state.details.base.clone()
        && (base.0.as_str(), base.1) != (view.name(), row.id)
    {
        state.mode = Mode::Compare {
            notebook: view.name().to_string(),
            ids: vec![row.id],
            base: Some(base),
            scroll: 0,
        };
        return;
    }
    let versions: Vec<EntryId> = view.versions_of(row.id).iter().map(|r| r.id).collect();
    if versions.len() < 2 {
        state.set_status(
            Level::Info,
            "this code ran as one version only: mark a base run with b, then c compares results with it",
        );
        return;
    }
    state.mode = Mode::Compare {
        notebook: view.name().to_string(),
        ids: versions,
        base: None,
        scroll: 0,
    };
}

pub(super) fn open_time_machine(state: &mut AppState) {
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

pub(super) fn time_machine(state: &mut AppState, action: Action) {
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
