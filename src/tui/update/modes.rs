//! Prompts and the full-screen views (compare, time machine, help).

use super::*;

pub(super) fn prompt(state: &mut AppState, action: Action) {
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

pub(super) fn submit(state: &mut AppState, kind: PromptKind, input: &str) {
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

pub(super) fn open_compare(state: &mut AppState) {
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
