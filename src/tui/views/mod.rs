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
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The whole screen.
pub struct Screen<'a>(pub &'a AppState);

impl Widget for Screen<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let state = self.0;
        let a = layout::areas_zoomed(area, state.zoom);
        bars::title(state, a.title, buf);
        match &state.mode {
            Mode::Compare { .. } => full::compare(state, a.main, buf),
            Mode::TimeMachine { .. } => full::time_machine(state, a.main, buf),
            _ => {
                if !state.zoom {
                    cells::render(state, a.cells, buf);
                    timeline::render(state, a.timeline, buf);
                }
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

/// How lines wider than their pane are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Continued on the next rows; table rows, which never wrap, are clipped from `from`.
    Wrap { width: usize, from: usize },
    /// Cut to `width` columns from column `from`, with a marker where they are cut.
    Clip { from: usize, width: usize },
}

impl Fit {
    /// Prose (outputs, variables, console, results): wrapped while wrapping is on, else cut and
    /// scrolled sideways.
    pub fn prose(state: &AppState, width: u16) -> Fit {
        let (width, from) = (width as usize, state.details.hscroll);
        if state.details.wrap {
            Fit::Wrap { width, from }
        } else {
            Fit::Clip { from, width }
        }
    }
}

/// The visible window of a document, with its "… N more lines" note as the last line.
/// Wrapped lines continue on the next rows (scrolling still counts source lines).
fn doc_window(
    theme: &Theme,
    doc: &Doc,
    scroll: usize,
    height: usize,
    fit: Fit,
) -> Vec<Line<'static>> {
    let total = doc.len();
    let start = match fit {
        Fit::Wrap { .. } => scroll.min(total.saturating_sub(1)),
        Fit::Clip { .. } => scroll.min(total.saturating_sub(height)),
    };
    let mut rows = Vec::with_capacity(height);
    for i in start..total {
        if rows.len() >= height {
            break;
        }
        match (doc.lines.get(i), fit) {
            // Table rows keep their columns aligned: cut and scrolled sideways, never wrapped.
            (Some(line), Fit::Wrap { width, from }) if line.grid => {
                rows.push(clip(theme, styled(theme, line), from, width))
            }
            (Some(line), Fit::Wrap { width, .. }) => {
                rows.extend(wrap_line(line, width).iter().map(|l| styled(theme, l)));
            }
            (Some(line), Fit::Clip { from, width }) => {
                rows.push(clip(theme, styled(theme, line), from, width))
            }
            (None, _) => rows.push(Line::styled(
                doc.more_note().unwrap_or_default(),
                theme.style(ThemeRole::Dim),
            )),
        }
    }
    rows.truncate(height);
    rows
}

/// Where a clipped line is cut: on the left after a sideways scroll, on the right when it
/// goes on past the pane.
pub const CUT_LEFT: char = '‹';
pub const CUT_RIGHT: char = '›';

/// `line` from column `from`, at most `width` columns wide, with [`CUT_LEFT`] and
/// [`CUT_RIGHT`] where text is cut off.
fn clip(theme: &Theme, line: Line<'static>, from: usize, width: usize) -> Line<'static> {
    let mut cells: Vec<(char, ratatui::style::Style)> = Vec::new();
    let mut col = 0;
    let mut used = 0;
    let mut cut_right = false;
    for span in &line.spans {
        let style = line.style.patch(span.style);
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if col < from {
                col += w;
                continue;
            }
            if used + w > width {
                cut_right = true;
                break;
            }
            cells.push((c, style));
            used += w;
        }
        if cut_right {
            break;
        }
    }
    let cut_left = from > 0 && col > 0;
    let marker = theme.style(ThemeRole::Dim);
    if cut_right {
        while used + 1 > width
            && cells.pop().is_some_and(|(c, _)| {
                used -= c.width().unwrap_or(0);
                true
            })
        {}
        cells.push((CUT_RIGHT, marker));
    }
    if cut_left && !cells.is_empty() {
        let first = cells.remove(0);
        if first.0.width().unwrap_or(0) > 1 {
            cells.insert(0, (' ', first.1));
        }
        cells.insert(0, (CUT_LEFT, marker));
    }
    let mut spans: Vec<Span<'static>> = Vec::new();
    for (c, style) in cells {
        match spans.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push(c),
            _ => spans.push(Span::styled(c.to_string(), style)),
        }
    }
    Line::from(spans)
}

/// Splits a line into rows of at most `width` columns, at spaces where it can.
fn wrap_line(line: &preview::Line, width: usize) -> Vec<preview::Line> {
    let width = width.max(1);
    let mut rows = vec![preview::Line::default()];
    let mut used = 0;
    for span in &line.spans {
        for word in span.text.split_inclusive(' ') {
            let w = word.width();
            if used + w > width && used > 0 {
                rows.push(preview::Line::default());
                used = 0;
            }
            for c in word.chars() {
                let cw = c.width().unwrap_or(0);
                if used + cw > width {
                    rows.push(preview::Line::default());
                    used = 0;
                }
                push_char(rows.last_mut().expect("one row at least"), c, span.role);
                used += cw;
            }
        }
    }
    rows
}

/// Appends already-sanitised text (no escaping again).
fn push_char(line: &mut preview::Line, c: char, role: preview::Role) {
    match line.spans.last_mut() {
        Some(last) if last.role == role => last.text.push(c),
        _ => line.spans.push(preview::Span {
            text: c.to_string(),
            role,
        }),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::Role;

    #[test]
    fn clipped_lines_show_where_they_are_cut() {
        let theme = Theme::new(false);
        let text = |l: Line| {
            l.spans
                .iter()
                .map(|s| s.content.to_string())
                .collect::<String>()
        };
        let line = || Line::from("0123456789abcdef");
        assert_eq!(text(clip(&theme, line(), 0, 8)), "0123456›");
        assert_eq!(text(clip(&theme, line(), 4, 8)), "‹56789a›");
        assert_eq!(text(clip(&theme, line(), 10, 8)), "‹bcdef");
        assert_eq!(text(clip(&theme, line(), 0, 16)), "0123456789abcdef");
        assert_eq!(text(clip(&theme, Line::from("short"), 0, 8)), "short");
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_keeps_roles() {
        let mut line = preview::Line::plain("alpha beta ", Role::Text);
        line.push("gammadeltaepsilon", Role::AddedEmph);
        let rows: Vec<String> = wrap_line(&line, 8).iter().map(|l| l.text()).collect();
        assert_eq!(rows, ["alpha ", "beta ", "gammadel", "taepsilo", "n"]);
        assert_eq!(wrap_line(&line, 8)[2].spans[0].role, Role::AddedEmph);
    }
}
