//! Console text: SGR colour codes become styled spans (or are dropped), other escape
//! sequences are removed, and `\r` progress updates collapse to their final state.

use super::Doc;
use super::doc::{AnsiStyle, DocBuilder, Limits, Line, Role};

/// Renders terminal output; with `colour` false, SGR codes are stripped.
pub fn render(text: &str, role: Role, colour: bool, limits: &Limits) -> Doc {
    let mut out = DocBuilder::new(*limits);
    let text = text.strip_suffix('\n').unwrap_or(text);
    let mut style = AnsiStyle::default();
    let mut lines = text.split('\n');
    for raw in lines.by_ref() {
        if out.is_full() {
            out.add_omitted(1);
            break;
        }
        let visible = collapse_carriage_returns(raw);
        out.push_line(parse_line(visible, role, colour, &mut style));
    }
    out.add_omitted(lines.count());
    out.finish()
}

/// What a terminal would finally show: text after the last `\r` that is not a line end.
/// Shorter redraws leave the tail of earlier ones, as on a real terminal.
fn collapse_carriage_returns(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if !line.contains('\r') {
        return line.to_string();
    }
    let mut screen: Vec<char> = Vec::new();
    for segment in line.split('\r') {
        for (i, c) in segment.chars().enumerate() {
            match screen.get_mut(i) {
                Some(slot) => *slot = c,
                None => screen.push(c),
            }
        }
    }
    screen.into_iter().collect()
}

fn parse_line(line: String, base: Role, colour: bool, style: &mut AnsiStyle) -> Line {
    let mut out = Line::default();
    let mut chars = line.chars().peekable();
    let mut run = String::new();
    let current_role = |style: &AnsiStyle| {
        if !colour || *style == AnsiStyle::default() {
            base
        } else {
            Role::Ansi(*style)
        }
    };
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            run.push(c);
            continue;
        }
        match chars.peek() {
            Some('[') => {
                chars.next();
                let mut params = String::new();
                let mut fin = None;
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        fin = Some(c);
                        break;
                    }
                    params.push(c);
                }
                if fin == Some('m') {
                    out.push(&std::mem::take(&mut run), current_role(style));
                    apply_sgr(style, &params);
                }
            }
            Some(']') => {
                // OSC (titles, hyperlinks): dropped up to BEL or ESC \.
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            Some(_) => {
                chars.next();
            }
            None => {}
        }
    }
    out.push(&run, current_role(style));
    out
}

fn apply_sgr(style: &mut AnsiStyle, params: &str) {
    let codes: Vec<u16> = if params.is_empty() {
        vec![0]
    } else {
        params.split(';').map(|p| p.parse().unwrap_or(0)).collect()
    };
    let mut i = 0;
    while i < codes.len() {
        match codes[i] {
            0 => *style = AnsiStyle::default(),
            1 => style.bold = true,
            2 => style.dim = true,
            3 => style.italic = true,
            4 => style.underline = true,
            7 => style.reverse = true,
            22 => (style.bold, style.dim) = (false, false),
            23 => style.italic = false,
            24 => style.underline = false,
            27 => style.reverse = false,
            n @ 30..=37 => style.fg = Some((n - 30) as u8),
            39 => style.fg = None,
            n @ 40..=47 => style.bg = Some((n - 40) as u8),
            49 => style.bg = None,
            n @ 90..=97 => style.fg = Some((n - 90 + 8) as u8),
            n @ 100..=107 => style.bg = Some((n - 100 + 8) as u8),
            n @ (38 | 48) => {
                let (colour, used) = extended_colour(&codes[i + 1..]);
                if n == 38 {
                    style.fg = colour;
                } else {
                    style.bg = colour;
                }
                i += used;
            }
            _ => {}
        }
        i += 1;
    }
}

/// `5;n` (palette) or `2;r;g;b` (true colour, approximated to the 6×6×6 cube).
fn extended_colour(rest: &[u16]) -> (Option<u8>, usize) {
    match rest {
        [5, n, ..] => (Some((*n).min(255) as u8), 2),
        [2, r, g, b, ..] => {
            let level = |v: u16| ((v.min(255) as u32 * 5 + 127) / 255) as u8;
            (Some(16 + 36 * level(*r) + 6 * level(*g) + level(*b)), 4)
        }
        _ => (None, rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_collapse() {
        let doc = render(
            "loading 10%\rloading 50%\rdone       \nnext\n",
            Role::Text,
            true,
            &Limits::default(),
        );
        assert_eq!(doc.to_text(), "done       \nnext");
        assert_eq!(collapse_carriage_returns("abcdef\rxy"), "xycdef");
        assert_eq!(collapse_carriage_returns("line\r"), "line");
    }

    #[test]
    fn sgr_colours_become_roles_and_other_escapes_vanish() {
        let doc = render(
            "\u{1b}[31mred\u{1b}[0m plain \u{1b}[2K\u{1b}]0;title\u{7}end",
            Role::Text,
            true,
            &Limits::default(),
        );
        let line = &doc.lines[0];
        assert_eq!(line.text(), "red plain end");
        assert_eq!(
            line.spans[0].role,
            Role::Ansi(AnsiStyle {
                fg: Some(1),
                ..AnsiStyle::default()
            })
        );
        assert_eq!(line.spans[1].role, Role::Text);
    }

    #[test]
    fn stripping_keeps_the_text_only() {
        let doc = render(
            "\u{1b}[1;38;5;208mwarn\u{1b}[m",
            Role::Warning,
            false,
            &Limits::default(),
        );
        assert_eq!(doc.lines[0].spans.len(), 1);
        assert_eq!(doc.lines[0].spans[0].role, Role::Warning);
        assert_eq!(doc.to_text(), "warn");
    }

    #[test]
    fn stray_controls_are_escaped_not_sent() {
        let doc = render("a\u{7}b\u{8}c", Role::Text, true, &Limits::default());
        assert_eq!(doc.to_text(), "a^Gb^Hc");
    }
}
