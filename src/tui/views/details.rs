//! The details pane: tabs, and the selected run's code, diff, outputs, variables, console
//! or meta, as far as it has been loaded.

use super::layout::{self, LONG_TABS_FROM, tab_label, tab_positions};
use super::{Fit, clip, doc_window, pad_line, pane_block, put_lines, styled, title_line};
use crate::preview::diff::SplitRow;
use crate::preview::{CodeDiff, DiffKind, DiffLine, Doc};
use crate::tui::state::{AppState, Body, Pane, Preview, Tab};
use crate::tui::theme::{Theme, ThemeRole};
use crate::tui::update::desired_view;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

pub fn render(state: &AppState, area: Rect, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    let title = match state.selected_row() {
        Some((_, row)) => format!("Details · {}", row.id.short()),
        None => "Details".into(),
    };
    pane_block(state, Pane::Details, title_line(theme, title)).render(area, buf);
    let inner = layout::inner(area);
    tabs(state, inner, buf);
    let body = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let Some(key) = desired_view(state) else {
        let text = if state.current_cell().is_some() {
            ""
        } else {
            "select a cell, then a run"
        };
        put_lines(
            vec![Line::styled(text, theme.style(ThemeRole::Dim))],
            body,
            buf,
        );
        return;
    };
    if let Some(preview) = state.previews.get(&key) {
        content(state, preview, body, buf);
    } else if let Some(error) = state.previews.failed.get(&key) {
        let text = format!("could not load: {}", crate::preview::sanitize(error));
        put_lines(
            vec![Line::styled(text, theme.style(ThemeRole::Error))],
            body,
            buf,
        );
    } else {
        put_lines(
            vec![Line::styled("loading…", theme.style(ThemeRole::Dim))],
            body,
            buf,
        );
    }
}

fn tabs(state: &AppState, inner: Rect, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    let long = inner.width >= LONG_TABS_FROM;
    let spans: Vec<Span> = tab_positions(inner)
        .into_iter()
        .map(|(t, _, _)| {
            let role = if t == state.details.tab {
                ThemeRole::TabActive
            } else {
                ThemeRole::Tab
            };
            Span::styled(format!(" {} ", tab_label(t, long)), theme.style(role))
        })
        .collect();
    put_lines(vec![Line::from(spans)], inner, buf);
}

fn content(state: &AppState, preview: &Preview, area: Rect, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    if area.height == 0 {
        return;
    }
    put_lines(
        vec![Line::styled(
            crate::preview::sanitize(&preview.title),
            theme.style(ThemeRole::Dim),
        )],
        area,
        buf,
    );
    let area = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    // An image takes the lower two thirds; the parts' text stays above it.
    let area = match &preview.picture {
        Some(picture) if state.details.tab == Tab::Outputs && area.height >= 6 => {
            let text = (area.height / 3).max(2);
            let image = Rect {
                y: area.y + text,
                height: area.height - text,
                ..area
            };
            state.ui.pictures.draw(picture, image, buf);
            Rect {
                height: text,
                ..area
            }
        }
        _ => area,
    };
    let height = area.height as usize;
    let scroll = state.details.scroll;
    match &preview.body {
        Body::Doc(doc) => {
            // Prose wraps; code keeps its layout and Meta its line numbers (parent jumps).
            let prose = matches!(
                state.details.tab,
                Tab::Outputs | Tab::Variables | Tab::Console
            );
            let fit = if prose {
                Fit::prose(state, area.width)
            } else {
                Fit::Clip {
                    from: state.details.hscroll,
                    width: area.width as usize,
                }
            };
            let mut lines = doc_window(theme, doc, scroll, height, fit);
            highlight_parent(state, preview, doc, scroll, height, &mut lines, area.width);
            put_lines(lines, area, buf);
        }
        Body::Diff(diff) if state.split_diff() => {
            split(theme, diff, scroll, state.details.hscroll, area, buf)
        }
        Body::Diff(diff) => {
            let lines = unified(theme, diff, scroll, height)
                .into_iter()
                .map(|l| clip(theme, l, state.details.hscroll, area.width as usize))
                .collect();
            put_lines(lines, area, buf)
        }
    }
}

/// On the Meta tab, the parent Enter would jump to.
fn highlight_parent(
    state: &AppState,
    preview: &Preview,
    doc: &Doc,
    scroll: usize,
    height: usize,
    lines: &mut [Line<'static>],
    width: u16,
) {
    if preview.parents.is_empty() || state.focus != Pane::Details {
        return;
    }
    let start = scroll.min(doc.len().saturating_sub(height));
    let target = preview.parents_at + state.details.parent_cursor;
    if let Some(line) = target.checked_sub(start).and_then(|i| lines.get_mut(i)) {
        let padded = pad_line(std::mem::take(line), width as usize);
        *line = padded.patch_style(state.ui.theme.style(ThemeRole::Selected));
    }
}

fn sign(kind: DiffKind) -> &'static str {
    match kind {
        DiffKind::Added => "+",
        DiffKind::Removed => "-",
        DiffKind::Context | DiffKind::Hunk => " ",
    }
}

fn number(n: Option<u32>) -> String {
    n.map_or("    ".into(), |n| format!("{n:>4}"))
}

fn diff_line(theme: &Theme, line: &DiffLine, gutter: String) -> Line<'static> {
    if line.kind == DiffKind::Hunk {
        return styled(theme, &line.line);
    }
    let mut out = styled(theme, &line.line);
    let sign_role = match line.kind {
        DiffKind::Added => ThemeRole::Added,
        DiffKind::Removed => ThemeRole::Removed,
        _ => ThemeRole::Dim,
    };
    out.spans
        .insert(0, Span::styled(gutter, theme.style(ThemeRole::Dim)));
    out.spans
        .insert(1, Span::styled(sign(line.kind), theme.style(sign_role)));
    out
}

fn unified(theme: &Theme, diff: &CodeDiff, scroll: usize, height: usize) -> Vec<Line<'static>> {
    let start = scroll.min(diff.lines.len().saturating_sub(height));
    diff.lines[start..(start + height).min(diff.lines.len())]
        .iter()
        .map(|l| {
            diff_line(
                theme,
                l,
                format!("{} {} ", number(l.old_no), number(l.new_no)),
            )
        })
        .collect()
}

fn split(theme: &Theme, diff: &CodeDiff, scroll: usize, from: usize, area: Rect, buf: &mut Buffer) {
    let height = area.height as usize;
    let half = area.width.saturating_sub(1) / 2;
    let left = Rect {
        width: half,
        ..area
    };
    let divider = Rect {
        x: area.x + half,
        width: 1,
        ..area
    };
    let right = Rect {
        x: area.x + half + 1,
        width: area.width.saturating_sub(half + 1),
        ..area
    };
    let start = scroll.min(diff.split.len().saturating_sub(height));
    let rows = &diff.split[start..(start + height).min(diff.split.len())];
    let side = |pick: fn(&SplitRow) -> Option<u32>, old: bool, width: u16| -> Vec<Line<'static>> {
        rows.iter()
            .map(|r| match pick(r).map(|i| &diff.lines[i as usize]) {
                Some(l) => {
                    let no = if old { l.old_no } else { l.new_no };
                    let line = diff_line(theme, l, format!("{} ", number(no)));
                    clip(theme, line, from, width as usize)
                }
                None => Line::default(),
            })
            .collect()
    };
    put_lines(side(|r| r.0, true, left.width), left, buf);
    put_lines(side(|r| r.1, false, right.width), right, buf);
    let bar: Vec<Line> = (0..rows.len())
        .map(|_| Line::styled("│", theme.style(ThemeRole::Border)))
        .collect();
    put_lines(bar, divider, buf);
}
