//! Images in the terminal: kitty, iTerm2 or sixel graphics where the terminal answers for
//! them, half blocks elsewhere (ratatui-image). The last image made ready for an area is kept,
//! so a frame that does not change it costs nothing.

use crate::preview::image::Picture;
use ratatui::buffer::Buffer;
use ratatui::layout::{Rect, Size};
use ratatui::widgets::Widget;
use ratatui_image::picker::Picker;
use ratatui_image::protocol::Protocol;
use ratatui_image::{Image, Resize};
use std::sync::Mutex;

pub struct Pictures {
    picker: Picker,
    ready: Mutex<Option<(Picture, Rect, Protocol)>>,
}

impl std::fmt::Debug for Pictures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pictures({:?})", self.picker.protocol_type())
    }
}

impl Default for Pictures {
    /// Half blocks: what every terminal can show (and what tests draw).
    fn default() -> Pictures {
        Pictures::new(Picker::halfblocks())
    }
}

impl Pictures {
    pub fn new(picker: Picker) -> Pictures {
        Pictures {
            picker,
            ready: Mutex::new(None),
        }
    }

    /// What this terminal can draw; must run in raw mode, before input is read.
    pub fn for_this_terminal() -> Pictures {
        Pictures::new(picker())
    }

    /// Draws `picture` fitted into `area`.
    pub fn draw(&self, picture: &Picture, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let Ok(mut ready) = self.ready.lock() else {
            return;
        };
        let current = matches!(&*ready, Some((p, a, _)) if p == picture && *a == area);
        if !current {
            let size = Size::new(area.width, area.height);
            *ready = self
                .picker
                .new_protocol((*picture.0).clone(), size, Resize::Fit(None))
                .ok()
                .map(|protocol| (picture.clone(), area, protocol));
        }
        if let Some((_, _, protocol)) = &*ready {
            Image::new(protocol).render(area, buf);
        }
    }
}

/// The image protocol of this terminal. Asking it means writing queries and reading the
/// answers from stdin on a thread that outlives an unanswered query and swallows the user's
/// next keys, so celltime asks only a terminal whose environment names it as one that draws
/// images (and answers); everything else gets half blocks. `CELLTIME_IMAGES=query` asks
/// anyway, `CELLTIME_IMAGES=halfblocks` never asks.
pub fn picker() -> Picker {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if worth_asking(var) {
        Picker::from_query_stdio().unwrap_or_else(|_| Picker::halfblocks())
    } else {
        Picker::halfblocks()
    }
}

fn worth_asking(var: impl Fn(&str) -> Option<String>) -> bool {
    match var("CELLTIME_IMAGES").as_deref() {
        Some("query") => return true,
        Some("halfblocks") => return false,
        _ => {}
    }
    let term = var("TERM").unwrap_or_default();
    let program = var("TERM_PROGRAM").unwrap_or_default();
    [
        "KITTY_WINDOW_ID",
        "WEZTERM_EXECUTABLE",
        "KONSOLE_VERSION",
        "ITERM_SESSION_ID",
        "GHOSTTY_RESOURCES_DIR",
    ]
    .iter()
    .any(|name| var(name).is_some())
        || [
            "xterm-kitty",
            "xterm-ghostty",
            "foot",
            "foot-extra",
            "mlterm",
            "wezterm",
        ]
        .contains(&term.as_str())
        || ["WezTerm", "iTerm.app", "ghostty", "kitty"].contains(&program.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn images_are_drawn_with_half_blocks_where_nothing_better_is_known() {
        let mut red = image::RgbImage::new(40, 40);
        for p in red.pixels_mut() {
            *p = image::Rgb([255, 0, 0]);
        }
        let picture = Picture(Arc::new(image::DynamicImage::ImageRgb8(red)));
        let area = Rect::new(0, 0, 10, 5);
        let mut buf = Buffer::empty(area);
        let pictures = Pictures::default();
        pictures.draw(&picture, area, &mut buf);
        let red = ratatui::style::Color::Rgb(255, 0, 0);
        let painted = buf
            .content()
            .iter()
            .filter(|c| c.fg == red || c.bg == red)
            .count();
        // 40×40 pixels at half blocks' 10×20 pixels a cell: 4×2 cells.
        assert_eq!(painted, 8);
        // Drawn again into the same area, the prepared image is reused.
        pictures.draw(&picture, area, &mut buf);
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn only_terminals_known_to_draw_images_are_asked() {
        assert!(!worth_asking(env(&[("TERM", "xterm-256color")])));
        assert!(!worth_asking(env(&[
            ("TERM", "screen"),
            ("TERM_PROGRAM", "tmux")
        ])));
        assert!(worth_asking(env(&[("TERM", "xterm-kitty")])));
        assert!(worth_asking(env(&[("TERM_PROGRAM", "WezTerm")])));
        assert!(worth_asking(env(&[
            ("KITTY_WINDOW_ID", "1"),
            ("TERM", "tmux-256color")
        ])));
        assert!(worth_asking(env(&[("CELLTIME_IMAGES", "query")])));
        assert!(!worth_asking(env(&[
            ("CELLTIME_IMAGES", "halfblocks"),
            ("TERM", "xterm-kitty")
        ])));
    }
}
