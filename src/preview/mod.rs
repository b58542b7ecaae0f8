//! Previews: a part's bytes as display lines, chosen by kind, format and mime type. Shared by
//! the TUI and the CLI's `show`. Output is always sanitised and bounded.

pub mod code;
pub mod console;
pub mod diff;
mod doc;
pub mod html;
pub mod image;
mod json;
mod markdown;
pub mod output;
pub mod results;
pub mod table;

pub use diff::{CodeDiff, DiffKind, DiffLine, DiffOptions, diff_code};
pub use doc::{AnsiStyle, Doc, DocBuilder, Limits, Line, Role, Span, sanitize};

use celltime_store::model::PartKind;
/// Sizes in binary units with one decimal, as the prune report writes them.
pub use celltime_store::units::human_bytes;

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub limits: Limits,
    /// Render ANSI colours found in content (false strips them).
    pub colour: bool,
}

impl Default for RenderOptions {
    fn default() -> RenderOptions {
        RenderOptions {
            limits: Limits::default(),
            colour: true,
        }
    }
}

/// One part's bytes as lines.
pub fn render_part(
    kind: PartKind,
    label: &str,
    format: &str,
    bytes: &[u8],
    options: &RenderOptions,
) -> Doc {
    let limits = &options.limits;
    match kind {
        PartKind::Code => code::python(&String::from_utf8_lossy(bytes), limits),
        PartKind::Outputs => output::output(label, bytes, limits, options.colour),
        PartKind::Variables => output::variable(format, bytes, limits, options.colour),
        PartKind::Console => {
            let role = if label == "stderr" {
                Role::Warning
            } else {
                Role::Text
            };
            output::text(bytes, role, limits, options.colour)
        }
        PartKind::Watched if output::is_binary(bytes) => output::binary_summary(label, bytes),
        PartKind::Watched => output::text(bytes, Role::Text, limits, false),
    }
}

/// A part's heading: `outputs · text/html · 1.2 KiB`.
pub fn part_title(kind: PartKind, label: &str, format: &str, size: u64) -> String {
    let mut title = kind.to_string();
    for piece in [label, format] {
        if !piece.is_empty() {
            title.push_str(" · ");
            title.push_str(&sanitize(piece));
        }
    }
    title.push_str(" · ");
    // A no-break space keeps a size whole when the title wraps.
    title.push_str(&human_bytes(size).replace(' ', "\u{a0}"));
    title
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_render_by_kind() {
        let opts = RenderOptions::default();
        let stderr = render_part(PartKind::Console, "stderr", "", b"oops\n", &opts);
        assert_eq!(stderr.lines[0].spans[0].role, Role::Warning);
        let watched = render_part(PartKind::Watched, "data.bin", "", &[0, 159], &opts);
        assert!(watched.to_text().starts_with("data.bin, 2 B (binary)"));
        assert_eq!(
            part_title(PartKind::Outputs, "text/html", "", 2048),
            "outputs · text/html · 2.0\u{a0}KiB"
        );
    }

    #[test]
    fn hostile_labels_are_sanitised_in_titles() {
        let title = part_title(PartKind::Watched, "a\u{1b}[2Jb", "", 1);
        assert_eq!(title, "watched · a^[[2Jb · 1\u{a0}B");
    }
}
