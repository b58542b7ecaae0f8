//! A reader for JSON as Python's `json.dumps` writes it: standard JSON plus the bare tokens
//! `NaN`, `Infinity` and `-Infinity` (`allow_nan=True`), which serde_json rejects.
//!
//! marimo's `method="json"` cache files are written this way. Crates that accept these tokens
//! (json5 and similar) also accept a much larger JSON5 grammar, go through serde values that
//! lose NaN or big integers, and have no depth limit, so this is a small hand-written parser.
//! It produces [`PyValue`]s with Python's `json.loads` types: objects become `Dict` with `Str`
//! keys (duplicates kept, in order), integers `Int` or `BigInt`, other numbers `Float`.

use super::value::PyValue;

/// Default nesting limit, the same as the pickle decoder's.
pub const DEFAULT_MAX_DEPTH: usize = 200;

/// What went wrong; [`JsonError`] adds where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonErrorKind {
    #[error("input is not UTF-8")]
    NotUtf8,
    #[error("unexpected end of input")]
    UnexpectedEnd,
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    #[error("invalid number")]
    InvalidNumber,
    #[error("invalid string escape")]
    InvalidEscape,
    #[error("control character in string")]
    ControlInString,
    #[error("nesting deeper than {0}")]
    TooDeep(usize),
    #[error("extra data after the value")]
    TrailingData,
}

/// A parse error at byte `offset` of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct JsonError {
    pub offset: usize,
    pub kind: JsonErrorKind,
}

/// Parses one JSON document (surrounding whitespace allowed) with at most `max_depth` nested
/// arrays/objects.
pub fn parse(input: &[u8], max_depth: usize) -> Result<PyValue, JsonError> {
    let text = std::str::from_utf8(input).map_err(|e| JsonError {
        offset: e.valid_up_to(),
        kind: JsonErrorKind::NotUtf8,
    })?;
    let mut p = Parser {
        text,
        pos: 0,
        max_depth,
    };
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos != text.len() {
        return Err(p.err(JsonErrorKind::TrailingData));
    }
    Ok(v)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    max_depth: usize,
}

impl Parser<'_> {
    fn err(&self, kind: JsonErrorKind) -> JsonError {
        JsonError {
            offset: self.pos,
            kind,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn unexpected(&self) -> JsonError {
        match self.text[self.pos..].chars().next() {
            Some(c) => self.err(JsonErrorKind::UnexpectedChar(c)),
            None => self.err(JsonErrorKind::UnexpectedEnd),
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn keyword(&mut self, word: &str, v: PyValue) -> Result<PyValue, JsonError> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.unexpected())
        }
    }

    /// Recursion depth is bounded by `max_depth`.
    fn value(&mut self, depth: usize) -> Result<PyValue, JsonError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.err(JsonErrorKind::UnexpectedEnd)),
            Some(b'{' | b'[') if depth >= self.max_depth => {
                Err(self.err(JsonErrorKind::TooDeep(self.max_depth)))
            }
            Some(b'{') => {
                self.pos += 1;
                let mut pairs = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(PyValue::Dict(pairs));
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.unexpected());
                    }
                    let key = self.string()?;
                    self.expect(b':')?;
                    let value = self.value(depth + 1)?;
                    pairs.push((PyValue::Str(key), value));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(PyValue::Dict(pairs));
                        }
                        _ => return Err(self.unexpected()),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(PyValue::List(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(PyValue::List(items));
                        }
                        _ => return Err(self.unexpected()),
                    }
                }
            }
            Some(b'"') => Ok(PyValue::Str(self.string()?)),
            Some(b't') => self.keyword("true", PyValue::Bool(true)),
            Some(b'f') => self.keyword("false", PyValue::Bool(false)),
            Some(b'n') => self.keyword("null", PyValue::None),
            Some(b'N') => self.keyword("NaN", PyValue::Float(f64::NAN)),
            Some(b'I') => self.keyword("Infinity", PyValue::Float(f64::INFINITY)),
            Some(b'-') if self.text[self.pos..].starts_with("-Infinity") => {
                self.pos += "-Infinity".len();
                Ok(PyValue::Float(f64::NEG_INFINITY))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.unexpected()),
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: an integer without fraction or
    /// exponent (as Python's `json` does), a float otherwise.
    fn number(&mut self) -> Result<PyValue, JsonError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let digits = |mut i: usize| {
            let from = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            (i, i - from)
        };
        let mut i = start + usize::from(bytes.get(start) == Some(&b'-'));
        let (end, n) = digits(i);
        if n == 0 || (n > 1 && bytes[i] == b'0') {
            self.pos = i;
            return Err(self.err(JsonErrorKind::InvalidNumber));
        }
        i = end;
        let mut is_float = false;
        if bytes.get(i) == Some(&b'.') {
            let (end, n) = digits(i + 1);
            if n == 0 {
                self.pos = i;
                return Err(self.err(JsonErrorKind::InvalidNumber));
            }
            i = end;
            is_float = true;
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(bytes.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            let (end, n) = digits(j);
            if n == 0 {
                self.pos = i;
                return Err(self.err(JsonErrorKind::InvalidNumber));
            }
            i = end;
            is_float = true;
        }
        self.pos = i;
        let s = &self.text[start..i];
        if is_float {
            // Rust's parser is exact and, like Python's float(), overflows to infinity.
            return s
                .parse()
                .map(PyValue::Float)
                .map_err(|_| self.err(JsonErrorKind::InvalidNumber));
        }
        Ok(match s.parse::<i64>() {
            Ok(v) => PyValue::Int(v),
            Err(_) => PyValue::BigInt(s.to_string()),
        })
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let hex = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.err(JsonErrorKind::InvalidEscape))?;
        self.pos += 4;
        u32::from_str_radix(hex, 16).map_err(|_| self.err(JsonErrorKind::InvalidEscape))
    }

    /// A string starting at the opening quote. Lone surrogates (which Python accepts) become
    /// U+FFFD, as a Rust string cannot hold them.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let plain = rest
                .find(|c: char| c == '"' || c == '\\' || c < ' ')
                .ok_or(JsonError {
                    offset: self.text.len(),
                    kind: JsonErrorKind::UnexpectedEnd,
                })?;
            out.push_str(&rest[..plain]);
            self.pos += plain;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let e = self
                        .peek()
                        .ok_or_else(|| self.err(JsonErrorKind::UnexpectedEnd))?;
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&hi)
                                && self.text[self.pos..].starts_with("\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                                } else {
                                    // Not a pair: keep the second escape for the next round.
                                    self.pos = save;
                                    hi
                                }
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err(JsonErrorKind::InvalidEscape));
                        }
                    }
                }
                _ => return Err(self.err(JsonErrorKind::ControlInString)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<PyValue, JsonError> {
        parse(s.as_bytes(), DEFAULT_MAX_DEPTH)
    }

    #[test]
    fn python_extensions() {
        let PyValue::List(v) = p("[NaN, Infinity, -Infinity, -0, 1e400, 1.5E-3]").unwrap() else {
            panic!()
        };
        assert!(matches!(v[0], PyValue::Float(f) if f.is_nan()));
        assert_eq!(v[1], PyValue::Float(f64::INFINITY));
        assert_eq!(v[2], PyValue::Float(f64::NEG_INFINITY));
        assert_eq!(v[3], PyValue::Int(0));
        assert_eq!(v[4], PyValue::Float(f64::INFINITY));
        assert_eq!(v[5], PyValue::Float(0.0015));
    }

    #[test]
    fn values_and_strings() {
        assert_eq!(
            p(r#" {"a": [true, false, null, 12345678901234567890], "a": "\u00e9\ud83d\ude00\n\ud800x"} "#)
                .unwrap(),
            PyValue::Dict(vec![
                (
                    PyValue::Str("a".into()),
                    PyValue::List(vec![
                        PyValue::Bool(true),
                        PyValue::Bool(false),
                        PyValue::None,
                        PyValue::BigInt("12345678901234567890".into()),
                    ])
                ),
                (PyValue::Str("a".into()), PyValue::Str("é😀\n\u{fffd}x".into())),
            ])
        );
        assert_eq!(p("\"日本\"").unwrap(), PyValue::Str("日本".into()));
    }

    #[test]
    fn errors_have_offsets() {
        let e = |s: &str| p(s).unwrap_err();
        assert_eq!(e("[1, 2").to_string(), "unexpected end of input at byte 5");
        assert_eq!(e("[01]").kind, JsonErrorKind::InvalidNumber);
        assert_eq!(e("[1.]").kind, JsonErrorKind::InvalidNumber);
        assert_eq!(e("nan").kind, JsonErrorKind::UnexpectedChar('n'));
        assert_eq!(
            e("{\"a\" 1}").to_string(),
            "unexpected character '1' at byte 5"
        );
        assert_eq!(e("\"a\u{1}\"").kind, JsonErrorKind::ControlInString);
        assert_eq!(e("\"\\x\"").to_string(), "invalid string escape at byte 2");
        assert_eq!(e("\"\\u12\"").kind, JsonErrorKind::InvalidEscape);
        assert_eq!(e("1 2").kind, JsonErrorKind::TrailingData);
        assert_eq!(e("[1,]").kind, JsonErrorKind::UnexpectedChar(']'));
        assert_eq!(e("\"abc").kind, JsonErrorKind::UnexpectedEnd);
        assert_eq!(
            parse(b"\"\xff\"", 10).unwrap_err().kind,
            JsonErrorKind::NotUtf8
        );
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(100_000);
        assert_eq!(p(&deep).unwrap_err().kind, JsonErrorKind::TooDeep(200));
        let ok = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(p(&ok).is_ok());
        let too = format!("{}{}", "[".repeat(201), "]".repeat(201));
        assert!(p(&too).is_err());
    }
}
