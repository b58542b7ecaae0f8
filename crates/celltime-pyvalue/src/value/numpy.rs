//! numpy values the way numpy's `repr` prints them: arrays (`array([1, 2], dtype=int32)`,
//! summarised past 1,000 elements), scalars (`np.float64(2.5)`) and dtypes (`dtype('int32')`).

use super::text::{escape_plain, f16_to_f32, longdouble_repr, py_bytes_repr, py_float_repr};
use super::text::{py_complex_repr, py_str_repr};
use super::{Dtype, NdArray, PyValue};

/// numpy summarises arrays with more elements than this (`np.get_printoptions()`).
const SUMMARY_THRESHOLD: u64 = 1000;
/// Items shown at each end of a summarised axis.
const EDGE_ITEMS: u64 = 3;
/// Characters of a fixed-width string element shown before it is cut.
const MAX_ELEMENT_CHARS: usize = 200;

impl Dtype {
    /// numpy's name: `int32`, `float128`, `datetime64[ms]`, `<U2`, `object`.
    fn name(&self, descr: &str) -> String {
        let bits = self.itemsize * 8;
        match (self.kind, &self.unit) {
            (b'b', _) if self.itemsize == 1 => "bool".into(),
            (b'i', _) => format!("int{bits}"),
            (b'u', _) => format!("uint{bits}"),
            (b'f', _) => format!("float{bits}"),
            (b'c', _) => format!("complex{bits}"),
            (b'O', _) => "object".into(),
            (b'M', Some(unit)) => format!("datetime64[{}]", unit_text(unit)),
            (b'm', Some(unit)) => format!("timedelta64[{}]", unit_text(unit)),
            (b'M', None) => "datetime64".into(),
            (b'm', None) => "timedelta64".into(),
            _ => escape_plain(descr),
        }
    }

    /// The dtypes numpy leaves out of an array's repr.
    fn is_default(&self) -> bool {
        matches!(
            (self.kind, self.itemsize),
            (b'i', 8) | (b'f', 8) | (b'b', 1) | (b'c', 16)
        )
    }

    /// `dtype=int32`, `dtype='<U2'`, `dtype='datetime64[D]'`, `dtype=[('a', '<i4')]`.
    fn suffix(&self, descr: &str) -> String {
        match self.kind {
            // A byte order other than the (little-endian) native one is shown as the descr.
            b'i' | b'u' | b'f' | b'c' if self.big_endian && self.itemsize > 1 => {
                format!("dtype={}", py_str_repr(descr, usize::MAX))
            }
            b'b' | b'i' | b'u' | b'f' | b'c' | b'O' => format!("dtype={}", self.name(descr)),
            b'V' if !self.fields.is_empty() => format!("dtype={}", escape_plain(descr)),
            _ => format!("dtype={}", py_str_repr(&self.name(descr), usize::MAX)),
        }
    }

    fn uint(&self, raw: &[u8]) -> u64 {
        let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
        if self.big_endian {
            raw.iter().fold(0, fold)
        } else {
            raw.iter().rev().fold(0, fold)
        }
    }

    fn int(&self, raw: &[u8]) -> i64 {
        let shift = 64 - self.itemsize * 8;
        // Sign-extend by shifting the value up to the top of an i64 and back.
        ((self.uint(raw) << shift) as i64) >> shift
    }

    fn float(&self, raw: &[u8]) -> Option<String> {
        Some(match self.itemsize {
            2 => py_float_repr(f16_to_f32(self.uint(raw) as u16)),
            4 => py_float_repr(f32::from_bits(self.uint(raw) as u32)),
            8 => py_float_repr(f64::from_bits(self.uint(raw))),
            // x87 extended precision, padded to 12 or 16 bytes (`np.longdouble`).
            12 | 16 if !self.big_endian => longdouble_repr(raw[..10].try_into().ok()?),
            _ => return None,
        })
    }

    /// Whether [`Self::element`] can format this dtype (without building an element: a
    /// hostile descr may claim gigabytes per item).
    fn has_element(&self) -> bool {
        match (self.kind, self.itemsize) {
            (b'b', 1) | (b'u' | b'i', 1 | 2 | 4 | 8) | (b'f', 2 | 4 | 8) => true,
            (b'f', 12 | 16) => !self.big_endian,
            (b'c', 8 | 16) => true,
            (b'c', 24 | 32) => !self.big_endian,
            (b'U' | b'S', _) => true,
            (b'M', 8) => self.unit.is_some(),
            (b'm', 8) => true,
            (b'V', _) => {
                !self.fields.is_empty() && self.fields.iter().all(|(_, _, d)| d.has_element())
            }
            _ => false,
        }
    }

    /// One element as numpy prints it inside an array; None for kinds without a preview.
    fn element(&self, raw: &[u8]) -> Option<String> {
        match (self.kind, self.itemsize) {
            (b'b', 1) => Some(if raw[0] != 0 { "True" } else { "False" }.to_string()),
            (b'u', 1 | 2 | 4 | 8) => Some(self.uint(raw).to_string()),
            (b'i', 1 | 2 | 4 | 8) => Some(self.int(raw).to_string()),
            (b'f', _) => self.float(raw),
            (b'c', 8 | 16 | 24 | 32) => {
                let (re, im) = self.complex_parts(raw)?;
                let sign = if im.starts_with('-') { "" } else { "+" };
                Some(format!("{re}{sign}{im}j"))
            }
            (b'U', _) => Some(py_str_repr(&self.text(raw), MAX_ELEMENT_CHARS)),
            (b'S', _) => {
                let end = raw.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                Some(py_bytes_repr(&raw[..end], MAX_ELEMENT_CHARS))
            }
            (b'M', 8) => {
                let (unit, count) = self.unit.as_ref()?;
                let text = datetime64_text(self.int(raw), unit, *count)?;
                Some(py_str_repr(&text, usize::MAX))
            }
            (b'm', 8) => Some(match self.int(raw) {
                i64::MIN => "'NaT'".into(),
                v => v.to_string(),
            }),
            (b'V', _) if !self.fields.is_empty() => {
                let mut parts = Vec::with_capacity(self.fields.len());
                for (_, offset, dtype) in &self.fields {
                    parts.push(dtype.element(raw.get(*offset..offset + dtype.itemsize)?)?);
                }
                Some(format!("({})", parts.join(", ")))
            }
            _ => None,
        }
    }

    fn complex_parts(&self, raw: &[u8]) -> Option<(String, String)> {
        let half = self.itemsize / 2;
        let part = Dtype::simple(self.big_endian, b'f', half);
        Some((part.float(&raw[..half])?, part.float(&raw[half..])?))
    }

    fn text(&self, raw: &[u8]) -> String {
        let chars: String = raw
            .chunks_exact(4)
            .map(|c| {
                let code = self.uint(c) as u32;
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect();
        chars.trim_end_matches('\0').to_string()
    }

    /// A numpy scalar: `np.int64(5)`, `np.True_`, `np.str_('hi')`, `np.datetime64('NaT','ns')`.
    fn scalar(&self, descr: &str, raw: &[u8]) -> Option<String> {
        let name = self.name(descr);
        Some(match self.kind {
            b'b' => format!("np.{}_", self.element(raw)?),
            b'U' => format!("np.str_({})", self.element(raw)?),
            b'S' => format!("np.bytes_({})", self.element(raw)?),
            b'c' if self.itemsize == 16 => {
                let re = f64::from_bits(self.uint(&raw[..8]));
                let im = f64::from_bits(self.uint(&raw[8..]));
                let text = py_complex_repr(re, im);
                let text = text.strip_prefix('(').and_then(|t| t.strip_suffix(')'));
                format!("np.{name}({})", text.unwrap_or(&py_complex_repr(re, im)))
            }
            b'f' if self.itemsize > 8 => format!("np.longdouble('{}')", self.element(raw)?),
            b'M' | b'm' => {
                let (unit, count) = self.unit.as_ref()?;
                let class = if self.kind == b'M' {
                    "datetime64"
                } else {
                    "timedelta64"
                };
                let unit = unit_text(&(unit.clone(), *count));
                match (self.kind, self.int(raw)) {
                    (_, i64::MIN) => format!("np.{class}('NaT','{unit}')"),
                    (b'M', v) => format!("np.datetime64('{}')", datetime64_text(v, &unit, 1)?),
                    (_, v) => format!("np.timedelta64({v},'{unit}')"),
                }
            }
            _ => format!("np.{name}({})", self.element(raw)?),
        })
    }
}

fn unit_text((unit, count): &(String, i64)) -> String {
    if *count == 1 {
        unit.clone()
    } else {
        format!("{count}{unit}")
    }
}

/// One element as a value: numbers as numbers, other kinds as the text numpy prints.
#[cfg(feature = "tables")]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// NaT.
    Missing,
    Bool(bool),
    Int(i128),
    Float(f64),
    Text(String),
}

/// Element `index` (in storage order) of a non-object array.
#[cfg(feature = "tables")]
pub(crate) fn element_cell(arr: &NdArray, index: u64) -> Option<Cell> {
    let dtype = Dtype::parse(&arr.dtype)?;
    let size = dtype.itemsize;
    let start = usize::try_from(index.checked_mul(size as u64)?).ok()?;
    let raw = arr.data.get(start..start.checked_add(size)?)?;
    Some(match (dtype.kind, size) {
        (b'b', 1) => Cell::Bool(raw[0] != 0),
        (b'i', 1 | 2 | 4 | 8) => Cell::Int(i128::from(dtype.int(raw))),
        (b'u', 1 | 2 | 4 | 8) => Cell::Int(i128::from(dtype.uint(raw))),
        (b'f', 2) => Cell::Float(f64::from(f16_to_f32(dtype.uint(raw) as u16))),
        (b'f', 4) => Cell::Float(f64::from(f32::from_bits(dtype.uint(raw) as u32))),
        (b'f', 8) => Cell::Float(f64::from_bits(dtype.uint(raw))),
        (b'M' | b'm', 8) if dtype.int(raw) == i64::MIN => Cell::Missing,
        (b'M', 8) => {
            let (unit, count) = dtype.unit.as_ref()?;
            // `2024-01-02 03:04:05` as pandas shows it: a zero fraction says nothing.
            let text = datetime64_text(dtype.int(raw), unit, *count)?.replacen('T', " ", 1);
            let trimmed = match text.split_once('.') {
                Some((whole, frac)) if frac.bytes().all(|b| b == b'0') => whole.to_string(),
                _ => text,
            };
            Cell::Text(trimmed)
        }
        (b'm', 8) => {
            let (unit, count) = dtype.unit.as_ref()?;
            let unit = unit_text(&(unit.clone(), *count));
            Cell::Text(format!("{} {unit}", dtype.int(raw)))
        }
        (b'U', _) => Cell::Text(dtype.text(raw)),
        _ => Cell::Text(dtype.element(raw)?),
    })
}

/// numpy's name of a descr (`int64`, `datetime64[us]`, `<U2`), as a table shows a dtype.
#[cfg(feature = "tables")]
pub(crate) fn dtype_name(descr: &str) -> String {
    Dtype::parse(descr).map_or_else(|| escape_plain(descr), |d| d.name(descr))
}

/// `dtype('int32')`, `dtype('<U2')`, `dtype('<M8[ns]')`, `dtype('O')`.
pub(crate) fn dtype_repr(descr: &str) -> String {
    let text = match Dtype::parse(descr) {
        Some(d) if matches!(d.kind, b'b' | b'i' | b'u' | b'f' | b'c') => d.name(descr),
        Some(d) if d.kind == b'O' => "O".into(),
        Some(d) if !d.fields.is_empty() => return format!("dtype({})", escape_plain(descr)),
        _ => descr.to_string(),
    };
    format!("dtype({})", py_str_repr(&text, usize::MAX))
}

/// numpy's ISO text of a datetime64 value: `2024-01-02`, `2024-01-02T03:04:05.123`, `NaT`.
fn datetime64_text(value: i64, unit: &str, count: i64) -> Option<String> {
    if value == i64::MIN {
        return Some("NaT".into());
    }
    let v = value.checked_mul(count)?;
    match unit {
        "Y" => return Some(format!("{}", 1970 + v)),
        "M" => {
            let (y, m) = (v.div_euclid(12) + 1970, v.rem_euclid(12) + 1);
            return Some(format!("{y}-{m:02}"));
        }
        _ => {}
    }
    // Whole days, then the time of day in the unit's own resolution.
    let (per_day, digits): (i128, usize) = match unit {
        "W" => return date_text(v.checked_mul(7)?),
        "D" => return date_text(v),
        "h" => (24, 0),
        "m" => (1_440, 0),
        "s" => (86_400, 0),
        "ms" => (86_400_000, 3),
        "us" => (86_400_000_000, 6),
        "ns" => (86_400_000_000_000, 9),
        "ps" => (86_400_000_000_000_000, 12),
        "fs" => (86_400_000_000_000_000_000, 15),
        "as" => (86_400_000_000_000_000_000_000, 18),
        _ => return None,
    };
    let v = i128::from(v);
    let days = i64::try_from(v.div_euclid(per_day)).ok()?;
    let rest = v.rem_euclid(per_day);
    let date = date_text(days)?;
    Some(match unit {
        "h" => format!("{date}T{rest:02}"),
        "m" => format!("{date}T{:02}:{:02}", rest / 60, rest % 60),
        _ => {
            let scale = 10i128.pow(digits as u32);
            let secs = rest / scale;
            let frac = rest % scale;
            let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            let mut t = format!("{date}T{h:02}:{m:02}:{s:02}");
            if digits > 0 {
                t.push_str(&format!(".{frac:0digits$}"));
            }
            t
        }
    })
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (proleptic Gregorian).
fn date_text(days: i64) -> Option<String> {
    let (y, m, d) = civil_from_days(days)?;
    Some(if (0..=9999).contains(&y) {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y}-{m:02}-{d:02}")
    })
}

/// Howard Hinnant's `civil_from_days`.
pub(crate) fn civil_from_days(days: i64) -> Option<(i64, u32, u32)> {
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    Some((y, m, d))
}

fn shape_repr(shape: &[u64]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// An array or scalar as numpy's `repr` prints it. `max_values` bounds the elements decoded:
/// larger arrays are summarised as numpy does past its threshold (the ends of every axis);
/// `object` renders an element of an object array.
pub(crate) fn ndarray_repr(
    arr: &NdArray,
    max_values: usize,
    object: &mut dyn FnMut(&PyValue) -> String,
) -> String {
    let Some(dtype) = Dtype::parse(&arr.dtype) else {
        return format!(
            "array(shape={}, dtype={}, {} bytes)",
            shape_repr(&arr.shape),
            py_str_repr(&arr.dtype, usize::MAX),
            arr.data.len()
        );
    };
    let size = dtype.itemsize;
    if arr.scalar
        && let Some(text) = arr
            .data
            .get(..size)
            .and_then(|raw| dtype.scalar(&arr.dtype, raw))
    {
        return text;
    }
    let is_object = dtype.kind == b'O';
    let mut element = |index: u64| -> Option<String> {
        if is_object {
            return arr
                .objects
                .get(usize::try_from(index).ok()?)
                .map(&mut *object);
        }
        let start = usize::try_from(index.checked_mul(size as u64)?).ok()?;
        dtype.element(arr.data.get(start..start.checked_add(size)?)?)
    };
    if is_object || dtype.has_element() {
        let mut out = String::from("array(");
        let summarise = arr.element_count > SUMMARY_THRESHOLD.min(max_values as u64);
        let mut missing = false;
        if arr.shape.is_empty() {
            out.push_str(&element(0).unwrap_or_else(|| "…".into()));
        } else if arr.element_count == 0 {
            out.push_str("[]");
        } else if arr.shape.len() <= 64 {
            let walk = Walk {
                shape: &arr.shape,
                strides: strides(arr),
                summarise,
            };
            walk.axis(0, 0, &mut element, &mut missing, &mut out);
        }
        let empty = arr.element_count == 0;
        if summarise || (empty && arr.shape.len() != 1) {
            out.push_str(&format!(", shape={}", shape_repr(&arr.shape)));
        }
        if !dtype.is_default() || empty {
            out.push_str(", ");
            out.push_str(&dtype.suffix(&arr.dtype));
        }
        out.push(')');
        if missing || arr.is_truncated() {
            out.push_str(&format!(" (data truncated to {} bytes)", arr.data.len()));
        }
        return out;
    }
    format!(
        "array(shape={}, {}, {} bytes)",
        shape_repr(&arr.shape),
        dtype.suffix(&arr.dtype),
        arr.data.len()
    )
}

/// Per-dimension storage strides in elements.
fn strides(arr: &NdArray) -> Vec<u64> {
    let n = arr.shape.len();
    let mut strides = vec![1u64; n];
    if arr.fortran_order {
        for i in 1..n {
            strides[i] = strides[i - 1].saturating_mul(arr.shape[i - 1]);
        }
    } else {
        for i in (0..n.saturating_sub(1)).rev() {
            strides[i] = strides[i + 1].saturating_mul(arr.shape[i + 1]);
        }
    }
    strides
}

/// Walks an array in logical (C) order, summarising long axes.
struct Walk<'a> {
    shape: &'a [u64],
    strides: Vec<u64>,
    summarise: bool,
}

impl Walk<'_> {
    /// Recursion depth is the number of dimensions, at most 64 (numpy's own limit).
    fn axis(
        &self,
        axis: usize,
        base: u64,
        element: &mut dyn FnMut(u64) -> Option<String>,
        missing: &mut bool,
        out: &mut String,
    ) {
        let len = self.shape[axis];
        let cut = self.summarise && len > 2 * EDGE_ITEMS;
        out.push('[');
        let mut first = true;
        let mut visit = |i: u64, out: &mut String| {
            if *missing {
                return;
            }
            if !std::mem::take(&mut first) {
                out.push_str(", ");
            }
            if i == u64::MAX {
                out.push_str("...");
                return;
            }
            let offset = base.saturating_add(i.saturating_mul(self.strides[axis]));
            if axis + 1 == self.shape.len() {
                match element(offset) {
                    Some(v) => out.push_str(&v),
                    None => {
                        *missing = true;
                        out.push('…');
                    }
                }
            } else {
                self.axis(axis + 1, offset, element, missing, out);
            }
        };
        if cut {
            for i in 0..EDGE_ITEMS {
                visit(i, out);
            }
            // A marker the closure reads: `...` only while elements are still being shown.
            visit(u64::MAX, out);
            for i in len - EDGE_ITEMS..len {
                visit(i, out);
            }
        } else {
            for i in 0..len {
                visit(i, out);
            }
        }
        out.push(']');
    }
}
