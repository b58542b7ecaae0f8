//! The selected cell's runs, newest first: only the visible rows are built.

use super::{layout, pad_line, pane_block, put_lines, title_line};
use crate::preview::{human_bytes, sanitize};
use crate::tui::data::{Item, NotebookView, Sibling};
use crate::tui::format::{absolute_short, fit, pad, relative, short_hash};
use crate::tui::state::{AppState, Mode, Pane};
use crate::tui::theme::ThemeRole;
use celltime_store::model::{PartKind, Row};
use celltime_store::units::compact_bytes;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

pub fn render(state: &AppState, area: Rect, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    let inner = layout::inner(area);
    let Some((view, c)) = state.current_cell() else {
        pane_block(state, Pane::Timeline, title_line(theme, "Timeline".into())).render(area, buf);
        put_lines(
            vec![Line::styled(
                placeholder(state),
                theme.style(ThemeRole::Dim),
            )],
            inner,
            buf,
        );
        return;
    };
    let cell = &view.cells[c];
    let mut title = format!(
        "{} · {} · {}",
        sanitize(&cell.name),
        celltime_store::units::count(cell.runs, "run", "runs"),
        human_bytes(cell.bytes)
    );
    if let Some(search) = state.search.as_ref().filter(|s| s.cell == c) {
        title.push_str(&format!(
            " · /{} {} hits",
            sanitize(&search.query),
            search.matches.len()
        ));
    }
    pane_block(state, Pane::Timeline, title_line(theme, title)).render(area, buf);
    let height = inner.height as usize;
    let items = &cell.items;
    // After "mark by policy": room for why each kept run stays, up to half the width.
    let reserve = state
        .keep_reasons
        .values()
        .map(|r| r.chars().count() + 7)
        .max()
        .unwrap_or(0)
        .min(inner.width as usize / 2);
    let offset = layout::follow(
        state.timeline.offset,
        state.timeline.cursor,
        height,
        items.len(),
    );
    let lines = items
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, item)| item_line(state, view, *item, i, (inner.width as usize, reserve)))
        .collect();
    put_lines(lines, inner, buf);
}

fn placeholder(state: &AppState) -> String {
    match state.selected_cell() {
        Some((n, None)) => {
            let slot = &state.notebooks[n];
            format!(
                "{}: {}, {}; choose a cell",
                sanitize(&slot.info.notebook),
                celltime_store::units::count(slot.info.cells, "cell", "cells"),
                celltime_store::units::count(slot.info.entries, "entry", "entries")
            )
        }
        Some((n, Some(_))) if state.view(n).is_none() => "loading…".into(),
        _ => String::new(),
    }
}

fn item_line(
    state: &AppState,
    view: &NotebookView,
    item: Item,
    index: usize,
    (width, reserve): (usize, usize),
) -> Line<'static> {
    let theme = &state.ui.theme;
    let Item::Row { row, sibling } = item else {
        let text = fit("╌╌ code changed ╌╌", width);
        let fill = "╌".repeat(width.saturating_sub(text.chars().count()));
        return Line::styled(format!("{text}{fill}"), theme.style(ThemeRole::Separator));
    };
    let row = &view.rows()[row as usize];
    let marked = state.marks.contains(view.name(), row.id);
    let hit = state.search.as_ref().is_some_and(|s| {
        state.selected_cell() == Some((s.notebook, Some(s.cell)))
            && s.matches.binary_search(&index).is_ok()
    });
    let mut line = row_line(state, row, sibling, (marked, hit), (width, reserve));
    let in_plan = matches!(state.mode, Mode::Plan { .. });
    if marked {
        let role = if in_plan {
            ThemeRole::Planned
        } else {
            ThemeRole::Marked
        };
        line = line.patch_style(theme.style(role));
    }
    if index == state.timeline.cursor {
        let role = if state.focus == Pane::Timeline {
            ThemeRole::Selected
        } else {
            ThemeRole::SelectedUnfocused
        };
        line = pad_line(line, width).patch_style(theme.style(role));
    } else if in_visual_range(state, index) {
        line = pad_line(line, width).patch_style(theme.style(ThemeRole::SelectedUnfocused));
    }
    line
}

fn in_visual_range(state: &AppState, index: usize) -> bool {
    match state.mode {
        Mode::Visual { anchor } => {
            let cursor = state.timeline.cursor;
            (anchor.min(cursor)..=anchor.max(cursor)).contains(&index)
        }
        _ => false,
    }
}

/// Which columns fit: relative time, id and version always; then module hash, size, parts,
/// absolute time.
struct Columns {
    absolute: bool,
    module: bool,
    size: bool,
    parts: bool,
}

fn columns(width: usize) -> Columns {
    Columns {
        module: width >= 37,
        size: width >= 43,
        parts: width >= 49,
        absolute: width >= 61,
    }
}

fn row_line(
    state: &AppState,
    row: &Row,
    sibling: Sibling,
    (marked, hit): (bool, bool),
    (width, reserve): (usize, usize),
) -> Line<'static> {
    let theme = &state.ui.theme;
    let cols = columns(width - reserve);
    let dim = theme.style(ThemeRole::Dim);
    let mut spans = vec![
        Span::styled(
            if marked { "✗" } else { " " },
            theme.style(ThemeRole::Marked),
        ),
        Span::styled(
            if row.pinned { "◆" } else { " " },
            theme.style(ThemeRole::Pinned),
        ),
        // An approximate time's `~` takes the gap before the time, so that the longest times
        // ("~just now", "~11mo ago") still leave a space before the id.
        Span::raw(if row.approximate_time { "~" } else { " " }),
        Span::raw(pad(&relative(state.now, row.created_at), 9)),
    ];
    if cols.absolute {
        spans.push(Span::styled(
            format!("{} ", absolute_short(row.created_at, state.ui.tz)),
            dim,
        ));
    }
    let id_style = if hit {
        theme.style(ThemeRole::Match)
    } else {
        Style::default()
    };
    spans.push(Span::styled(row.id.short(), id_style));
    spans.push(Span::raw(" "));
    if cols.module {
        spans.push(Span::styled(
            pad(&sanitize(short_hash(&row.module)), 8),
            dim,
        ));
        spans.push(Span::raw(" "));
    }
    let tree = match sibling {
        Sibling::Alone => " ",
        Sibling::Mid => "├",
        Sibling::Last => "└",
    };
    spans.push(Span::styled(tree, dim));
    spans.push(Span::raw(pad(&format!("v{}", sanitize(&row.version)), 4)));
    if cols.size {
        spans.push(Span::raw(format!("{:>6}", compact_bytes(row.size))));
    }
    if cols.parts {
        spans.push(Span::styled(format!(" {}", parts(row)), dim));
    }
    let mut line = Line::from(spans);
    if let Some(reason) = state.keep_reasons.get(&row.id) {
        let room = width.saturating_sub(line.width());
        let text = fit(&format!(" keep: {}", sanitize(reason)), room);
        line.spans
            .push(Span::styled(text, theme.style(ThemeRole::KeepReason)));
    }
    line
}

/// One letter per part kind present: Code, Variables, Outputs, console (S), Watched.
fn parts(row: &Row) -> String {
    [
        (PartKind::Code, 'C'),
        (PartKind::Variables, 'V'),
        (PartKind::Outputs, 'O'),
        (PartKind::Console, 'S'),
        (PartKind::Watched, 'W'),
    ]
    .iter()
    .map(|(kind, letter)| {
        if row.parts.contains(*kind) {
            *letter
        } else {
            '·'
        }
    })
    .collect()
}
