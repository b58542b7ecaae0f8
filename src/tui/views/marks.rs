//! The marks pane: every marked entry, with the count and the bytes deleting them frees.

use super::{layout, pad_line, pane_block, put_lines, title_line};
use crate::preview::{human_bytes, sanitize};
use crate::tui::format::{entries, pad, relative};
use crate::tui::state::{AppState, Pane};
use crate::tui::theme::ThemeRole;
use crate::tui::update::marked_entries;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

pub fn render(state: &AppState, area: Rect, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    let title = format!(
        "Marked {} · frees {}",
        entries(state.marks.count()),
        human_bytes(state.marks.freed())
    );
    pane_block(state, Pane::Marks, title_line(theme, title)).render(area, buf);
    let inner = layout::inner(area);
    let entries = marked_entries(state);
    if entries.is_empty() {
        let text = "nothing marked: space marks a run, v a range, a/A all but the newest";
        put_lines(
            vec![Line::styled(text, theme.style(ThemeRole::Dim))],
            inner,
            buf,
        );
        return;
    }
    let height = inner.height as usize;
    let width = inner.width as usize;
    let offset = layout::follow(
        state.marks_list.offset,
        state.marks_list.cursor,
        height,
        entries.len(),
    );
    let lines = entries
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, &(n, id))| {
            let Some(row) = state.view(n).and_then(|v| v.row(id)) else {
                return Line::default();
            };
            let notebook = &state.notebooks[n].info.notebook;
            let place = format!("{} · {}", sanitize(notebook), sanitize(&row.cell));
            let line = Line::from(vec![
                Span::styled("✗ ", theme.style(ThemeRole::Marked)),
                Span::raw(pad(&place, width.saturating_sub(34).max(8))),
                Span::raw(format!(" {} ", id.short())),
                Span::styled(
                    pad(&relative(state.now, row.created_at), 9),
                    theme.style(ThemeRole::Dim),
                ),
                Span::raw(format!("{:>10}", human_bytes(row.size))),
            ]);
            if i == state.marks_list.cursor && state.focus == Pane::Marks {
                pad_line(line, width).patch_style(theme.style(ThemeRole::Selected))
            } else {
                line
            }
        })
        .collect();
    put_lines(lines, inner, buf);
}
