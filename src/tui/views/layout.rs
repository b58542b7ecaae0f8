//! Where each pane goes, from the terminal size alone: rendering and the reducer (page
//! sizes, mouse hits) share it. Below 100 columns the details go under the lists.

use crate::tui::state::{AppState, Pane, Tab};
use ratatui::layout::{Constraint, Layout, Rect};

pub const NARROW_BELOW: u16 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub title: Rect,
    /// Everything between the title and the status line (full-screen views use it).
    pub main: Rect,
    pub cells: Rect,
    pub timeline: Rect,
    /// The details pane, or the marks pane when that is shown.
    pub details: Rect,
    pub status: Rect,
    pub hints: Rect,
    pub narrow: bool,
}

/// The areas, with the details (or marks) pane over the whole main area when zoomed.
pub fn areas_zoomed(area: Rect, zoom: bool) -> Areas {
    let mut a = areas(area);
    if zoom {
        a.details = a.main;
        a.cells = Rect::default();
        a.timeline = Rect::default();
    }
    a
}

pub fn areas(area: Rect) -> Areas {
    let [title, main, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let narrow = area.width < NARROW_BELOW;
    let (cells, timeline, details) = if narrow {
        let [top, bottom] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(main);
        let [cells, timeline] =
            Layout::horizontal([Constraint::Percentage(32), Constraint::Percentage(68)]).areas(top);
        (cells, timeline, bottom)
    } else {
        let [cells, timeline, details] = Layout::horizontal([
            Constraint::Percentage(22),
            Constraint::Percentage(39),
            Constraint::Percentage(39),
        ])
        .areas(main);
        (cells, timeline, details)
    };
    Areas {
        title,
        main,
        cells,
        timeline,
        details,
        status,
        hints,
        narrow,
    }
}

/// The inside of a bordered block.
pub fn inner(r: Rect) -> Rect {
    Rect {
        x: r.x.saturating_add(1),
        y: r.y.saturating_add(1),
        width: r.width.saturating_sub(2),
        height: r.height.saturating_sub(2),
    }
}

pub fn of_state(state: &AppState) -> Areas {
    areas_zoomed(Rect::new(0, 0, state.size.0, state.size.1), state.zoom)
}

/// Lines of content a pane shows at the current size (details lose a line to the tabs).
pub fn page(state: &AppState, pane: Pane) -> usize {
    let a = of_state(state);
    let rect = match pane {
        Pane::Cells => a.cells,
        Pane::Timeline => a.timeline,
        Pane::Details => return inner(a.details).height.saturating_sub(1).max(1) as usize,
        Pane::Marks => a.details,
    };
    inner(rect).height.max(1) as usize
}

/// Lines a full-screen view (help, compare, time machine, plan list) shows.
pub fn main_page(state: &AppState) -> usize {
    inner(of_state(state).main).height.saturating_sub(2).max(1) as usize
}

/// The first visible line that keeps `cursor` in view, moving as little as possible.
pub fn follow(offset: usize, cursor: usize, height: usize, len: usize) -> usize {
    let height = height.max(1);
    let offset = if cursor < offset {
        cursor
    } else if cursor >= offset + height {
        cursor + 1 - height
    } else {
        offset
    };
    offset.min(len.saturating_sub(height))
}

/// Short labels below this width so all six tabs fit.
pub const LONG_TABS_FROM: u16 = 48;

pub fn tab_label(tab: Tab, long: bool) -> &'static str {
    match (tab, long) {
        (Tab::Outputs, false) => "Out",
        (Tab::Variables, false) => "Vars",
        (Tab::Console, false) => "Cons",
        (t, _) => t.title(),
    }
}

/// Each tab's label and its column range on the tab line.
pub fn tab_positions(inner: Rect) -> Vec<(Tab, u16, u16)> {
    let long = inner.width >= LONG_TABS_FROM;
    let mut x = inner.x;
    Tab::ALL
        .iter()
        .map(|&t| {
            let w = tab_label(t, long).len() as u16 + 2;
            let range = (t, x, x + w);
            x += w;
            range
        })
        .collect()
}

/// The tab under a click on the tab line.
pub fn tab_at(inner: Rect, x: u16, y: u16) -> Option<Tab> {
    if y != inner.y {
        return None;
    }
    tab_positions(inner)
        .into_iter()
        .find(|(_, a, b)| (*a..*b).contains(&x))
        .map(|(t, _, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_and_narrow_layouts() {
        let wide = areas(Rect::new(0, 0, 160, 48));
        assert!(!wide.narrow);
        assert_eq!(wide.cells.y, wide.details.y, "details beside the lists");
        let narrow = areas(Rect::new(0, 0, 80, 24));
        assert!(narrow.narrow);
        assert!(narrow.details.y > narrow.cells.y, "details below the lists");
        assert_eq!(narrow.hints.y, 23);
        assert_eq!(narrow.status.y, 22);
    }

    #[test]
    fn follow_keeps_the_cursor_visible() {
        assert_eq!(follow(0, 5, 10, 100), 0);
        assert_eq!(follow(0, 12, 10, 100), 3);
        assert_eq!(follow(20, 12, 10, 100), 12);
        assert_eq!(follow(95, 99, 10, 100), 90);
    }
}
