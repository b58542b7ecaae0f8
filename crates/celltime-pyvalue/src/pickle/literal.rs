//! Literal operands: integers, floats and the text encodings of protocols 0–2.

use crate::value::PyValue;

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

/// Above this many bytes a LONG becomes hex: decimal conversion is quadratic in the length.
const MAX_DECIMAL_LONG_BYTES: usize = 256;

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
    let sign = if negative { "-" } else { "" };
    if mag.len() > MAX_DECIMAL_LONG_BYTES {
        let hex: String = mag.iter().rev().map(|b| format!("{b:02x}")).collect();
        return PyValue::BigInt(format!("{sign}0x{}", hex.trim_start_matches('0')));
    }
    PyValue::BigInt(format!("{sign}{}", magnitude_to_decimal(&mag)))
}

/// Decimal digits of a little-endian unsigned magnitude, by repeated division by 10^9.
fn magnitude_to_decimal(mag: &[u8]) -> String {
    let mut limbs: Vec<u32> = mag
        .chunks(4)
        .map(|c| {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(b)
        })
        .collect();
    let mut groups = Vec::new();
    while limbs.iter().any(|&l| l != 0) {
        let mut rem = 0u64;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        groups.push(rem as u32);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let Some((first, rest)) = groups.split_last() else {
        return "0".into();
    };
    let mut out = first.to_string();
    for g in rest.iter().rev() {
        out.push_str(&format!("{g:09}"));
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
/// escapes, every other byte is a Latin-1 character.
pub(super) fn decode_raw_unicode_escape(line: &[u8]) -> String {
    let mut out = String::with_capacity(line.len());
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
                .and_then(|h| u32::from_str_radix(h, 16).ok());
            if let Some(code) = code {
                // Lone surrogates cannot live in a Rust string.
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                i += 2 + width;
                continue;
            }
        }
        out.push(char::from(b));
        i += 1;
    }
    out
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
        big[299] = 0x01; // 2**2392
        let PyValue::BigInt(hex) = decode_long(&big) else {
            panic!("not big");
        };
        assert_eq!(hex.len(), 2 + 1 + 2 * 299);
        assert!(hex.starts_with("0x1000"));
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
            "aé😀\\x\\u12"
        );
        assert_eq!(decode_raw_unicode_escape(b"\xe9"), "é");
        assert_eq!(parse_text_int(b"-0012"), Some(PyValue::Int(-12)));
        assert_eq!(
            parse_text_int(b"-000123456789012345678901234567890"),
            Some(PyValue::BigInt("-123456789012345678901234567890".into()))
        );
        assert_eq!(parse_text_int(b"1x"), None);
        assert_eq!(parse_text_float(b"-inf"), Some(f64::NEG_INFINITY));
    }
}
