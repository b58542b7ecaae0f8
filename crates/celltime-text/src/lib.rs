//! Text from a workspace, made safe for a terminal.
//!
//! Everything celltime prints from a workspace — notebook and cell names, part labels, file
//! names in error messages, code, outputs, console text, values — may have been written by
//! someone else (`__marimo__/` travels with git clones and sync folders). One predicate,
//! [`is_unsafe`], says which characters must never reach a terminal raw; the functions here
//! show them in a visible form instead; [`excerpt`] keeps echoed input short. Python-style reprs (`celltime-pyvalue`) use the same
//! predicate with Python's escape spelling.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters that must never reach a terminal raw: C0 and C1 controls (ESC starts every
/// control sequence; C1 CSI and OSC do the same on some terminals), DEL, and the invisible
/// format characters that hide or reorder text — zero-width marks, line and paragraph
/// separators, bidirectional embeddings, overrides and isolates, the Arabic letter mark and
/// the byte-order mark.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{061c}'
            | '\u{feff}')
}

/// The visible form of an unsafe character: caret notation for C0 controls and DEL (`^[`,
/// `^?`), the code point otherwise (`<U+202E>`). Safe characters are written unchanged.
pub fn push_visible(out: &mut String, c: char) {
    match c {
        '\u{0}'..='\u{1f}' => {
            out.push('^');
            out.push(char::from(b'@' + c as u8));
        }
        '\u{7f}' => out.push_str("^?"),
        c if is_unsafe(c) => {
            let _ = write!(out, "<U+{:04X}>", u32::from(c));
        }
        c => out.push(c),
    }
}

/// A one-line label (a name, a path, a key): every unsafe character, newlines and tabs
/// included, in its visible form.
pub fn escape_line(text: &str) -> Cow<'_, str> {
    escape_except(text, |_| false)
}

/// Text of several lines (a message, a listing): newlines and tabs stay, every other unsafe
/// character is shown in its visible form.
pub fn escape_text(text: &str) -> Cow<'_, str> {
    escape_except(text, |c| c == '\n' || c == '\t')
}

/// Serialised JSON: unsafe characters become `\uXXXX` escapes, which JSON reads back as the
/// same characters. (Outside strings JSON holds only ASCII punctuation and whitespace, so
/// every other unsafe character is inside a string, where the escape is valid.)
pub fn escape_json(json: &str) -> Cow<'_, str> {
    let keep = |c: char| matches!(c, '\n' | '\t' | '\r');
    let Some(first) = find_unsafe(json, keep) else {
        return Cow::Borrowed(json);
    };
    let mut out = String::with_capacity(json.len() + 16);
    out.push_str(&json[..first]);
    for c in json[first..].chars() {
        if is_unsafe(c) && !keep(c) {
            // Every unsafe character is in the Basic Multilingual Plane: one escape each.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Would these bytes, written to a terminal, do more than print text? True when they hold
/// an unsafe character other than a newline, tab or carriage return, or are not UTF-8 at all
/// (a terminal in a legacy encoding reads bytes 0x80–0x9F as C1 controls).
pub fn drives_terminal(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(text) => find_unsafe(text, |c| matches!(c, '\n' | '\t' | '\r')).is_some(),
        Err(_) => true,
    }
}

/// At most `max` characters of `text`, for echoing input in a message: a longer text is cut
/// with `…` and its length, so a 100 MB value never becomes a 100 MB error.
pub fn excerpt(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}… ({} bytes)", &text[..cut], text.len())),
    }
}

/// The byte offset of the first unsafe character not kept. ASCII is checked byte by byte
/// (listings are mostly ASCII and long), other characters decoded.
fn find_unsafe(text: &str, keep: impl Fn(char) -> bool) -> Option<usize> {
    /// Printable ASCII, the bulk of any listing, is passed over this many bytes at a time.
    const BLOCK: usize = 32;
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if let Some(block) = bytes.get(at..at + BLOCK) {
            // No early exit: the whole block is checked at once (the compiler vectorises it).
            let printable = |b: &u8| (0x20..0x7f).contains(b);
            if block.iter().fold(true, |all, b| all & printable(b)) {
                at += BLOCK;
                continue;
            }
            at += block.iter().position(|b| !printable(b)).unwrap_or(0);
        }
        let b = bytes[at];
        if b.is_ascii() {
            if (b < 0x20 || b == 0x7f) && !keep(char::from(b)) {
                return Some(at);
            }
            at += 1;
        } else {
            let c = text[at..].chars().next()?;
            if is_unsafe(c) && !keep(c) {
                return Some(at);
            }
            at += c.len_utf8();
        }
    }
    None
}

fn escape_except(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let Some(first) = find_unsafe(text, &keep) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if keep(c) {
            out.push(c);
        } else {
            push_visible(&mut out, c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_predicate_covers_controls_and_invisible_marks() {
        for c in ['\u{0}', '\n', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}'] {
            assert!(is_unsafe(c), "{c:?}");
        }
        for c in [
            '\u{200b}', '\u{200f}', '\u{2028}', '\u{202e}', '\u{2060}', '\u{2069}', '\u{061c}',
            '\u{feff}',
        ] {
            assert!(is_unsafe(c), "{c:?}");
        }
        for c in ['a', ' ', 'é', '→', '\u{a0}', '\u{2070}', '日', '😀'] {
            assert!(!is_unsafe(c), "{c:?}");
        }
    }

    #[test]
    fn labels_show_every_unsafe_character() {
        let hostile = "x\u{1b}]0;pwned\u{7}\u{1b}]52;c;cHduZWQ=\u{7}.py";
        assert_eq!(escape_line(hostile), "x^[]0;pwned^G^[]52;c;cHduZWQ=^G.py");
        assert_eq!(
            escape_line("a\u{202e}b\u{200b}c\u{feff}\u{2028}\t\n\u{9b}\u{7f}"),
            "a<U+202E>b<U+200B>c<U+FEFF><U+2028>^I^J<U+009B>^?"
        );
        assert!(matches!(escape_line("plain é"), Cow::Borrowed(_)));
    }

    #[test]
    fn text_keeps_its_lines_and_tabs() {
        assert_eq!(escape_text("a\tb\n\u{1b}[2J\r\n"), "a\tb\n^[[2J^M\n");
        assert_eq!(escape_text("é→\u{1b}x\u{2066}"), "é→^[x<U+2066>");
    }

    #[test]
    fn json_escapes_read_back_as_the_same_string() {
        let json = "{\n  \"name\": \"a\u{202e}b\u{85}\u{7f}\"\n}";
        assert_eq!(
            escape_json(json),
            "{\n  \"name\": \"a\\u202eb\\u0085\\u007f\"\n}"
        );
    }

    #[test]
    fn unsafe_characters_are_found_wherever_they_sit_in_long_text() {
        // Past the blocks of printable ASCII that are passed over whole, at every offset.
        for unsafe_char in ['\u{1b}', '\u{7f}', '\u{85}', '\u{202e}'] {
            for at in 0..100 {
                let text = format!("{}é{unsafe_char}{}", "a".repeat(at), "b".repeat(70));
                let naive = text
                    .char_indices()
                    .find(|(_, c)| is_unsafe(*c) && *c != '\n')
                    .map(|(i, _)| i);
                assert_eq!(find_unsafe(&text, |c| c == '\n'), naive, "{at}");
                assert_eq!(
                    escape_text(&text).matches('^').count() > 0,
                    unsafe_char < '\u{80}'
                );
            }
        }
        assert_eq!(find_unsafe(&"a\n".repeat(50), |c| c == '\n'), None);
    }

    #[test]
    fn excerpts_cut_long_texts_and_say_how_long() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("ab\u{e9}def", 3), "ab\u{e9}… (7 bytes)");
        assert!(matches!(excerpt("exactly", 7), Cow::Borrowed(_)));
    }

    #[test]
    fn bytes_that_drive_a_terminal_are_recognised() {
        assert!(!drives_terminal(b"text\twith\r\nlines\n"));
        assert!(drives_terminal(b"\x1b]52;c;cHduZWQ=\x07"));
        assert!(drives_terminal("a\u{202e}b".as_bytes()));
        assert!(drives_terminal(b"\x80\x02}q."));
    }
}
