//! NPY file reader (format versions 1.0, 2.0 and 3.0), as written by `np.save` and by marimo's
//! lazy loader for `numpy.ndarray` blobs.
//!
//! The header is a Python dict literal such as
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }`. It is parsed as data by a
//! small literal parser, never evaluated.

use super::value::{NdArray, PyValue};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Headers are normally under 200 bytes (numpy pads to 64-byte alignment); this only bounds
/// parsing work on hostile input while leaving room for large structured dtypes.
const MAX_HEADER_LEN: usize = 1 << 20;

/// Nesting allowed in the header literal (structured dtypes nest a few levels).
const MAX_LITERAL_DEPTH: usize = 32;

/// Why an NPY file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NpyError {
    #[error("not an NPY file (bad magic)")]
    BadMagic,
    #[error("unsupported NPY version {0}.{1}")]
    UnsupportedVersion(u8, u8),
    #[error("NPY header truncated: needs {needed} bytes, {available} available")]
    Truncated { needed: usize, available: usize },
    #[error("NPY header of {0} bytes is too long")]
    HeaderTooLong(usize),
    #[error("invalid NPY header at byte {offset}: {reason}")]
    BadHeader { offset: usize, reason: &'static str },
    #[error("object array of shape {shape:?}: its elements are a pickle, not decoded")]
    ObjectArray { shape: Vec<u64> },
}

/// The parsed header of an NPY file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    pub version: (u8, u8),
    /// numpy descr (`<f8`, `|b1`, …); structured dtypes become `|V<itemsize>`.
    pub dtype: String,
    pub shape: Vec<u64>,
    pub fortran_order: bool,
    /// Where the element data starts in the file.
    pub data_offset: usize,
    /// Bytes per element.
    pub itemsize: u64,
}

impl NpyHeader {
    /// The data size implied by dtype and shape, if it fits in u64.
    pub fn nbytes(&self) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(self.itemsize, |acc, &d| acc.checked_mul(d))
    }
}

/// Parses the header of an NPY file from its first bytes (the whole header must be present).
pub fn parse_header(bytes: &[u8]) -> Result<NpyHeader, NpyError> {
    if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(
            if bytes.len() < MAGIC.len() + 2 && MAGIC.starts_with(bytes) {
                NpyError::Truncated {
                    needed: MAGIC.len() + 2,
                    available: bytes.len(),
                }
            } else {
                NpyError::BadMagic
            },
        );
    }
    let version = (bytes[6], bytes[7]);
    let len_size = match version {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        (major, minor) => return Err(NpyError::UnsupportedVersion(major, minor)),
    };
    let len_end = 8 + len_size;
    let len_bytes = bytes.get(8..len_end).ok_or(NpyError::Truncated {
        needed: len_end,
        available: bytes.len(),
    })?;
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    if header_len > MAX_HEADER_LEN {
        return Err(NpyError::HeaderTooLong(header_len));
    }
    let data_offset = len_end + header_len;
    let header = bytes.get(len_end..data_offset).ok_or(NpyError::Truncated {
        needed: data_offset,
        available: bytes.len(),
    })?;
    // Versions 1 and 2 are Latin-1, version 3 is UTF-8.
    let text: String = if version.0 == 3 {
        std::str::from_utf8(header)
            .map_err(|e| NpyError::BadHeader {
                offset: len_end + e.valid_up_to(),
                reason: "header is not UTF-8",
            })?
            .to_string()
    } else {
        header.iter().map(|&b| char::from(b)).collect()
    };
    let mut parser = LiteralParser {
        text: &text,
        pos: 0,
        base: len_end,
    };
    let dict = parser.parse_header_dict()?;
    let bad = |reason| NpyError::BadHeader {
        offset: len_end,
        reason,
    };
    let get = |key: &str| {
        dict.iter()
            .find(|(k, _)| matches!(k, PyValue::Str(s) if s == key))
            .map(|(_, v)| v)
    };
    let shape: Vec<u64> = match get("shape") {
        Some(PyValue::Tuple(dims)) => dims
            .iter()
            .map(|d| match d {
                PyValue::Int(n) => u64::try_from(*n).ok(),
                _ => None,
            })
            .collect::<Option<_>>()
            .ok_or_else(|| bad("shape is not a tuple of non-negative ints"))?,
        _ => return Err(bad("missing or invalid 'shape'")),
    };
    let fortran_order = match get("fortran_order") {
        Some(PyValue::Bool(b)) => *b,
        _ => return Err(bad("missing or invalid 'fortran_order'")),
    };
    let descr = get("descr").ok_or_else(|| bad("missing 'descr'"))?;
    let (dtype, itemsize) = match descr {
        PyValue::Str(s) if matches!(s.as_str(), "|O" | "O" | "<O" | ">O") => {
            return Err(NpyError::ObjectArray { shape });
        }
        PyValue::Str(s) => (
            s.clone(),
            simple_itemsize(s).ok_or_else(|| bad("unknown descr"))?,
        ),
        list @ PyValue::List(_) => {
            let size = structured_itemsize(list, 0).ok_or_else(|| bad("unsupported descr"))?;
            (format!("|V{size}"), size)
        }
        _ => return Err(bad("invalid 'descr'")),
    };
    Ok(NpyHeader {
        version,
        dtype,
        shape,
        fortran_order,
        data_offset,
        itemsize,
    })
}

/// Parses an NPY file, or a prefix of one: the header must be complete, the data may be cut.
/// At most `max_data` data bytes are copied; [`NdArray::is_truncated`] tells whether all were.
pub fn parse(bytes: &[u8], max_data: usize) -> Result<NdArray, NpyError> {
    let header = parse_header(bytes)?;
    let available = &bytes[header.data_offset.min(bytes.len())..];
    let wanted = header
        .nbytes()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(usize::MAX)
        .min(max_data)
        .min(available.len());
    Ok(NdArray::new(
        header.dtype,
        header.shape,
        header.fortran_order,
        available[..wanted].to_vec(),
    ))
}

/// Item size of a plain descr like `<f8`, `|S3`, `<U2`, `<M8[ns]`.
fn simple_itemsize(descr: &str) -> Option<u64> {
    let rest = descr.strip_prefix(['<', '>', '|', '=']).unwrap_or(descr);
    let mut chars = rest.chars();
    let kind = chars.next()?;
    let tail = chars.as_str();
    let digits_end = tail
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(tail.len());
    let (digits, suffix) = tail.split_at(digits_end);
    let unit_ok = suffix.is_empty()
        || (matches!(kind, 'M' | 'm') && suffix.starts_with('[') && suffix.ends_with(']'));
    if !"biufcmMSUV".contains(kind) || digits.is_empty() || !unit_ok {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    if kind == 'U' {
        n.checked_mul(4)
    } else {
        Some(n)
    }
}

/// Item size of a structured descr: a list of `(name, descr)` or `(name, descr, shape)`.
/// Recursion is bounded by the literal's own depth limit.
fn structured_itemsize(descr: &PyValue, depth: usize) -> Option<u64> {
    if depth > MAX_LITERAL_DEPTH {
        return None;
    }
    match descr {
        PyValue::Str(s) => simple_itemsize(s),
        PyValue::List(fields) => fields.iter().try_fold(0u64, |acc, field| {
            let PyValue::Tuple(parts) = field else {
                return None;
            };
            let (sub, shape) = match parts.as_slice() {
                [_, sub] => (sub, None),
                [_, sub, shape] => (sub, Some(shape)),
                _ => return None,
            };
            let mut size = structured_itemsize(sub, depth + 1)?;
            match shape {
                None => {}
                Some(PyValue::Int(n)) => size = size.checked_mul(u64::try_from(*n).ok()?)?,
                Some(PyValue::Tuple(dims)) => {
                    for d in dims {
                        let PyValue::Int(n) = d else { return None };
                        size = size.checked_mul(u64::try_from(*n).ok()?)?;
                    }
                }
                Some(_) => return None,
            }
            acc.checked_add(size)
        }),
        _ => None,
    }
}

/// A parser for the Python literals NPY headers use: dicts, tuples, lists, strings, ints,
/// `True`/`False`/`None`.
struct LiteralParser<'a> {
    text: &'a str,
    pos: usize,
    /// File offset of `text`, for error messages.
    base: usize,
}

impl LiteralParser<'_> {
    fn err(&self, reason: &'static str) -> NpyError {
        NpyError::BadHeader {
            offset: self.base + self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn parse_header_dict(&mut self) -> Result<Vec<(PyValue, PyValue)>, NpyError> {
        let PyValue::Dict(d) = self.value(0)? else {
            return Err(self.err("header is not a dict"));
        };
        self.skip_ws();
        if self.pos != self.text.len() {
            return Err(self.err("trailing text after the header dict"));
        }
        Ok(d)
    }

    /// Items up to `close`, allowing a trailing comma.
    fn items(&mut self, close: char, depth: usize) -> Result<(Vec<PyValue>, bool), NpyError> {
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.eat(close) {
                return Ok((items, trailing_comma));
            }
            items.push(self.value(depth + 1)?);
            trailing_comma = self.eat(',');
            if !trailing_comma {
                if self.eat(close) {
                    return Ok((items, false));
                }
                return Err(self.err("expected ',' or a closing bracket"));
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<PyValue, NpyError> {
        if depth > MAX_LITERAL_DEPTH {
            return Err(self.err("header nested too deeply"));
        }
        self.skip_ws();
        let Some(c) = self.peek() else {
            return Err(self.err("unexpected end of header"));
        };
        match c {
            '{' => {
                self.pos += 1;
                let mut pairs = Vec::new();
                loop {
                    if self.eat('}') {
                        return Ok(PyValue::Dict(pairs));
                    }
                    let key = self.value(depth + 1)?;
                    if !self.eat(':') {
                        return Err(self.err("expected ':'"));
                    }
                    let value = self.value(depth + 1)?;
                    pairs.push((key, value));
                    if !self.eat(',') {
                        if self.eat('}') {
                            return Ok(PyValue::Dict(pairs));
                        }
                        return Err(self.err("expected ',' or '}'"));
                    }
                }
            }
            '(' => {
                self.pos += 1;
                let (items, trailing_comma) = self.items(')', depth)?;
                // `(x)` is just x in Python; `(x,)` is a tuple.
                if items.len() == 1 && !trailing_comma {
                    return Ok(items.into_iter().next().unwrap_or(PyValue::None));
                }
                Ok(PyValue::Tuple(items))
            }
            '[' => {
                self.pos += 1;
                Ok(PyValue::List(self.items(']', depth)?.0))
            }
            '\'' | '"' => self.string(c),
            '-' | '0'..='9' => self.int(),
            _ => {
                let rest = &self.text[self.pos..];
                for (word, v) in [
                    ("True", PyValue::Bool(true)),
                    ("False", PyValue::Bool(false)),
                    ("None", PyValue::None),
                ] {
                    if rest.starts_with(word) {
                        self.pos += word.len();
                        return Ok(v);
                    }
                }
                Err(self.err("unexpected character"))
            }
        }
    }

    fn string(&mut self, quote: char) -> Result<PyValue, NpyError> {
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                c if c == quote => {
                    self.pos += i + 1;
                    return Ok(PyValue::Str(out));
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, e @ ('\\' | '\'' | '"'))) => out.push(e),
                    _ => return Err(self.err("unsupported escape in header string")),
                },
                c => out.push(c),
            }
        }
        Err(self.err("unterminated string"))
    }

    fn int(&mut self) -> Result<PyValue, NpyError> {
        let rest = &self.text[self.pos..];
        let sign = usize::from(rest.starts_with('-'));
        let digits = rest[sign..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - sign);
        if digits == 0 {
            return Err(self.err("expected a number"));
        }
        let n: i64 = rest[..sign + digits]
            .parse()
            .map_err(|_| self.err("integer out of range"))?;
        self.pos += sign + digits;
        // Python 2 wrote long shapes as `3L`.
        if self.peek() == Some('L') {
            self.pos += 1;
        }
        Ok(PyValue::Int(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds an NPY v1.0 file around a header dict literal.
    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut h = header.as_bytes().to_vec();
        h.push(b'\n');
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn header_variants() {
        let f = npy(
            "{'descr': '<i2', 'fortran_order': True, 'shape': (2L, 3), }",
            &[0; 12],
        );
        let a = parse(&f, usize::MAX).unwrap();
        assert_eq!((a.dtype.as_str(), a.shape.as_slice()), ("<i2", &[2, 3][..]));
        assert!(a.fortran_order);
        assert_eq!(a.data.len(), 12);
        let f = npy(
            "{\"descr\":\"|b1\",\"fortran_order\":False,\"shape\":()}",
            &[1],
        );
        let a = parse(&f, usize::MAX).unwrap();
        assert_eq!(a.shape, Vec::<u64>::new());
        assert_eq!(a.element_count, 1);
    }

    #[test]
    fn structured_dtype_size() {
        let f = npy(
            "{'descr': [('a', '<i4'), ('b', '<f8', (2,))], 'fortran_order': False, 'shape': (1,), }",
            &[0; 20],
        );
        let h = parse_header(&f).unwrap();
        assert_eq!((h.dtype.as_str(), h.itemsize), ("|V20", 20));
    }

    #[test]
    fn truncated_data_and_cap() {
        let f = npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
            &[0; 10],
        );
        let a = parse(&f, usize::MAX).unwrap();
        assert_eq!(a.data.len(), 10);
        assert!(a.is_truncated());
        let f = npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
            &[0; 32],
        );
        assert_eq!(parse(&f, 8).unwrap().data.len(), 8);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse(b"\x93NUM", 0),
            Err(NpyError::Truncated {
                needed: 8,
                available: 4
            })
        );
        assert_eq!(parse(b"PK\x03\x04aaaaaaaa", 0), Err(NpyError::BadMagic));
        assert_eq!(
            parse(b"\x93NUMPY\x04\x00", 0),
            Err(NpyError::UnsupportedVersion(4, 0))
        );
        let f = npy(
            "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
            &[],
        );
        assert_eq!(
            parse(&f, 0).unwrap_err().to_string(),
            "object array of shape [2]: its elements are a pickle, not decoded"
        );
        let f = npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
            &[],
        );
        assert!(matches!(parse(&f, 0), Err(NpyError::BadHeader { .. })));
        let f = npy("__import__('os').system('x')", &[]);
        assert!(matches!(parse(&f, 0), Err(NpyError::BadHeader { .. })));
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let f = npy(&deep, &[]);
        assert!(matches!(
            parse(&f, 0),
            Err(NpyError::BadHeader {
                reason: "header nested too deeply",
                ..
            })
        ));
        let mut f = npy("{}", &[]);
        f[8] = 0xff; // header length beyond the file
        assert!(matches!(parse(&f, 0), Err(NpyError::Truncated { .. })));
    }
}
