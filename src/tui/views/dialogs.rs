//! Dialogs over the panes: the deletion plan, confirmations and the help.

use super::layout::Areas;
use super::{layout, put_lines};
use crate::preview::{human_bytes, sanitize};
use crate::tui::action::Action;
use crate::tui::format::{entries, pad, relative, wrap};
use crate::tui::keymap::Scope;
use crate::tui::state::{AppState, Confirm, PLAN_LIST_MAX, Plan};
use crate::tui::theme::ThemeRole;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Widget};
use unicode_width::UnicodeWidthStr;

fn dialog(state: &AppState, title: String, area: Rect, buf: &mut Buffer) -> Rect {
    let theme = &state.ui.theme;
    Clear.render(area, buf);
    Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.style(ThemeRole::Dialog))
        .title(Span::styled(
            format!(" {title} "),
            theme.style(ThemeRole::Title),
        ))
        .render(area, buf);
    layout::inner(area)
}

/// "y/enter yes · n/esc no", from the keymap.
fn answer_keys(state: &AppState, scope: Scope, yes: &str, no: &str) -> Line<'static> {
    let theme = &state.ui.theme;
    let keys = |action| {
        state
            .ui
            .keymap
            .keys_for(&[scope], action)
            .map(|k| {
                k.iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default()
    };
    Line::from(vec![
        Span::styled(keys(Action::Confirm), theme.style(ThemeRole::HintKey)),
        Span::raw(format!(" {yes}   ")),
        Span::styled(keys(Action::Cancel), theme.style(ThemeRole::HintKey)),
        Span::raw(format!(" {no}")),
    ])
}

/// The plan sits over the details, so the struck-through rows stay in view beside it.
pub fn plan(state: &AppState, plan: &Plan, scroll: usize, a: Areas, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    let area = a.details;
    let title = format!("Delete {}?", entries(plan.entries));
    let inner = dialog(state, title, area, buf);
    let notebooks = plan.groups.len();
    let width = inner.width as usize;
    let summary = format!(
        "Deletes {} of {notebooks} notebook{} and frees {}. The last deletion can be undone (u).",
        entries(plan.entries),
        if notebooks == 1 { "" } else { "s" },
        // A no-break space keeps the number and its unit on one line.
        human_bytes(plan.bytes).replace(' ', "\u{a0}")
    );
    let mut head: Vec<Line> = wrap(&summary, width)
        .into_iter()
        .map(|l| Line::styled(l, theme.style(ThemeRole::Text)))
        .collect();
    for w in &plan.warnings {
        head.extend(
            wrap(&format!("⚠ {}", sanitize(w)), width)
                .into_iter()
                .map(|l| Line::styled(l, theme.style(ThemeRole::Warning))),
        );
    }
    head.push(Line::default());
    let mut list: Vec<Line> = plan
        .targets
        .iter()
        .map(|t| {
            Line::from(vec![
                Span::styled("✗ ", theme.style(ThemeRole::Planned)),
                Span::styled(
                    format!(
                        "{} · {} · {}",
                        sanitize(&t.notebook),
                        sanitize(&t.cell),
                        t.id.short()
                    ),
                    theme.style(ThemeRole::Planned),
                ),
                Span::styled(
                    format!(
                        "  {} · {}",
                        relative(state.now, t.created_at),
                        human_bytes(t.size)
                    ),
                    theme.style(ThemeRole::Dim),
                ),
            ])
        })
        .collect();
    if plan.entries > plan.targets.len() {
        list.push(Line::styled(
            format!(
                "… and {} more (the list shows the first {PLAN_LIST_MAX})",
                plan.entries - plan.targets.len()
            ),
            theme.style(ThemeRole::Dim),
        ));
    }
    let footer = answer_keys(state, Scope::Plan, "delete", "cancel");
    let body_height = (inner.height as usize).saturating_sub(1);
    let mut lines = head;
    let room = body_height.saturating_sub(lines.len());
    let start = scroll.min(list.len().saturating_sub(room));
    lines.extend(list.into_iter().skip(start).take(room));
    put_lines(lines, inner, buf);
    let last = Rect {
        y: inner.y + inner.height.saturating_sub(1),
        height: 1,
        ..inner
    };
    put_lines(vec![footer], last, buf);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub fn confirm(state: &AppState, kind: &Confirm, main: Rect, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    let (title, text, yes) = match kind {
        Confirm::Undo(text) => ("Undo the last operation?", text.clone(), "undo"),
        Confirm::Quit => (
            "Quit?",
            format!(
                "{} marked and nothing was deleted. Quit and drop the marks?",
                entries(state.marks.count())
            ),
            "quit",
        ),
    };
    let area = centered(main, 64, 7);
    let inner = dialog(state, title.into(), area, buf);
    let mut lines: Vec<Line> = wrap(&sanitize(&text), inner.width as usize)
        .into_iter()
        .map(|l| Line::styled(l, theme.style(ThemeRole::Text)))
        .collect();
    lines.push(Line::default());
    lines.push(answer_keys(state, Scope::Confirm, yes, "cancel"));
    put_lines(lines, inner, buf);
}

/// Every binding, by scope: generated from the keymap that drives the keys.
pub fn help(state: &AppState, scroll: usize, main: Rect, buf: &mut Buffer) {
    let theme = &state.ui.theme;
    let area = centered(main, 96, main.height);
    let inner = dialog(state, "Keys".into(), area, buf);
    let help = state.ui.keymap.help();
    let rows = || help.iter().flat_map(|(_, rows)| rows.iter());
    let keys_width = rows().map(|r| r.0.width()).max().unwrap_or(0).min(16) + 2;
    let name_width = rows().map(|r| r.1.len()).max().unwrap_or(0) + 2;
    let narrow = (inner.width as usize) < keys_width + name_width + 44;
    let mut lines = Vec::new();
    for (scope, rows) in &help {
        lines.push(Line::styled(
            scope.name().to_string(),
            theme.style(ThemeRole::Header),
        ));
        for (keys, name, about) in rows {
            let mut spans = vec![
                Span::styled(
                    format!("  {}", pad(keys, keys_width)),
                    theme.style(ThemeRole::HintKey),
                ),
                Span::raw(pad(name, name_width)),
            ];
            let about = Span::styled(about.to_string(), theme.style(ThemeRole::Dim));
            if narrow {
                // Narrow screens: the description first, the config name after it.
                spans.pop();
                spans.push(about);
                spans.push(Span::styled(
                    format!("  [{name}]"),
                    theme.style(ThemeRole::Hint),
                ));
            } else {
                spans.push(about);
            }
            lines.push(Line::from(spans));
        }
    }
    let height = inner.height as usize;
    let start = scroll.min(lines.len().saturating_sub(height));
    put_lines(lines.into_iter().skip(start).collect(), inner, buf);
}
