//! Literal operands: integers, floats and the text encodings of protocols 0–2.

use crate::value::bigint::{MAX_DECIMAL_BYTES, magnitude_to_decimal};
use crate::value::{HugeInt, PyValue};

/// Python 2 `str` (STRING/BINSTRING/SHORT_BINSTRING): text when ASCII, bytes otherwise.
/// (CPython 3 decodes with `encoding="ASCII"` by default and fails on the rest.)
pub(super) fn py2_str(raw: Vec<u8>) -> PyValue {
    if raw.is_ascii() {
        // ASCII is valid UTF-8; the fallback is never taken.
        String::from_utf8(raw).map_or_else(|e| PyValue::Bytes(e.into_bytes()), PyValue::Str)
    } else {
        PyValue::Bytes(raw)
    }
}

/// String bytes held by a value (what [`Limits::max_bytes_alloc`] counts).
pub(super) fn big_len(v: &PyValue) -> usize {
    match v {
        PyValue::BigInt(s) | PyValue::Str(s) => s.len(),
        PyValue::Bytes(b) | PyValue::ByteArray(b) => b.len(),
        PyValue::HugeInt(n) => n.magnitude.len(),
        PyValue::SurrogateStr(s) => s.len() * 4,
        _ => 0,
    }
}

/// Python's `float()` on a protocol-0 FLOAT line (`1.5`, `nan`, `-inf`, `1e+300`).
pub(super) fn parse_text_float(line: &[u8]) -> Option<f64> {
    std::str::from_utf8(line).ok()?.trim().parse().ok()
}

/// A protocol-0 INT/LONG decimal: `Int` when it fits in i64, else `BigInt` with leading zeros
/// removed.
pub(super) fn parse_text_int(line: &[u8]) -> Option<PyValue> {
    let s = std::str::from_utf8(line).ok()?.trim();
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Ok(v) = s.parse::<i64>() {
        return Some(PyValue::Int(v));
    }
    let digits = digits.trim_start_matches('0');
    Some(PyValue::BigInt(format!(
        "{}{digits}",
        if neg { "-" } else { "" }
    )))
}

/// A LONG1/LONG4 payload: little-endian two's complement.
pub(super) fn decode_long(raw: &[u8]) -> PyValue {
    let Some(&last) = raw.last() else {
        return PyValue::Int(0);
    };
    let negative = last & 0x80 != 0;
    // Drop redundant sign-extension bytes so small values fit in i64.
    let pad = if negative { 0xff } else { 0x00 };
    let mut len = raw.len();
    while len > 1 && raw[len - 1] == pad && (raw[len - 2] & 0x80 != 0) == negative {
        len -= 1;
    }
    let raw = &raw[..len];
    if raw.len() <= 8 {
        let mut buf = [pad; 8];
        buf[..raw.len()].copy_from_slice(raw);
        return PyValue::Int(i64::from_le_bytes(buf));
    }
    // Magnitude of a negative value: invert and add one.
    let mut mag: Vec<u8> = raw.to_vec();
    if negative {
        let mut carry = true;
        for b in &mut mag {
            *b = !*b;
            if carry {
                let (v, c) = b.overflowing_add(1);
                *b = v;
                carry = c;
            }
        }
    }
    while mag.len() > 1 && mag.last() == Some(&0) {
        mag.pop();
    }
    if mag.len() > MAX_DECIMAL_BYTES {
        return PyValue::HugeInt(Box::new(HugeInt {
            negative,
            magnitude: mag,
        }));
    }
    let sign = if negative { "-" } else { "" };
    PyValue::BigInt(format!("{sign}{}", magnitude_to_decimal(&mag)))
}

/// UTF-8 as CPython writes it with `surrogatepass`: a `Str`, or a `SurrogateStr` when the
/// bytes hold encoded surrogates (`ED A0..BF xx`). Other invalid bytes become U+FFFD.
pub(super) fn decode_utf8_surrogatepass(raw: &[u8]) -> PyValue {
    match std::str::from_utf8(raw) {
        Ok(s) => PyValue::Str(s.to_string()),
        Err(_) if raw.windows(2).any(|w| w[0] == 0xed && w[1] & 0xe0 == 0xa0) => {
            PyValue::SurrogateStr(wtf8_code_points(raw))
        }
        Err(_) => PyValue::Str(String::from_utf8_lossy(raw).into_owned()),
    }
}

fn wtf8_code_points(raw: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.extend(s.chars().map(u32::from));
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.extend(
                    std::str::from_utf8(good)
                        .unwrap_or("")
                        .chars()
                        .map(u32::from),
                );
                if let [0xed, b1 @ 0xa0..=0xbf, b2 @ 0x80..=0xbf, ..] = bad {
                    out.push(0xd000 | (u32::from(b1 & 0x3f) << 6) | u32::from(b2 & 0x3f));
                    rest = &bad[3..];
                } else {
                    out.push(u32::from(char::REPLACEMENT_CHARACTER));
                    rest = &bad[e.error_len().unwrap_or(bad.len()).max(1)..];
                }
            }
        }
    }
    out
}

/// A protocol-0 STRING argument: a Python 2 `repr` of a str, quotes included.
pub(super) fn unquote_string(line: &[u8]) -> Option<Vec<u8>> {
    let line = line.trim_ascii_end();
    let (&q, rest) = line.split_first()?;
    if !matches!(q, b'\'' | b'"') {
        return None;
    }
    let body = rest.strip_suffix(&[q])?;
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(&e) = body.get(i) else {
            out.push(b'\\');
            break;
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'x' => {
                let hex = body.get(i..i + 2)?;
                let v = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                out.push(v);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match body.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

/// Python's `raw-unicode-escape` decoding (protocol-0 UNICODE): `\uXXXX` and `\UXXXXXXXX`
/// escapes, every other byte is a Latin-1 character. Escaped lone surrogates make a
/// `SurrogateStr`.
pub(super) fn decode_raw_unicode_escape(line: &[u8]) -> PyValue {
    let mut out: Vec<u32> = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b == b'\\' {
            let width = match line.get(i + 1) {
                Some(b'u') => 4,
                Some(b'U') => 8,
                _ => 0,
            };
            let code = line
                .get(i + 2..i + 2 + width)
                .filter(|_| width > 0)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .filter(|&c| c <= 0x10ffff);
            if let Some(code) = code {
                out.push(code);
                i += 2 + width;
                continue;
            }
        }
        out.push(u32::from(b));
        i += 1;
    }
    match out
        .iter()
        .map(|&c| char::from_u32(c))
        .collect::<Option<String>>()
    {
        Some(s) => PyValue::Str(s),
        None => PyValue::SurrogateStr(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longs() {
        assert_eq!(decode_long(&[]), PyValue::Int(0));
        assert_eq!(decode_long(&[0xff]), PyValue::Int(-1));
        assert_eq!(decode_long(&[0x00, 0x80, 0x00]), PyValue::Int(0x8000));
        assert_eq!(
            decode_long(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0]),
            PyValue::BigInt("9223372036854775808".into())
        );
        assert_eq!(
            decode_long(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff]),
            PyValue::BigInt("-9223372036854775809".into())
        );
        let mut big = vec![0u8; 300];
        big[299] = 0x01; // 2**2392, 721 digits: still decimal, as Python prints it
        let PyValue::BigInt(digits) = decode_long(&big) else {
            panic!("not big");
        };
        assert_eq!(digits.len(), 721);
        assert!(digits.starts_with("115810"));
        let mut huge = vec![0u8; 2000];
        huge[1999] = 0x01; // 2**15992: past Python's 4,300 digits, kept binary
        assert!(matches!(decode_long(&huge), PyValue::HugeInt(_)));
    }

    #[test]
    fn text_literals() {
        assert_eq!(
            unquote_string(br"'a\'b\x41\101\n'").as_deref(),
            Some(&b"a'bAA\n"[..])
        );
        assert_eq!(unquote_string(b"'abc"), None);
        assert_eq!(
            decode_raw_unicode_escape(br"a\u00e9\U0001f600\x\u12"),
            PyValue::Str("aé😀\\x\\u12".into())
        );
        assert_eq!(decode_raw_unicode_escape(b"\xe9"), PyValue::Str("é".into()));
        assert_eq!(
            decode_raw_unicode_escape(br"a\ud800"),
            PyValue::SurrogateStr(vec![0x61, 0xd800])
        );
        assert_eq!(
            decode_utf8_surrogatepass(b"a\xed\xa0\x80b"),
            PyValue::SurrogateStr(vec![0x61, 0xd800, 0x62])
        );
        assert_eq!(parse_text_int(b"-0012"), Some(PyValue::Int(-12)));
        assert_eq!(
            parse_text_int(b"-000123456789012345678901234567890"),
            Some(PyValue::BigInt("-123456789012345678901234567890".into()))
        );
        assert_eq!(parse_text_int(b"1x"), None);
        assert_eq!(parse_text_float(b"-inf"), Some(f64::NEG_INFINITY));
    }
}
