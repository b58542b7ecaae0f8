//! Rendering: pure functions of `&AppState` into a buffer. Only visible lines are built.

mod bars;
mod cells;
pub mod details;
mod dialogs;
mod full;
pub mod layout;
mod marks;
mod timeline;

use super::state::{AppState, Mode, Pane};
use super::theme::{Theme, ThemeRole};
use crate::preview::{self, Doc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Widget};

/// The whole screen.
pub struct Screen<'a>(pub &'a AppState);

impl Widget for Screen<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let state = self.0;
        let a = layout::areas(area);
        bars::title(state, a.title, buf);
        match &state.mode {
            Mode::Compare { .. } => full::compare(state, a.main, buf),
            Mode::TimeMachine { .. } => full::time_machine(state, a.main, buf),
            _ => {
                cells::render(state, a.cells, buf);
                timeline::render(state, a.timeline, buf);
                if state.marks_pane {
                    marks::render(state, a.details, buf);
                } else {
                    details::render(state, a.details, buf);
                }
            }
        }
        bars::status(state, a.status, buf);
        bars::hints(state, a.hints, buf);
        match &state.mode {
            Mode::Plan { plan, scroll } => dialogs::plan(state, plan, *scroll, a, buf),
            Mode::Confirm(kind) => dialogs::confirm(state, kind, a.main, buf),
            Mode::Help { scroll } => dialogs::help(state, *scroll, a.main, buf),
            _ => {}
        }
    }
}

/// A pane's frame; the focused pane's border stands out.
fn pane_block<'a>(state: &AppState, pane: Pane, title: Line<'a>) -> Block<'a> {
    let theme = &state.ui.theme;
    let focused = state.focus == pane && matches!(state.mode, Mode::Normal | Mode::Visual { .. });
    let (border, kind) = if focused {
        (theme.style(ThemeRole::BorderFocused), BorderType::Thick)
    } else {
        (theme.style(ThemeRole::Border), BorderType::Plain)
    };
    Block::bordered()
        .border_type(kind)
        .border_style(border)
        .title(title)
}

fn title_line(theme: &Theme, text: String) -> Line<'static> {
    Line::from(Span::styled(
        format!(" {text} "),
        theme.style(ThemeRole::Title),
    ))
}

/// A preview line as a styled ratatui line.
fn styled(theme: &Theme, line: &preview::Line) -> Line<'static> {
    Line::from(
        line.spans
            .iter()
            .map(|s| Span::styled(s.text.clone(), theme.preview(s.role)))
            .collect::<Vec<_>>(),
    )
}

/// The visible window of a document, with its "… N more lines" note as the last line.
fn doc_window(theme: &Theme, doc: &Doc, scroll: usize, height: usize) -> Vec<Line<'static>> {
    let total = doc.len();
    let start = scroll.min(total.saturating_sub(height));
    (start..total.min(start + height))
        .map(|i| match doc.lines.get(i) {
            Some(line) => styled(theme, line),
            None => Line::styled(
                doc.more_note().unwrap_or_default(),
                theme.style(ThemeRole::Dim),
            ),
        })
        .collect()
}

/// Writes lines top-down into an area, clipped.
fn put_lines(lines: Vec<Line<'_>>, area: Rect, buf: &mut Buffer) {
    for (i, line) in lines.into_iter().take(area.height as usize).enumerate() {
        let row = Rect {
            y: area.y + i as u16,
            height: 1,
            ..area
        };
        line.render(row, buf);
    }
}

/// A line padded with spaces to the full width, so a highlight spans the row.
fn pad_line(mut line: Line<'static>, width: usize) -> Line<'static> {
    let w = line.width();
    if w < width {
        line.spans.push(Span::raw(" ".repeat(width - w)));
    }
    line
}
