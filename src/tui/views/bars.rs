//! The title line, the status line (messages, prompts, marks summary) and the hint bar.

use super::put_lines;
use crate::preview::{human_bytes, sanitize};
use crate::tui::state::{AppState, Level, Mode, PromptKind};
use crate::tui::theme::ThemeRole;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use unicode_width::UnicodeWidthStr;

pub fn title(state: &AppState, area: Rect, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    let entries: usize = state.notebooks.iter().map(|s| s.info.entries).sum();
    let bytes: u64 = state.notebooks.iter().map(|s| s.info.bytes).sum();
    let summary = if state.notebooks_loading && state.notebooks.is_empty() {
        "loading…".to_string()
    } else {
        format!(
            "{} · {} · {}",
            celltime_store::units::count(state.notebooks.len(), "notebook", "notebooks"),
            celltime_store::units::count(entries, "entry", "entries"),
            human_bytes(bytes)
        )
    };
    let line = Line::from(vec![
        Span::styled(" celltime ", theme.style(ThemeRole::Title)),
        Span::styled(sanitize(&state.location), theme.style(ThemeRole::Dim)),
        Span::raw("  "),
        Span::raw(summary),
    ]);
    put_lines(vec![line], area, buf);
}

fn prompt_label(state: &AppState, kind: PromptKind) -> String {
    let cell = state
        .current_cell()
        .map(|(v, c)| sanitize(&v.cells[c].name))
        .unwrap_or_default();
    match kind {
        PromptKind::Filter => "filter cells: ".into(),
        PromptKind::Search => "search runs (id, module hash, version, time): ".into(),
        PromptKind::KeepNewestCell => {
            format!("keep the newest N runs of {cell}, mark the rest; N = ")
        }
        PromptKind::KeepNewestAll => format!(
            "keep the newest N runs of every cell of {}, mark the rest; N = ",
            crate::tui::update::coverage(state)
        ),
        PromptKind::Policy => format!(
            "mark what this policy removes from {} (as celltime prune): ",
            crate::tui::update::coverage(state)
        ),
    }
}

pub fn status(state: &AppState, area: Rect, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    let left = match &state.mode {
        Mode::Prompt(p) => Line::from(vec![
            Span::styled(prompt_label(state, p.kind), theme.style(ThemeRole::HintKey)),
            Span::raw(sanitize(&p.input)),
            Span::styled("█", theme.style(ThemeRole::Dim)),
        ]),
        Mode::Visual { .. } => Line::styled(
            "-- visual: move to extend, space marks the range --",
            theme.style(ThemeRole::Info),
        ),
        _ => match &state.status {
            Some(s) => {
                let role = match s.level {
                    Level::Info => ThemeRole::Info,
                    Level::Warning => ThemeRole::Warning,
                    Level::Error => ThemeRole::Error,
                };
                Line::styled(sanitize(&s.text), theme.style(role))
            }
            None if state.writing > 0 => Line::styled("working…", theme.style(ThemeRole::Dim)),
            None => Line::default(),
        },
    };
    // An error gets the whole line; the marks summary returns with the next message.
    let error = state
        .status
        .as_ref()
        .is_some_and(|s| s.level == Level::Error);
    let right = if error {
        Line::default()
    } else {
        marks_summary(state)
    };
    let right_width = right.width() as u16;
    let left_area = Rect {
        width: area.width.saturating_sub(right_width + 1),
        ..area
    };
    left.render(left_area, buf);
    right.alignment(Alignment::Right).render(area, buf);
}

fn marks_summary(state: &AppState) -> Line<'static> {
    let theme = &state.ui.theme;
    let count = state.marks.count();
    if count == 0 {
        return Line::default();
    }
    Line::from(vec![
        Span::styled(format!("✗ {count} marked"), theme.style(ThemeRole::Marked)),
        Span::raw(format!(" · frees {} ", human_bytes(state.marks.freed()))),
    ])
}

/// As many hints as fit whole; the rest are in the help.
pub fn hints(state: &AppState, area: Rect, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, label) in state.ui.keymap.hints(state.scopes()) {
        let key = format!(" {key}");
        let label = format!(" {label} ");
        used += key.width() + label.width();
        if used > area.width as usize {
            break;
        }
        spans.push(Span::styled(key, theme.style(ThemeRole::HintKey)));
        spans.push(Span::styled(label, theme.style(ThemeRole::Hint)));
    }
    put_lines(vec![Line::from(spans)], area, buf);
}
