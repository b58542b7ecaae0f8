//! The value tree produced by the pickle, NPY and JSON readers, and a bounded, terminal-safe
//! preview renderer for it.
//!
//! Every recursive function here takes a depth bound: trees built by the readers are already
//! limited to `Limits::max_depth`, and the renderer stops at `RenderOptions::max_depth`.

use celltime_text::is_unsafe;
use std::fmt;

/// A `module.name` reference to a Python global (a class or a function). Never resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QualName {
    pub module: String,
    pub name: String,
}

impl QualName {
    pub fn new(module: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            module: module.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for QualName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

/// A decoded Python value. Containers keep their insertion order; dict keys are not deduplicated.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    /// An integer outside `i64`: decimal digits with an optional `-`; a pickled integer of more
    /// than 256 bytes (~616 digits) is `0x` hex instead, since decimal conversion is quadratic.
    BigInt(String),
    Float(f64),
    Complex {
        re: f64,
        im: f64,
    },
    Str(String),
    Bytes(Vec<u8>),
    ByteArray(Vec<u8>),
    List(Vec<PyValue>),
    Tuple(Vec<PyValue>),
    Dict(Vec<(PyValue, PyValue)>),
    Set(Vec<PyValue>),
    FrozenSet(Vec<PyValue>),
    /// A class or function reference that was never called.
    Global(QualName),
    /// An instance of a class that is not interpreted as data.
    Object(Box<PyObject>),
    NdArray(Box<NdArray>),
    /// A `numpy.dtype` outside an array, as its descr (e.g. `<f8`).
    DType(String),
    ModuleStub(ModuleStub),
    FunctionStub(Box<FunctionStub>),
    ClassStub(Box<ClassStub>),
    UIElementStub(Box<UIElementStub>),
    Cache(Box<MarimoCache>),
    /// A back-reference to a container that encloses this position (a cycle).
    Recursive,
    /// A pickle persistent id (PERSID/BINPERSID); the referenced object lives outside the pickle.
    PersistentId(Box<PyValue>),
    /// An extension-registry code (EXT1/2/4); the registry lives in the writing process.
    Extension(i32),
}

/// A generic object: the callable that built it and everything later applied to it.
#[derive(Debug, Clone, PartialEq)]
pub struct PyObject {
    /// The class or factory, or `<callable>` (empty module) when `callable` is set.
    pub class: QualName,
    /// The callable when it was not a plain global (e.g. the result of another call).
    pub callable: Option<PyValue>,
    pub args: Vec<PyValue>,
    /// NEWOBJ_EX keyword arguments.
    pub kwargs: Vec<(PyValue, PyValue)>,
    /// BUILD state: usually an attribute dict, or `(dict | None, slots dict)`.
    pub state: Option<PyValue>,
    /// APPEND/APPENDS/ADDITEMS applied to the object (list or set subclasses).
    pub items: Vec<PyValue>,
    /// SETITEM/SETITEMS applied to the object (dict subclasses).
    pub dict_items: Vec<(PyValue, PyValue)>,
}

impl PyObject {
    pub fn new(class: QualName) -> Self {
        Self {
            class,
            callable: None,
            args: Vec::new(),
            kwargs: Vec::new(),
            state: None,
            items: Vec::new(),
            dict_items: Vec::new(),
        }
    }
}

/// A numpy array (from a pickle or an NPY file).
#[derive(Debug, Clone, PartialEq)]
pub struct NdArray {
    /// numpy descr: byte order, kind and size, e.g. `<f8`, `|b1`, `<U2`, `|O`.
    pub dtype: String,
    pub shape: Vec<u64>,
    /// When true, `data` holds the elements in column-major order.
    pub fortran_order: bool,
    /// Raw element bytes in storage order. May be a prefix of the full data.
    pub data: Vec<u8>,
    /// The product of `shape` (saturating at `u64::MAX`).
    pub element_count: u64,
}

impl NdArray {
    pub fn new(dtype: String, shape: Vec<u64>, fortran_order: bool, data: Vec<u8>) -> Self {
        let element_count = shape.iter().fold(1u64, |acc, &d| acc.saturating_mul(d));
        Self {
            dtype,
            shape,
            fortran_order,
            data,
            element_count,
        }
    }

    /// Bytes per element, when the dtype has a fixed known size.
    pub fn itemsize(&self) -> Option<u64> {
        Dtype::parse(&self.dtype).map(|d| d.itemsize as u64)
    }

    /// The full data size implied by dtype and shape.
    pub fn nbytes(&self) -> Option<u64> {
        self.itemsize()?.checked_mul(self.element_count)
    }

    /// True when `data` is shorter than dtype and shape imply.
    pub fn is_truncated(&self) -> bool {
        self.nbytes().is_some_and(|n| (self.data.len() as u64) < n)
    }
}

/// marimo `ModuleStub`: a module def (`import math` inside a cached block).
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleStub {
    pub name: String,
    /// Empty unless marimo pinned module versions.
    pub version: String,
}

/// marimo `FunctionStub`: a function defined in the notebook, kept as source.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionStub {
    pub code: String,
    pub filename: String,
    pub lineno: i64,
    /// True for an `@mo.cache` / `@mo.persistent_cache` wrapper.
    pub is_cached: bool,
}

impl FunctionStub {
    /// The function name from the first `def` line of `code`, if there is one.
    pub fn name(&self) -> Option<&str> {
        self.code.lines().find_map(|line| {
            let rest = line.trim_start();
            let rest = rest.strip_prefix("async ").unwrap_or(rest);
            let rest = rest.strip_prefix("def ")?;
            let end = rest.find(|c: char| c == '(' || c.is_whitespace())?;
            Some(&rest[..end])
        })
    }
}

/// marimo `ClassStub`: a class defined in a cell, kept as source.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassStub {
    pub qualname: String,
    pub code: String,
}

/// marimo `UIElementStub`: a `mo.ui.*` element.
#[derive(Debug, Clone, PartialEq)]
pub struct UIElementStub {
    /// The element class, e.g. `marimo._plugins.ui._impl.input.slider`.
    pub class: PyValue,
    /// The element's `InitializationArgs`.
    pub args: PyValue,
    /// Selected instance attributes; the current value is under `_value`.
    pub data: Vec<(String, PyValue)>,
}

impl UIElementStub {
    pub fn value(&self) -> Option<&PyValue> {
        self.data
            .iter()
            .find(|(k, _)| k == "_value")
            .map(|(_, v)| v)
    }
}

/// marimo's `marimo._save.cache.Cache`, the object every pickle entry holds.
#[derive(Debug, Clone, PartialEq)]
pub struct MarimoCache {
    pub defs: Vec<(String, PyValue)>,
    pub hash: String,
    /// `Pure`, `ContentAddressed`, `ExecutionPath`, `ContextExecutionPath`, `Deferred` or `Unknown`.
    pub cache_type: String,
    pub stateful_refs: Vec<String>,
    /// Always false in a saved file; kept for completeness.
    pub hit: bool,
    /// `version`, `runtime`, and `return` for function caches.
    pub meta: Vec<(String, PyValue)>,
    /// State keys this reader does not know (from a newer marimo), kept rather than dropped.
    pub extra: Vec<(String, PyValue)>,
}

impl MarimoCache {
    pub fn meta_get(&self, key: &str) -> Option<&PyValue> {
        self.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// A parsed numpy descr, enough to decode leading values for previews.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Dtype {
    big_endian: bool,
    kind: u8,
    /// Bytes per element.
    itemsize: usize,
}

impl Dtype {
    fn parse(descr: &str) -> Option<Self> {
        let b = descr.as_bytes();
        let (big_endian, rest) = match b.first()? {
            b'>' => (true, &b[1..]),
            b'<' | b'|' | b'=' => (false, &b[1..]),
            _ => (false, b),
        };
        let (&kind, digits) = rest.split_first()?;
        if digits.is_empty() {
            // `|O` has no size in its descr; a pointer is 8 bytes on every platform marimo runs on.
            return (kind == b'O').then_some(Self {
                big_endian,
                kind,
                itemsize: 8,
            });
        }
        let digits_end = digits
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        // Only a datetime unit like `[ns]` may follow the size.
        if digits_end < digits.len() && !matches!(kind, b'M' | b'm') {
            return None;
        }
        let n: usize = std::str::from_utf8(&digits[..digits_end])
            .ok()?
            .parse()
            .ok()?;
        let itemsize = if kind == b'U' { n.checked_mul(4)? } else { n };
        Some(Self {
            big_endian,
            kind,
            itemsize,
        })
    }

    /// numpy's name for common dtypes (`int64`, `float32`, `bool`); the descr otherwise.
    fn display_name(&self, descr: &str) -> String {
        let bits = self.itemsize * 8;
        let name = match self.kind {
            b'b' if self.itemsize == 1 => "bool".to_string(),
            b'i' => format!("int{bits}"),
            b'u' => format!("uint{bits}"),
            b'f' => format!("float{bits}"),
            b'c' => format!("complex{bits}"),
            _ => return escape_plain(descr),
        };
        if self.big_endian && self.itemsize > 1 {
            escape_plain(descr)
        } else {
            name
        }
    }

    /// Whether [`Self::format_element`] can decode this dtype.
    fn has_value_preview(&self) -> bool {
        matches!(
            (self.kind, self.itemsize),
            (b'b', 1) | (b'u' | b'i', 1 | 2 | 4 | 8) | (b'f', 2 | 4 | 8) | (b'c', 8 | 16)
        ) || (matches!(self.kind, b'U' | b'S') && self.itemsize > 0)
    }

    /// Formats the element stored in `raw` (exactly `itemsize` bytes), if the kind is supported.
    fn format_element(&self, raw: &[u8]) -> Option<String> {
        // Long fixed-width strings are cut like any other preview string.
        const MAX_CHARS: usize = 40;
        let be = self.big_endian;
        let uint = |bytes: &[u8]| -> u64 {
            let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
            if be {
                bytes.iter().fold(0, fold)
            } else {
                bytes.iter().rev().fold(0, fold)
            }
        };
        match (self.kind, self.itemsize) {
            (b'b', 1) => Some(if raw[0] != 0 { "True" } else { "False" }.to_string()),
            (b'u', 1 | 2 | 4 | 8) => Some(uint(raw).to_string()),
            (b'i', 1 | 2 | 4 | 8) => {
                let shift = 64 - self.itemsize * 8;
                // Sign-extend by shifting the value up to the top of an i64 and back.
                Some((((uint(raw) << shift) as i64) >> shift).to_string())
            }
            (b'f', 2) => Some(py_float_repr(f16_to_f32(uint(raw) as u16))),
            (b'f', 4) => Some(py_float_repr(f32::from_bits(uint(raw) as u32))),
            (b'f', 8) => Some(py_float_repr(f64::from_bits(uint(raw)))),
            (b'c', 8 | 16) => {
                let half = self.itemsize / 2;
                let part = Dtype {
                    big_endian: be,
                    kind: b'f',
                    itemsize: half,
                };
                let re = part.format_element(&raw[..half])?;
                let im = part.format_element(&raw[half..])?;
                let sign = if im.starts_with('-') { "" } else { "+" };
                Some(format!("({re}{sign}{im}j)"))
            }
            (b'U', _) => {
                let chars: String = raw
                    .chunks_exact(4)
                    .map(|c| {
                        let arr = [c[0], c[1], c[2], c[3]];
                        let code = if be {
                            u32::from_be_bytes(arr)
                        } else {
                            u32::from_le_bytes(arr)
                        };
                        char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                    })
                    .collect();
                Some(py_str_repr(chars.trim_end_matches('\0'), MAX_CHARS))
            }
            (b'S', _) => {
                let end = raw.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                Some(py_bytes_repr(&raw[..end], MAX_CHARS))
            }
            _ => None,
        }
    }
}

/// Converts an IEEE half float's bits to f32 (exact: every f16 is representable).
fn f16_to_f32(bits: u16) -> f32 {
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
trait ShortestFloat: Copy + fmt::LowerExp {
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
fn py_float_repr<F: ShortestFloat>(x: F) -> String {
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
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    if !(-4..16).contains(&exp) {
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{mantissa}e{esign}{:02}", exp.unsigned_abs());
    }
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
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

/// Python's complex `repr`, e.g. `(1-2j)`, `2j`.
fn py_complex_repr(re: f64, im: f64) -> String {
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
fn escape_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped_char(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// Python's str `repr` of at most `max_chars` characters, with `…` and the length when cut.
fn py_str_repr(s: &str, max_chars: usize) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    let mut shown = 0usize;
    let mut chars = s.chars();
    for c in chars.by_ref() {
        if shown == max_chars {
            break;
        }
        shown += 1;
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_unsafe(c) => push_escaped_char(&mut out, c),
            c => out.push(c),
        }
    }
    out.push(quote);
    if shown == max_chars && chars.next().is_some() {
        out.push_str(&format!("… ({} chars)", s.chars().count()));
    }
    out
}

/// Python's bytes `repr` of at most `max_bytes` bytes, with `…` and the length when cut.
fn py_bytes_repr(b: &[u8], max_bytes: usize) -> String {
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

fn shape_repr(shape: &[u64]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// Limits for [`render`]. Every field bounds output size or work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Items shown per container (the rest become `… N more`).
    pub max_items: usize,
    /// Characters shown per string.
    pub max_str_chars: usize,
    /// Bytes shown per bytes value.
    pub max_bytes: usize,
    /// Array elements decoded per ndarray.
    pub max_array_values: usize,
    /// Target line width: containers that fit stay on one line.
    pub width: usize,
    /// Container nesting shown; deeper containers become `[…]`.
    pub max_depth: usize,
    /// Values rendered in total; past it everything becomes `…`.
    pub max_values: usize,
    /// Output lines; past it a final `… N more lines` line.
    pub max_lines: usize,
    /// Spaces per indentation level.
    pub indent: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            max_items: 10,
            max_str_chars: 200,
            max_bytes: 64,
            max_array_values: 64,
            width: 100,
            max_depth: 12,
            max_values: 2_000,
            max_lines: 500,
            indent: 2,
        }
    }
}

/// A layout tree: text that is either printed flat or broken one item per line.
enum Doc {
    Text(String),
    Seq {
        open: String,
        items: Vec<Doc>,
        close: &'static str,
        /// One-element tuples print as `(x,)` when flat.
        single_comma: bool,
    },
    Pair {
        key: String,
        sep: &'static str,
        value: Box<Doc>,
    },
}

impl Doc {
    fn seq(open: impl Into<String>, items: Vec<Doc>, close: &'static str) -> Self {
        Doc::Seq {
            open: open.into(),
            items,
            close,
            single_comma: false,
        }
    }

    fn pair(key: impl Into<String>, sep: &'static str, value: Doc) -> Self {
        Doc::Pair {
            key: key.into(),
            sep,
            value: Box::new(value),
        }
    }

    fn flat(&self, out: &mut String) {
        match self {
            Doc::Text(s) => out.push_str(s),
            Doc::Seq {
                open,
                items,
                close,
                single_comma,
            } => {
                out.push_str(open);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.flat(out);
                }
                if *single_comma && items.len() == 1 {
                    out.push(',');
                }
                out.push_str(close);
            }
            Doc::Pair { key, sep, value } => {
                out.push_str(key);
                out.push_str(sep);
                value.flat(out);
            }
        }
    }

    fn flat_string(&self) -> String {
        let mut s = String::new();
        self.flat(&mut s);
        s
    }

    /// Lines for this doc when it starts at column `col` inside a block indented by `indent`.
    /// The first line carries no indentation; later lines are absolutely indented.
    fn layout(&self, col: usize, indent: usize, opts: &RenderOptions) -> Vec<String> {
        let flat = self.flat_string();
        if col + flat.chars().count() <= opts.width {
            return vec![flat];
        }
        match self {
            Doc::Text(_) => vec![flat],
            Doc::Seq { items, .. } if items.is_empty() => vec![flat],
            Doc::Seq {
                open, items, close, ..
            } => {
                let inner = indent + opts.indent;
                let pad = " ".repeat(inner);
                let mut lines = vec![open.clone()];
                for item in items {
                    let mut sub = item.layout(inner, inner, opts);
                    sub[0].insert_str(0, &pad);
                    if let Some(last) = sub.last_mut() {
                        last.push(',');
                    }
                    lines.extend(sub);
                }
                lines.push(format!("{}{close}", " ".repeat(indent)));
                lines
            }
            Doc::Pair { key, sep, value } => {
                let head = format!("{key}{sep}");
                let mut lines = value.layout(col + head.chars().count(), indent, opts);
                lines[0].insert_str(0, &head);
                lines
            }
        }
    }
}

/// How an entry of a rendered container is labelled.
enum Key<'v> {
    /// A plain item.
    None,
    /// `name=value` (object attributes, keyword arguments).
    Name(String),
    /// `key: value` with an arbitrary key.
    Value(&'v PyValue),
    /// `'key': value` with a string key.
    Str(&'v str),
}

/// Builds the layout tree from a value, spending the global `max_values` budget.
struct DocBuilder<'a> {
    opts: &'a RenderOptions,
    budget: usize,
}

impl DocBuilder<'_> {
    /// Renders at most `max_items` of `total` entries, then `… N more`.
    fn entries<'v>(
        &mut self,
        total: usize,
        entries: impl Iterator<Item = (Key<'v>, &'v PyValue)>,
        depth: usize,
    ) -> Vec<Doc> {
        let mut items = Vec::new();
        for (i, (key, v)) in entries.enumerate() {
            if i == self.opts.max_items || self.budget == 0 {
                items.push(Doc::Text(format!("… {} more", total - i)));
                break;
            }
            let key = match key {
                Key::None => None,
                Key::Name(name) => Some((name, "=")),
                Key::Value(k) => Some((self.doc(k, depth + 1).flat_string(), ": ")),
                Key::Str(s) => Some((py_str_repr(s, self.opts.max_str_chars), ": ")),
            };
            let value = self.doc(v, depth + 1);
            items.push(match key {
                Some((key, sep)) => Doc::pair(key, sep, value),
                None => value,
            });
        }
        items
    }

    fn seq(&mut self, open: &str, close: &'static str, values: &[PyValue], depth: usize) -> Doc {
        let items = self.entries(values.len(), values.iter().map(|v| (Key::None, v)), depth);
        Doc::seq(open, items, close)
    }

    fn dict(&mut self, pairs: &[(PyValue, PyValue)], depth: usize) -> Doc {
        let entries = pairs.iter().map(|(k, v)| (Key::Value(k), v));
        let items = self.entries(pairs.len(), entries, depth);
        Doc::seq("{", items, "}")
    }

    fn str_dict(&mut self, pairs: &[(String, PyValue)], depth: usize) -> Doc {
        let entries = pairs.iter().map(|(k, v)| (Key::Str(k), v));
        let items = self.entries(pairs.len(), entries, depth);
        Doc::seq("{", items, "}")
    }

    fn doc(&mut self, v: &PyValue, depth: usize) -> Doc {
        if self.budget == 0 {
            return Doc::Text("…".into());
        }
        self.budget -= 1;
        let text = |s: String| Doc::Text(s);
        let container = matches!(
            v,
            PyValue::List(_)
                | PyValue::Tuple(_)
                | PyValue::Dict(_)
                | PyValue::Set(_)
                | PyValue::FrozenSet(_)
                | PyValue::Object(_)
                | PyValue::Cache(_)
                | PyValue::UIElementStub(_)
                | PyValue::PersistentId(_)
        );
        if container && depth >= self.opts.max_depth {
            return text("…".into());
        }
        match v {
            PyValue::None => text("None".into()),
            PyValue::Bool(b) => text(if *b { "True" } else { "False" }.into()),
            PyValue::Int(i) => text(i.to_string()),
            PyValue::BigInt(s) => text(escape_plain(s)),
            PyValue::Float(f) => text(py_float_repr(*f)),
            PyValue::Complex { re, im } => text(py_complex_repr(*re, *im)),
            PyValue::Str(s) => text(py_str_repr(s, self.opts.max_str_chars)),
            PyValue::Bytes(b) => text(py_bytes_repr(b, self.opts.max_bytes)),
            PyValue::ByteArray(b) => text(format!(
                "bytearray({})",
                py_bytes_repr(b, self.opts.max_bytes)
            )),
            PyValue::List(items) => self.seq("[", "]", items, depth),
            PyValue::Tuple(items) => {
                let mut doc = self.seq("(", ")", items, depth);
                if let Doc::Seq { single_comma, .. } = &mut doc {
                    *single_comma = true;
                }
                doc
            }
            PyValue::Dict(pairs) => self.dict(pairs, depth),
            PyValue::Set(items) if items.is_empty() => text("set()".into()),
            PyValue::Set(items) => self.seq("{", "}", items, depth),
            PyValue::FrozenSet(items) if items.is_empty() => text("frozenset()".into()),
            PyValue::FrozenSet(items) => self.seq("frozenset({", "})", items, depth),
            PyValue::Global(q) => text(escape_plain(&q.to_string())),
            PyValue::Object(obj) => self.object(obj, depth),
            PyValue::NdArray(arr) => text(render_ndarray(arr, self.opts)),
            PyValue::DType(d) => text(format!("dtype({})", py_str_repr(d, 40))),
            PyValue::ModuleStub(m) if m.version.is_empty() => {
                text(format!("<module {}>", escape_plain(&m.name)))
            }
            PyValue::ModuleStub(m) => text(format!(
                "<module {} {}>",
                escape_plain(&m.name),
                escape_plain(&m.version)
            )),
            PyValue::FunctionStub(f) => {
                let file = f.filename.rsplit(['/', '\\']).next().unwrap_or("");
                text(format!(
                    "<{}function {} at {}:{}>",
                    if f.is_cached { "cached " } else { "" },
                    escape_plain(f.name().unwrap_or("?")),
                    escape_plain(file),
                    f.lineno
                ))
            }
            PyValue::ClassStub(c) => text(format!("<class {}>", escape_plain(&c.qualname))),
            PyValue::UIElementStub(ui) => {
                let class = match &ui.class {
                    PyValue::Global(q) => escape_plain(&q.name),
                    other => self.doc(other, depth + 1).flat_string(),
                };
                match ui.value() {
                    Some(value) => {
                        let value = self.doc(value, depth + 1).flat_string();
                        text(format!("<ui {class} value={value}>"))
                    }
                    None => text(format!("<ui {class}>")),
                }
            }
            PyValue::Cache(cache) => self.cache(cache, depth),
            PyValue::Recursive => text("<recursive>".into()),
            PyValue::PersistentId(id) => {
                let id = self.doc(id, depth + 1).flat_string();
                text(format!("<persistent id {id}>"))
            }
            PyValue::Extension(code) => text(format!("<extension {code}>")),
        }
    }

    /// `module.Name(args…, kw=…, attr=…)`: attribute dicts (plain, or the `(dict, slots)` pair)
    /// become `name=value`; any other state shows as `__state__=…`.
    fn object(&mut self, obj: &PyObject, depth: usize) -> Doc {
        if let Some(text) = self.datetime(obj, depth) {
            return Doc::Text(text);
        }
        let open = match &obj.callable {
            Some(callable) => format!("{}(", self.doc(callable, depth + 1).flat_string()),
            None => format!("{}(", escape_plain(&obj.class.to_string())),
        };
        let attr_dicts: Option<Vec<&[(PyValue, PyValue)]>> = match &obj.state {
            None => Some(Vec::new()),
            Some(PyValue::Dict(d)) => Some(vec![d.as_slice()]),
            Some(PyValue::Tuple(t)) if t.len() == 2 => t
                .iter()
                .map(|x| match x {
                    PyValue::None => Some(&[][..]),
                    PyValue::Dict(d) => Some(d.as_slice()),
                    _ => None,
                })
                .collect(),
            Some(_) => None,
        };
        let attr_dicts = attr_dicts.filter(|dicts| {
            dicts
                .iter()
                .all(|d| d.iter().all(|(k, _)| matches!(k, PyValue::Str(_))))
        });
        let mut entries: Vec<(Key, &PyValue)> = Vec::new();
        entries.extend(obj.args.iter().map(|a| (Key::None, a)));
        for (k, v) in &obj.kwargs {
            match k {
                PyValue::Str(s) => entries.push((Key::Name(escape_plain(s)), v)),
                other => entries.push((Key::Value(other), v)),
            }
        }
        match (&attr_dicts, &obj.state) {
            (Some(dicts), _) => {
                for (k, v) in dicts.iter().flat_map(|d| d.iter()) {
                    if let PyValue::Str(s) = k {
                        entries.push((Key::Name(escape_plain(s)), v));
                    }
                }
            }
            (None, Some(state)) => entries.push((Key::Name("__state__".into()), state)),
            (None, None) => {}
        }
        let mut items = self.entries(entries.len(), entries.into_iter(), depth);
        if !obj.items.is_empty() {
            items.push(self.seq("[", "]", &obj.items, depth + 1));
        }
        if !obj.dict_items.is_empty() {
            items.push(self.dict(&obj.dict_items, depth + 1));
        }
        Doc::seq(open, items, ")")
    }

    /// `datetime` values the way Python prints them. They pickle as their packed bytes
    /// (`year_hi, year_lo, month, day, hour, minute, second, us×3`) plus an optional tzinfo.
    fn datetime(&mut self, obj: &PyObject, depth: usize) -> Option<String> {
        if obj.callable.is_some() || obj.class.module != "datetime" || obj.state.is_some() {
            return None;
        }
        let (packed, tz) = match obj.args.as_slice() {
            [PyValue::Bytes(b)] => (b, None),
            [PyValue::Bytes(b), tz] => (b, Some(tz)),
            _ => (&Vec::new(), None),
        };
        let us = |b: &[u8]| (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        // Python omits trailing zero seconds/microseconds but always shows hour and minute.
        let clock = |h: u8, m: u8, sec: u8, micro: u32| match (sec, micro) {
            (0, 0) => format!("{h}, {m}"),
            (_, 0) => format!("{h}, {m}, {sec}"),
            _ => format!("{h}, {m}, {sec}, {micro}"),
        };
        let body = match (obj.class.name.as_str(), packed.as_slice()) {
            ("datetime", &[y0, y1, mo, d, h, mi, sec, ..]) if packed.len() == 10 => {
                // The high bit of the month byte is PEP 495's `fold`.
                let year = u16::from(y0) << 8 | u16::from(y1);
                let time = clock(h, mi, sec, us(&packed[7..]));
                format!("{year}, {}, {d}, {time}", mo & 0x7f)
            }
            ("date", &[y0, y1, mo, d]) if tz.is_none() => {
                format!("{}, {mo}, {d}", u16::from(y0) << 8 | u16::from(y1))
            }
            ("time", &[h, mi, sec, ..]) if packed.len() == 6 => {
                clock(h & 0x7f, mi, sec, us(&packed[3..]))
            }
            ("timedelta", _) => {
                let [PyValue::Int(days), PyValue::Int(secs), PyValue::Int(micros)] =
                    obj.args.as_slice()
                else {
                    return None;
                };
                let parts: Vec<String> =
                    [("days", days), ("seconds", secs), ("microseconds", micros)]
                        .into_iter()
                        .filter(|(_, v)| **v != 0)
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                let body = if parts.is_empty() {
                    "0".to_string()
                } else {
                    parts.join(", ")
                };
                return Some(format!("datetime.timedelta({body})"));
            }
            _ => return None,
        };
        let tz = match tz {
            Some(tz) => format!(", tzinfo={}", self.doc(tz, depth + 1).flat_string()),
            None => String::new(),
        };
        Some(format!("datetime.{}({body}{tz})", obj.class.name))
    }

    fn cache(&mut self, cache: &MarimoCache, depth: usize) -> Doc {
        let mut items = vec![
            Doc::pair(
                "cache_type",
                "=",
                Doc::Text(py_str_repr(&cache.cache_type, 40)),
            ),
            Doc::pair("hash", "=", Doc::Text(py_str_repr(&cache.hash, 80))),
            Doc::pair("defs", "=", self.str_dict(&cache.defs, depth + 1)),
        ];
        let refs = if cache.stateful_refs.is_empty() {
            Doc::Text("set()".into())
        } else {
            let mut refs: Vec<Doc> = cache
                .stateful_refs
                .iter()
                .take(self.opts.max_items)
                .map(|s| Doc::Text(py_str_repr(s, self.opts.max_str_chars)))
                .collect();
            if cache.stateful_refs.len() > refs.len() {
                refs.push(Doc::Text(format!(
                    "… {} more",
                    cache.stateful_refs.len() - refs.len()
                )));
            }
            Doc::seq("{", refs, "}")
        };
        items.push(Doc::pair("stateful_refs", "=", refs));
        if cache.hit {
            items.push(Doc::Text("hit=True".into()));
        }
        items.push(Doc::pair(
            "meta",
            "=",
            self.str_dict(&cache.meta, depth + 1),
        ));
        if !cache.extra.is_empty() {
            items.push(Doc::pair(
                "extra",
                "=",
                self.str_dict(&cache.extra, depth + 1),
            ));
        }
        Doc::seq("marimo Cache(", items, ")")
    }
}

/// `ndarray int64 shape (2, 3) [[0, 1, 2], [3, 4, 5]]`, or dtype, shape and size when the
/// dtype's values cannot be decoded. A 0-d array (a numpy scalar) renders as `numpy.float64(2.5)`.
fn render_ndarray(arr: &NdArray, opts: &RenderOptions) -> String {
    let dtype = Dtype::parse(&arr.dtype);
    let name = dtype.map_or_else(|| escape_plain(&arr.dtype), |d| d.display_name(&arr.dtype));
    let values = dtype.and_then(|d| ArrayValues::new(arr, d, opts.max_array_values));
    if arr.shape.is_empty()
        && let Some(mut values) = values
    {
        let v = values.element(0).unwrap_or_else(|| "?".into());
        return format!("numpy.{name}({v})");
    }
    let mut out = format!("ndarray {name} shape {}", shape_repr(&arr.shape));
    match values {
        Some(mut values) => {
            out.push(' ');
            values.dim(0, 0, &mut out);
            if arr.is_truncated() {
                out.push_str(&format!(" (data truncated to {} bytes)", arr.data.len()));
            }
        }
        None => out.push_str(&format!(" {} bytes", arr.data.len())),
    }
    out
}

/// Walks an array's leading elements in logical (C) order for previews.
struct ArrayValues<'a> {
    arr: &'a NdArray,
    dtype: Dtype,
    budget: usize,
    /// Per-dimension storage strides in elements.
    strides: Vec<u64>,
}

impl<'a> ArrayValues<'a> {
    /// numpy allows at most 64 dimensions; anything beyond gets no value preview.
    const MAX_DIMS: usize = 64;

    fn new(arr: &'a NdArray, dtype: Dtype, budget: usize) -> Option<Self> {
        if arr.shape.len() > Self::MAX_DIMS || dtype.itemsize == 0 {
            return None;
        }
        if !dtype.has_value_preview() {
            return None;
        }
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
        Some(Self {
            arr,
            dtype,
            budget,
            strides,
        })
    }

    fn element(&mut self, index: u64) -> Option<String> {
        let size = self.dtype.itemsize as u64;
        let start = usize::try_from(index.checked_mul(size)?).ok()?;
        let raw = self
            .arr
            .data
            .get(start..start.checked_add(self.dtype.itemsize)?)?;
        self.dtype.format_element(raw)
    }

    /// Appends dimension `axis` starting at storage offset `base` (in elements).
    /// Recursion depth is the number of dimensions, at most `MAX_DIMS`.
    fn dim(&mut self, axis: usize, base: u64, out: &mut String) {
        let len = self.arr.shape[axis];
        out.push('[');
        for i in 0..len {
            if i > 0 {
                out.push_str(", ");
            }
            if self.budget == 0 {
                out.push('…');
                break;
            }
            // Sub-arrays spend budget too, so shapes like (10**9, 0) stay bounded.
            self.budget -= 1;
            let offset = base.saturating_add(i.saturating_mul(self.strides[axis]));
            if axis + 1 == self.arr.shape.len() {
                match self.element(offset) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('…');
                        break;
                    }
                }
            } else {
                self.dim(axis + 1, offset, out);
            }
        }
        out.push(']');
    }
}

/// Renders a readable, indented, bounded preview of `value`, one string per line.
/// Output never contains control characters.
pub fn render(value: &PyValue, opts: &RenderOptions) -> Vec<String> {
    let mut builder = DocBuilder {
        opts,
        budget: opts.max_values,
    };
    let doc = builder.doc(value, 0);
    let mut lines = doc.layout(0, 0, opts);
    if lines.len() > opts.max_lines {
        let more = lines.len() - opts.max_lines;
        lines.truncate(opts.max_lines);
        lines.push(format!("… {more} more lines"));
    }
    lines
}

/// Renders `value` on a single line (still bounded by the item, string and value limits).
pub fn render_inline(value: &PyValue, opts: &RenderOptions) -> String {
    let mut builder = DocBuilder {
        opts,
        budget: opts.max_values,
    };
    builder.doc(value, 0).flat_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(v: &PyValue) -> String {
        render_inline(v, &RenderOptions::default())
    }

    #[test]
    fn float_repr_matches_python() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.5, "1.5"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.6, "123456789012345.6"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e300, "1e+300"),
            (5e-324, "5e-324"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
            (2.956390380859375e-05, "2.956390380859375e-05"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float_repr(*x), *want, "{x:e}");
        }
        assert_eq!(py_float_repr(0.1f32), "0.1");
        assert_eq!(py_complex_repr(1.0, -2.0), "(1-2j)");
        assert_eq!(py_complex_repr(0.0, 2.0), "2j");
    }

    #[test]
    fn half_floats() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
    }

    #[test]
    fn strings_are_escaped_and_truncated() {
        assert_eq!(one(&PyValue::Str("it's".into())), "\"it's\"");
        assert_eq!(
            one(&PyValue::Str("a\u{1b}[31m\u{7}\u{85}\u{202e}\n\\".into())),
            r"'a\x1b[31m\x07\x85\u202e\n\\'"
        );
        let opts = RenderOptions {
            max_str_chars: 3,
            max_bytes: 2,
            ..RenderOptions::default()
        };
        assert_eq!(
            render_inline(&PyValue::Str("abcdef".into()), &opts),
            "'abc'… (6 chars)"
        );
        assert_eq!(
            render_inline(&PyValue::Bytes(vec![0, b'\'', 2]), &opts),
            r#"b"\x00'"… (3 bytes)"#
        );
        assert_eq!(
            one(&PyValue::ByteArray(b"a\"'".to_vec())),
            r#"bytearray(b'a"\'')"#
        );
    }

    #[test]
    fn containers_python_style() {
        let v = PyValue::Dict(vec![
            (
                PyValue::Str("t1".into()),
                PyValue::Tuple(vec![PyValue::Int(1)]),
            ),
            (PyValue::Str("t0".into()), PyValue::Tuple(vec![])),
            (PyValue::Int(5), PyValue::Set(vec![])),
            (
                PyValue::Tuple(vec![PyValue::Int(1), PyValue::Int(2)]),
                PyValue::FrozenSet(vec![PyValue::Int(7)]),
            ),
            (PyValue::None, PyValue::List(vec![PyValue::Recursive])),
        ]);
        assert_eq!(
            one(&v),
            "{'t1': (1,), 't0': (), 5: set(), (1, 2): frozenset({7}), None: [<recursive>]}"
        );
    }

    #[test]
    fn long_containers_are_cut() {
        let v = PyValue::List((0..100).map(PyValue::Int).collect());
        let opts = RenderOptions {
            max_items: 3,
            ..RenderOptions::default()
        };
        assert_eq!(render_inline(&v, &opts), "[0, 1, 2, … 97 more]");
    }

    #[test]
    fn breaks_lines_when_too_wide() {
        let inner = PyValue::List((0..4).map(PyValue::Int).collect());
        let v = PyValue::Dict(vec![
            (PyValue::Str("alpha".into()), inner.clone()),
            (PyValue::Str("beta".into()), PyValue::Str("x".repeat(10))),
        ]);
        let opts = RenderOptions {
            width: 30,
            ..RenderOptions::default()
        };
        assert_eq!(
            render(&v, &opts),
            vec![
                "{",
                "  'alpha': [0, 1, 2, 3],",
                "  'beta': 'xxxxxxxxxx',",
                "}"
            ]
        );
    }

    #[test]
    fn line_limit() {
        let v = PyValue::List((0..50).map(|i| PyValue::Str(format!("{i:020}"))).collect());
        let opts = RenderOptions {
            width: 10,
            max_items: 100,
            max_lines: 5,
            ..RenderOptions::default()
        };
        let lines = render(&v, &opts);
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[5], "… 47 more lines");
    }

    #[test]
    fn depth_and_value_budget() {
        let mut v = PyValue::Int(0);
        for _ in 0..50 {
            v = PyValue::List(vec![v]);
        }
        let opts = RenderOptions {
            max_depth: 3,
            ..RenderOptions::default()
        };
        assert_eq!(render_inline(&v, &opts), "[[[…]]]");
        let wide = PyValue::List(vec![PyValue::List((0..10).map(PyValue::Int).collect()); 10]);
        let opts = RenderOptions {
            max_values: 5,
            ..RenderOptions::default()
        };
        assert_eq!(
            render_inline(&wide, &opts),
            "[[0, 1, 2, … 7 more], … 9 more]"
        );
    }

    fn arr(dtype: &str, shape: &[u64], fortran: bool, data: Vec<u8>) -> PyValue {
        PyValue::NdArray(Box::new(NdArray::new(
            dtype.into(),
            shape.to_vec(),
            fortran,
            data,
        )))
    }

    #[test]
    fn ndarray_values() {
        let i64s: Vec<u8> = (0i64..6).flat_map(i64::to_le_bytes).collect();
        assert_eq!(
            one(&arr("<i8", &[2, 3], false, i64s.clone())),
            "ndarray int64 shape (2, 3) [[0, 1, 2], [3, 4, 5]]"
        );
        // Column-major storage of [[0, 1, 2], [3, 4, 5]] is 0 3 1 4 2 5.
        let f: Vec<u8> = [0i32, 3, 1, 4, 2, 5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            one(&arr("<i4", &[2, 3], true, f)),
            "ndarray int32 shape (2, 3) [[0, 1, 2], [3, 4, 5]]"
        );
        let be: Vec<u8> = [1u16, 258].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(
            one(&arr(">u2", &[2], false, be)),
            "ndarray >u2 shape (2,) [1, 258]"
        );
        assert_eq!(
            one(&arr("|b1", &[3], false, vec![1, 0, 1])),
            "ndarray bool shape (3,) [True, False, True]"
        );
        assert_eq!(
            one(&arr("<i1", &[2], false, vec![0xff, 0x80])),
            "ndarray int8 shape (2,) [-1, -128]"
        );
        let floats: Vec<u8> = [0.5f64, f64::NAN]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            one(&arr("<f8", &[2], false, floats)),
            "ndarray float64 shape (2,) [0.5, nan]"
        );
        assert_eq!(
            one(&arr("<f8", &[], false, 2.5f64.to_le_bytes().to_vec())),
            "numpy.float64(2.5)"
        );
        assert_eq!(
            one(&arr(
                "<U2",
                &[2],
                false,
                b"a\0\0\0b\0\0\0c\0\0\0\0\0\0\0".to_vec()
            )),
            "ndarray <U2 shape (2,) ['ab', 'c']"
        );
        assert_eq!(
            one(&arr("|O", &[2], false, vec![])),
            "ndarray |O shape (2,) 0 bytes"
        );
        assert_eq!(
            one(&arr("<f8", &[0, 3], false, vec![])),
            "ndarray float64 shape (0, 3) []"
        );
        let opts = RenderOptions {
            max_array_values: 6,
            ..RenderOptions::default()
        };
        assert_eq!(
            render_inline(&arr("<i8", &[2, 3], false, i64s.clone()), &opts),
            "ndarray int64 shape (2, 3) [[0, 1, 2], [3, …]]"
        );
        assert_eq!(
            one(&arr("<i8", &[6], false, i64s[..20].to_vec())),
            "ndarray int64 shape (6,) [0, 1, …] (data truncated to 20 bytes)"
        );
    }

    #[test]
    fn datetimes_like_python() {
        let obj = |name: &str, args: Vec<PyValue>| {
            let mut o = PyObject::new(QualName::new("datetime", name));
            o.args = args;
            one(&PyValue::Object(Box::new(o)))
        };
        let utc = PyValue::Global(QualName::new("datetime", "timezone.utc"));
        assert_eq!(
            obj(
                "datetime",
                vec![PyValue::Bytes(vec![7, 232, 0x81, 2, 0, 0, 0, 0, 0, 0])]
            ),
            "datetime.datetime(2024, 1, 2, 0, 0)"
        );
        assert_eq!(
            obj("time", vec![PyValue::Bytes(vec![13, 5, 7, 0, 0, 0]), utc]),
            "datetime.time(13, 5, 7, tzinfo=datetime.timezone.utc)"
        );
        assert_eq!(
            obj(
                "timedelta",
                vec![PyValue::Int(0), PyValue::Int(0), PyValue::Int(0)]
            ),
            "datetime.timedelta(0)"
        );
        // Anything else about a datetime object stays generic.
        assert_eq!(
            obj("date", vec![PyValue::Bytes(vec![1, 2, 3])]),
            r"datetime.date(b'\x01\x02\x03')"
        );
    }

    #[test]
    fn stubs_and_objects() {
        let f = PyValue::FunctionStub(Box::new(FunctionStub {
            code: "def plus_a(x):\n    return x + pre.a\n".into(),
            filename: "/home/u/demo/notebook.py".into(),
            lineno: 61,
            is_cached: false,
        }));
        assert_eq!(one(&f), "<function plus_a at notebook.py:61>");
        let m = PyValue::ModuleStub(ModuleStub {
            name: "math".into(),
            version: String::new(),
        });
        assert_eq!(one(&m), "<module math>");
        let mut obj = PyObject::new(QualName::new("types", "SimpleNamespace"));
        obj.state = Some(PyValue::Dict(vec![(
            PyValue::Str("b".into()),
            PyValue::Int(2),
        )]));
        assert_eq!(
            one(&PyValue::Object(Box::new(obj))),
            "types.SimpleNamespace(b=2)"
        );
        let mut slotted = PyObject::new(QualName::new("__main__", "S\u{1b}"));
        slotted.state = Some(PyValue::Tuple(vec![
            PyValue::None,
            PyValue::Dict(vec![(PyValue::Str("a".into()), PyValue::Int(3))]),
        ]));
        slotted.items = vec![PyValue::Int(1)];
        assert_eq!(
            one(&PyValue::Object(Box::new(slotted))),
            r"__main__.S\x1b(a=3, [1])"
        );
    }
}
