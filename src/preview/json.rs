//! JSON laid out two spaces per level with every token as written: numbers keep their exact
//! digits (`0.20065631450172938`, `1180591620717411303424`), which re-serialising through
//! `f64` would change.

use serde::de::IgnoredAny;

/// Deeper documents are not re-indented: indentation alone would grow with the square of
/// the depth (a 100,000-deep array would take gigabytes).
const MAX_DEPTH: usize = 100;

/// The document re-indented, or None when it is not valid JSON or nests deeper than
/// [`MAX_DEPTH`].
pub fn pretty(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<IgnoredAny>(bytes).ok()?;
    let text = std::str::from_utf8(bytes).ok()?;
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(c) = chars.next() {
                    out.push(c);
                    match c {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '{' | '[' => {
                out.push(c);
                // Empty containers stay on one line: `[]`, `{}`.
                while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return None;
                    }
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_digits() {
        let doc = br#"{"x": 0.20065631450172938, "big": 1180591620717411303424, "e": 1E+400}"#;
        assert_eq!(
            pretty(doc).unwrap(),
            "{\n  \"x\": 0.20065631450172938,\n  \"big\": 1180591620717411303424,\n  \"e\": 1E+400\n}"
        );
    }

    #[test]
    fn layout_and_strings() {
        assert_eq!(
            pretty(br#"{"a":[1,2],"s":"x, y: {\"z\"}","e":[],"o":{ }}"#).unwrap(),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"s\": \"x, y: {\\\"z\\\"}\",\n  \"e\": [],\n  \"o\": {}\n}"
        );
        assert_eq!(pretty(b"{oops"), None);
        let deep = [vec![b'['; 100_000], vec![b']'; 100_000]].concat();
        assert_eq!(pretty(&deep), None);
    }
}
