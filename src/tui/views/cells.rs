//! The notebooks and their cells, with run counts and sizes.

use super::{layout, pad_line, pane_block, put_lines, title_line};
use crate::preview::sanitize;
use crate::tui::format::{fit, pad};
use crate::tui::state::{AppState, CellRow, Pane};
use crate::tui::theme::ThemeRole;
use celltime_store::units::compact_bytes;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

pub fn render(state: &AppState, area: Rect, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    let title = if state.filter.is_empty() {
        "Cells".to_string()
    } else {
        format!("Cells /{}", sanitize(&state.filter))
    };
    pane_block(state, Pane::Cells, title_line(theme, title)).render(area, buf);
    let inner = layout::inner(area);
    let height = inner.height as usize;
    let width = inner.width as usize;
    if let Some(message) = empty_message(state) {
        put_lines(
            vec![Line::styled(message, theme.style(ThemeRole::Dim))],
            inner,
            buf,
        );
        return;
    }
    let offset = layout::follow(
        state.cells.offset,
        state.cells.cursor,
        height,
        state.cell_rows.len(),
    );
    let lines = state
        .cell_rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, row)| {
            let line = row_line(state, *row, width);
            if i == state.cells.cursor {
                let role = if state.focus == Pane::Cells {
                    ThemeRole::Selected
                } else {
                    ThemeRole::SelectedUnfocused
                };
                pad_line(line, width).patch_style(theme.style(role))
            } else {
                line
            }
        })
        .collect();
    put_lines(lines, inner, buf);
}

fn empty_message(state: &AppState) -> Option<String> {
    if let Some(e) = &state.notebooks_error {
        return Some(format!("cannot list notebooks: {}", sanitize(e)));
    }
    if state.notebooks_loading && state.notebooks.is_empty() {
        return Some("loading…".into());
    }
    if state.notebooks.is_empty() {
        return Some("no cached runs yet: run a notebook with caching on".into());
    }
    None
}

fn row_line(state: &AppState, row: CellRow, width: usize) -> Line<'static> {
    let theme = &state.ui.theme;
    match row {
        CellRow::Notebook(n) => {
            let slot = &state.notebooks[n];
            let arrow = if slot.expanded { "▾ " } else { "▸ " };
            let note = if slot.loading && slot.view.is_none() {
                " loading…".to_string()
            } else if slot.error.is_some() {
                " error".to_string()
            } else {
                String::new()
            };
            let name = fit(
                &sanitize(&slot.info.notebook),
                width.saturating_sub(2 + note.len()),
            );
            Line::from(vec![
                Span::styled(format!("{arrow}{name}"), theme.style(ThemeRole::Header)),
                Span::styled(note, theme.style(ThemeRole::Dim)),
            ])
        }
        CellRow::Cell(n, c) => {
            let Some(view) = state.view(n) else {
                return Line::default();
            };
            let cell = &view.cells[c];
            let numbers = format!(
                "{:>4} {:>5}",
                compact_runs(cell.runs),
                compact_bytes(cell.bytes)
            );
            let name_width = width.saturating_sub(numbers.len() + 3);
            // Numbers give way to the name on narrow panes.
            let (numbers, name_width) = if name_width < 8 {
                (String::new(), width.saturating_sub(3))
            } else {
                (numbers, name_width)
            };
            let name = pad(&sanitize(&cell.name), name_width);
            let pin = if cell.pinned > 0 { "◆" } else { " " };
            Line::from(vec![
                Span::raw("  "),
                Span::raw(name),
                Span::styled(pin.to_string(), theme.style(ThemeRole::Pinned)),
                Span::styled(numbers, Style::default().patch(theme.style(ThemeRole::Dim))),
            ])
        }
    }
}

/// Run counts in four columns: `999`, `12k`.
fn compact_runs(n: usize) -> String {
    if n < 10_000 {
        n.to_string()
    } else {
        format!("{}k", n / 1000)
    }
}
