//! Full-screen views: results compared (with a marked base, or the alternatives of one
//! module hash), and the time machine.

use super::{Fit, doc_window, layout, put_lines, title_line};
use crate::preview::sanitize;
use crate::tui::format::{absolute, relative};
use crate::tui::state::{AppState, Body, Mode, Preview};
use crate::tui::theme::ThemeRole;
use crate::tui::update::desired_view;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Widget};

fn frame(state: &AppState, title: String, area: Rect, buf: &mut Buffer) -> Rect {
    let theme = &state.ui.theme;
    Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(theme.style(ThemeRole::BorderFocused))
        .title(title_line(theme, title))
        .render(area, buf);
    layout::inner(area)
}

/// The preview for the current view, or a loading / error line drawn in its place.
fn ready<'a>(state: &'a AppState, area: Rect, buf: &mut Buffer) -> Option<&'a Preview> {
    let key = desired_view(state)?;
    let theme = &state.ui.theme;
    if let Some(p) = state.previews.get(&key) {
        return Some(p);
    }
    let line = match state.previews.failed.get(&key) {
        Some(e) => Line::styled(
            format!("could not load: {}", sanitize(e)),
            theme.style(ThemeRole::Error),
        ),
        None => Line::styled("loading…", theme.style(ThemeRole::Dim)),
    };
    put_lines(vec![line], area, buf);
    None
}

pub fn compare(state: &AppState, area: Rect, buf: &mut Buffer) {
    let Mode::Compare {
        notebook,
        ids,
        base,
        scroll,
    } = &state.mode
    else {
        return;
    };
    let cell = state
        .notebook_index(notebook)
        .and_then(|n| state.view(n))
        .and_then(|v| v.row(ids[0]))
        .map(|r| sanitize(&r.cell))
        .unwrap_or_default();
    let title = match base {
        Some((_, base)) => format!("Results of {cell} against the base {}", base.short()),
        None => format!(
            "Results of the {} versions of {cell}, each against the first",
            ids.len()
        ),
    };
    let inner = frame(state, title, area, buf);
    let Some(preview) = ready(state, inner, buf) else {
        return;
    };
    if let Body::Doc(doc) = &preview.body {
        put_lines(
            doc_window(
                &state.ui.theme,
                doc,
                *scroll,
                inner.height as usize,
                Fit::prose(state, inner.width),
            ),
            inner,
            buf,
        );
    }
}

pub fn time_machine(state: &AppState, area: Rect, buf: &mut Buffer) {
    let Mode::TimeMachine {
        notebook,
        stop,
        scroll,
    } = &state.mode
    else {
        return;
    };
    let Some(view) = state.view(*notebook) else {
        return;
    };
    let Some(&at) = view.run_times.get(*stop) else {
        return;
    };
    let title = format!(
        "Time machine · {} as of {} ({}) · run time {}/{}",
        sanitize(view.name()),
        absolute(at, state.ui.tz),
        relative(state.now, at),
        stop + 1,
        view.run_times.len()
    );
    let inner = frame(state, title, area, buf);
    if inner.height < 2 {
        return;
    }
    put_lines(
        vec![track(state, *stop, view.run_times.len(), inner.width)],
        inner,
        buf,
    );
    let body = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    let Some(preview) = ready(state, body, buf) else {
        return;
    };
    if let Body::Doc(doc) = &preview.body {
        put_lines(
            doc_window(
                &state.ui.theme,
                doc,
                *scroll,
                body.height as usize,
                Fit::prose(state, body.width),
            ),
            body,
            buf,
        );
    }
}

/// `earlier ├──────●────┤ later`: where T sits among the notebook's run times.
fn track(state: &AppState, stop: usize, stops: usize, width: u16) -> Line<'static> {
    let theme = &state.ui.theme;
    let inner = (width as usize).saturating_sub(18).max(3);
    let at = if stops <= 1 {
        inner - 1
    } else {
        stop * (inner - 1) / (stops - 1)
    };
    let bar: String = (0..inner)
        .map(|i| if i == at { '●' } else { '─' })
        .collect();
    Line::from(vec![
        Span::styled("earlier ├", theme.style(ThemeRole::Dim)),
        Span::styled(bar, theme.style(ThemeRole::HintKey)),
        Span::styled("┤ later", theme.style(ThemeRole::Dim)),
    ])
}
