//! Python code with syntax highlighting (syntect), as semantic roles rather than a theme's
//! RGB colours, so 16-colour terminals and user themes colour it.

use super::Doc;
use super::doc::{DocBuilder, Limits, Line, Role};
use std::str::FromStr;
use std::sync::OnceLock;
use syntect::easy::HighlightLines;
use syntect::highlighting::{Color, ScopeSelectors, StyleModifier, Theme, ThemeItem};
use syntect::parsing::SyntaxSet;

/// Lines beyond this are shown without highlighting: highlighting is the slow part.
const HIGHLIGHT_MAX_LINES: usize = 3000;

/// Scope selectors per role; the first matching selector of the most specific scope wins.
const ROLE_SCOPES: &[(Role, &str)] = &[
    (Role::Comment, "comment"),
    (Role::String, "string, constant.character"),
    (Role::Number, "constant.numeric"),
    (Role::Constant, "constant.language, support.constant"),
    (
        Role::Keyword,
        "keyword, storage, keyword.operator.logical, variable.language",
    ),
    (
        Role::Function,
        "entity.name.function, support.function, meta.function-call.generic",
    ),
    (
        Role::Type,
        "entity.name.class, support.type, entity.name.type",
    ),
];

struct Highlighting {
    syntaxes: SyntaxSet,
    theme: Theme,
}

/// Loading syntect's definitions takes tens of milliseconds, so it happens once, on the
/// first worker that needs it.
fn highlighting() -> &'static Highlighting {
    static CELL: OnceLock<Highlighting> = OnceLock::new();
    CELL.get_or_init(|| Highlighting {
        syntaxes: SyntaxSet::load_defaults_newlines(),
        theme: role_theme(),
    })
}

/// A theme whose "colours" are role numbers: syntect does the scope matching, we read back
/// the role.
fn role_theme() -> Theme {
    let scopes = ROLE_SCOPES
        .iter()
        .enumerate()
        .filter_map(|(i, (_, selector))| {
            Some(ThemeItem {
                scope: ScopeSelectors::from_str(selector).ok()?,
                style: StyleModifier {
                    foreground: Some(Color {
                        r: i as u8 + 1,
                        g: 0,
                        b: 0,
                        a: 255,
                    }),
                    background: None,
                    font_style: None,
                },
            })
        })
        .collect();
    Theme {
        scopes,
        ..Theme::default()
    }
}

fn role_of(color: Color) -> Role {
    match color.r {
        0 => Role::Text,
        n => ROLE_SCOPES
            .get(n as usize - 1)
            .map_or(Role::Text, |(r, _)| *r),
    }
}

/// Highlighted Python source.
pub fn python(source: &str, limits: &Limits) -> Doc {
    let h = highlighting();
    let syntax = h
        .syntaxes
        .find_syntax_by_extension("py")
        .unwrap_or_else(|| h.syntaxes.find_syntax_plain_text());
    let mut highlighter = HighlightLines::new(syntax, &h.theme);
    let mut out = DocBuilder::new(*limits);
    let source = source.strip_suffix('\n').unwrap_or(source);
    let mut lines = source.split('\n');
    for (i, raw) in lines.by_ref().enumerate() {
        if out.is_full() {
            out.add_omitted(1);
            break;
        }
        if i >= HIGHLIGHT_MAX_LINES {
            out.push_line(Line::plain(raw, Role::Text));
            continue;
        }
        let with_newline = format!("{raw}\n");
        let mut line = Line::default();
        match highlighter.highlight_line(&with_newline, &h.syntaxes) {
            Ok(regions) => {
                for (style, text) in regions {
                    line.push(text.trim_end_matches('\n'), role_of(style.foreground));
                }
            }
            Err(_) => line.push(raw, Role::Text),
        }
        out.push_line(line);
    }
    out.add_omitted(lines.count());
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_keywords_strings_and_comments_get_roles() {
        let doc = python("def f(x):\n    return 'a'  # note\n", &Limits::default());
        assert_eq!(doc.lines.len(), 2);
        let role_of_text = |needle: &str| {
            doc.lines
                .iter()
                .flat_map(|l| &l.spans)
                .find(|s| s.text.contains(needle))
                .map(|s| s.role)
        };
        assert_eq!(role_of_text("def"), Some(Role::Keyword));
        assert_eq!(role_of_text("'a'"), Some(Role::String));
        assert_eq!(role_of_text("# note"), Some(Role::Comment));
        assert_eq!(doc.to_text(), "def f(x):\n    return 'a'  # note");
    }

    #[test]
    fn long_sources_are_capped() {
        let source: String = (0..50).map(|i| format!("x{i} = {i}\n")).collect();
        let limits = Limits {
            max_lines: 10,
            ..Limits::default()
        };
        let doc = python(&source, &limits);
        assert_eq!(doc.lines.len(), 10);
        assert_eq!(doc.omitted, 40);
    }
}
