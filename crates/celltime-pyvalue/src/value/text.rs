//! Python's `repr` of scalars and text: floats (shortest round trip), complex numbers, str
//! (escaping what `str.isprintable` rejects) and bytes.

use std::fmt;

use unicode_general_category::{GeneralCategory, get_general_category};

/// Converts an IEEE half float's bits to f32 (exact: every f16 is representable).
pub(crate) fn f16_to_f32(bits: u16) -> f32 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f32::from(bits & 0x3ff);
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        0x1f if frac == 0.0 => sign * f32::INFINITY,
        0x1f => f32::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f32.powi(exp - 15),
    }
}

/// Floats whose shortest round-trip digits can be formatted like Python's `repr`.
pub(crate) trait ShortestFloat: Copy + fmt::LowerExp {
    fn is_nan(self) -> bool;
    fn is_infinite(self) -> bool;
    fn is_sign_negative(self) -> bool;
}

impl ShortestFloat for f64 {
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn is_infinite(self) -> bool {
        f64::is_infinite(self)
    }
    fn is_sign_negative(self) -> bool {
        f64::is_sign_negative(self)
    }
}

impl ShortestFloat for f32 {
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn is_infinite(self) -> bool {
        f32::is_infinite(self)
    }
    fn is_sign_negative(self) -> bool {
        f32::is_sign_negative(self)
    }
}

/// Python's float `repr`: shortest round-trip digits, positional for exponents in
/// `-4..16`, scientific (`1e+16`, `5e-324`) otherwise.
pub(crate) fn py_float_repr<F: ShortestFloat>(x: F) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x.is_sign_negative() { "-inf" } else { "inf" }.into();
    }
    // `{:e}` gives the shortest round-trip digits, e.g. "-1.25e-7".
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    shortest_text(negative, &digits, exp)
}

/// Python's layout of shortest digits `d.ddd × 10^exp`: positional for exponents in `-4..16`,
/// scientific (`1e+16`, `5e-324`) otherwise.
fn shortest_text(negative: bool, digits: &str, exp: i32) -> String {
    let sign = if negative { "-" } else { "" };
    if !(-4..16).contains(&exp) {
        let esign = if exp < 0 { '-' } else { '+' };
        let mantissa = match digits.split_at(1) {
            (first, "") => first.to_string(),
            (first, rest) => format!("{first}.{rest}"),
        };
        return format!("{sign}{mantissa}e{esign}{:02}", exp.unsigned_abs());
    }
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        format!("{sign}0.{zeros}{digits}")
    } else {
        let point = point as usize;
        if digits.len() <= point {
            let zeros = "0".repeat(point - digits.len());
            format!("{sign}{digits}{zeros}.0")
        } else {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        }
    }
}

/// numpy's `repr` digits of an x87 80-bit extended float (`np.longdouble`): the shortest
/// decimal that reads back as the same 64-bit-mantissa value, laid out like a float repr.
pub(crate) fn longdouble_repr(raw: [u8; 10]) -> String {
    let mantissa = u64::from_le_bytes(raw[..8].try_into().unwrap_or_default());
    let top = u16::from_le_bytes([raw[8], raw[9]]);
    let negative = top & 0x8000 != 0;
    let biased = i32::from(top & 0x7fff);
    if biased == 0x7fff {
        return if mantissa << 1 != 0 {
            "nan".into()
        } else if negative {
            "-inf".into()
        } else {
            "inf".into()
        };
    }
    if mantissa == 0 {
        return if negative { "-0.0" } else { "0.0" }.into();
    }
    let exp = biased.max(1) - 16383 - 63;
    let (digits, exp10) = super::bigint::shortest_digits(mantissa, exp, biased <= 1);
    shortest_text(negative, &digits, exp10)
}

/// Python's complex `repr`, e.g. `(1-2j)`, `2j`.
pub(crate) fn py_complex_repr(re: f64, im: f64) -> String {
    let part = |x: f64| {
        let s = py_float_repr(x);
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    };
    let im_s = part(im);
    if re == 0.0 && !re.is_sign_negative() {
        return format!("{im_s}j");
    }
    let sign = if im_s.starts_with('-') { "" } else { "+" };
    format!("({}{sign}{im_s}j)", part(re))
}

fn push_escaped_char(out: &mut String, c: char) {
    let code = u32::from(c);
    if code < 0x100 {
        out.push_str(&format!("\\x{code:02x}"));
    } else {
        out.push_str(&format!("\\u{code:04x}"));
    }
}

/// Escapes unsafe characters (and backslashes) in text shown without quotes, like names.
pub(crate) fn escape_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if celltime_text::is_unsafe(c) {
            push_escaped_char(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// Python's str `repr` of at most `max_chars` characters, with `…` and the length when cut.
pub(crate) fn py_str_repr(s: &str, max_chars: usize) -> String {
    code_points_repr(s.chars().map(u32::from), s.chars().count(), max_chars)
}

/// [`py_str_repr`] of a str that holds unpaired surrogates, as code points.
pub(crate) fn surrogate_str_repr(code_points: &[u32], max_chars: usize) -> String {
    code_points_repr(code_points.iter().copied(), code_points.len(), max_chars)
}

fn code_points_repr(chars: impl Iterator<Item = u32> + Clone, len: usize, max: usize) -> String {
    let has = |q: char| chars.clone().any(|c| c == u32::from(q));
    let quote = if has('\'') && !has('"') { '"' } else { '\'' };
    let mut out = String::new();
    out.push(quote);
    for (shown, code) in chars.enumerate() {
        if shown == max {
            out.push(quote);
            out.push_str(&format!("… ({len} chars)"));
            return out;
        }
        match char::from_u32(code) {
            Some('\\') => out.push_str("\\\\"),
            Some('\n') => out.push_str("\\n"),
            Some('\r') => out.push_str("\\r"),
            Some('\t') => out.push_str("\\t"),
            Some(c) if c == quote => {
                out.push('\\');
                out.push(c);
            }
            Some(c) if is_printable(c) => out.push(c),
            _ => push_code_escape(&mut out, code),
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable` for one character: not a control, format, surrogate,
/// private-use, unassigned or separator character (the ASCII space excepted).
fn is_printable(c: char) -> bool {
    use GeneralCategory::*;
    c == ' '
        || !matches!(
            get_general_category(c),
            Control
                | Format
                | Surrogate
                | PrivateUse
                | Unassigned
                | LineSeparator
                | ParagraphSeparator
                | SpaceSeparator
        )
}

/// `\xNN`, `\uNNNN` or `\UNNNNNNNN`, as Python's repr writes a character it escapes.
fn push_code_escape(out: &mut String, code: u32) {
    if code < 0x100 {
        out.push_str(&format!("\\x{code:02x}"));
    } else if code < 0x10000 {
        out.push_str(&format!("\\u{code:04x}"));
    } else {
        out.push_str(&format!("\\U{code:08x}"));
    }
}

/// Python's bytes `repr` of at most `max_bytes` bytes, with `…` and the length when cut.
pub(crate) fn py_bytes_repr(b: &[u8], max_bytes: usize) -> String {
    let shown = &b[..b.len().min(max_bytes)];
    let quote = if shown.contains(&b'\'') && !shown.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(char::from(quote));
    for &byte in shown {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            q if q == quote => {
                out.push('\\');
                out.push(char::from(q));
            }
            0x20..=0x7e => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push(char::from(quote));
    if shown.len() < b.len() {
        out.push_str(&format!("… ({} bytes)", b.len()));
    }
    out
}
