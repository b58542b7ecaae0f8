//! A bounded, terminal-safe, `repr`-like preview renderer for [`PyValue`] trees.
//!
//! Every recursive function here takes a depth bound: the renderer stops at
//! `RenderOptions::max_depth`.

use super::numpy::{dtype_repr, ndarray_repr};
use super::text::{
    escape_plain, py_bytes_repr, py_complex_repr, py_float_repr, py_str_repr, surrogate_str_repr,
};
use super::{HugeInt, MarimoCache, PyObject, PyValue, QualName, StdArray};

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
pub(super) enum Doc {
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
    pub(super) fn seq(open: impl Into<String>, items: Vec<Doc>, close: &'static str) -> Self {
        Doc::Seq {
            open: open.into(),
            items,
            close,
            single_comma: false,
        }
    }

    pub(super) fn pair(key: impl Into<String>, sep: &'static str, value: Doc) -> Self {
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

    pub(super) fn flat_string(&self) -> String {
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
pub(super) enum Key<'v> {
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
pub(super) struct DocBuilder<'a> {
    opts: &'a RenderOptions,
    budget: usize,
}

impl DocBuilder<'_> {
    /// Renders at most `max_items` of `total` entries, then `… N more`.
    pub(super) fn entries<'v>(
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

    pub(super) fn seq(
        &mut self,
        open: &str,
        close: &'static str,
        values: &[PyValue],
        depth: usize,
    ) -> Doc {
        let items = self.entries(values.len(), values.iter().map(|v| (Key::None, v)), depth);
        Doc::seq(open, items, close)
    }

    pub(super) fn dict(&mut self, pairs: &[(PyValue, PyValue)], depth: usize) -> Doc {
        let entries = pairs.iter().map(|(k, v)| (Key::Value(k), v));
        let items = self.entries(pairs.len(), entries, depth);
        Doc::seq("{", items, "}")
    }

    fn str_dict(&mut self, pairs: &[(String, PyValue)], depth: usize) -> Doc {
        let entries = pairs.iter().map(|(k, v)| (Key::Str(k), v));
        let items = self.entries(pairs.len(), entries, depth);
        Doc::seq("{", items, "}")
    }

    pub(super) fn doc(&mut self, v: &PyValue, depth: usize) -> Doc {
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
            PyValue::HugeInt(n) => text(huge_int(n)),
            PyValue::Float(f) => text(py_float_repr(*f)),
            PyValue::Complex { re, im } => text(py_complex_repr(*re, *im)),
            PyValue::Str(s) => text(py_str_repr(s, self.opts.max_str_chars)),
            PyValue::SurrogateStr(s) => text(surrogate_str_repr(s, self.opts.max_str_chars)),
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
            PyValue::Global(q) => text(global(q)),
            PyValue::Object(obj) => self.object(obj, depth),
            PyValue::NdArray(arr) => {
                let max = self.opts.max_array_values;
                let mut object = |v: &PyValue| self.doc(v, depth + 1).flat_string();
                text(ndarray_repr(arr, max, &mut object))
            }
            PyValue::Array(arr) => self.std_array(arr, depth),
            PyValue::DType(d) => text(dtype_repr(d)),
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
            PyValue::Recursive(shown) => text((*shown).into()),
            PyValue::Cut => text("…".into()),
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
        if let Some(doc) = self.known_object(obj, depth) {
            return doc;
        }
        let open = match &obj.callable {
            Some(callable) => format!("{}(", self.doc(callable, depth + 1).flat_string()),
            None => format!("{}(", escape_plain(&obj.class.to_string())),
        };
        self.generic_object(obj, &open, depth)
    }

    /// `array('b', [1, 2])`, `array('u', 'ab')`, `array('d')`.
    fn std_array(&mut self, arr: &StdArray, depth: usize) -> Doc {
        let code = py_str_repr(&arr.typecode.to_string(), 1);
        if arr.items.is_empty() {
            return Doc::Text(format!("array.array({code})"));
        }
        let items = if matches!(arr.typecode, 'u' | 'w') {
            let text: String = arr
                .items
                .iter()
                .filter_map(|v| match v {
                    PyValue::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect();
            Doc::Text(py_str_repr(&text, self.opts.max_str_chars))
        } else {
            self.seq("[", "]", &arr.items, depth + 1)
        };
        Doc::seq(format!("array.array({code}, "), vec![items], ")")
    }

    /// An object's arguments, keyword arguments, attributes and applied items after `open`.
    pub(super) fn generic_object(&mut self, obj: &PyObject, open: &str, depth: usize) -> Doc {
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
        Doc::seq(open.to_string(), items, ")")
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

/// A class or function reference as Python prints it: `<class 'int'>`, `<class 'mod.Name'>`,
/// `<built-in function len>`; other names are taken for functions when they start in lower
/// case (the pickle does not say which a global is).
fn global(q: &QualName) -> String {
    const BUILTIN_TYPES: [&str; 17] = [
        "int",
        "float",
        "complex",
        "str",
        "bytes",
        "bytearray",
        "bool",
        "list",
        "tuple",
        "dict",
        "set",
        "frozenset",
        "object",
        "type",
        "range",
        "slice",
        "memoryview",
    ];
    let name = escape_plain(&q.name);
    match q.module.as_str() {
        m if (m == "pandas" || m.starts_with("pandas.")) && q.name == "NA" => "<NA>".into(),
        "builtins" if BUILTIN_TYPES.contains(&q.name.as_str()) => format!("<class '{name}'>"),
        "builtins" if q.name.starts_with(char::is_uppercase) => name,
        "builtins" => format!("<built-in function {name}>"),
        _ if q.name.starts_with(char::is_uppercase) => {
            format!("<class '{}'>", escape_plain(&q.to_string()))
        }
        _ => format!("<function {}>", escape_plain(&q.to_string())),
    }
}

/// An integer too large for decimal: its digit count and both ends, e.g.
/// `<int of 96,329,638 digits: 123456789012…4567890123456>` (`≈` marks leading digits that
/// were rounded because the value lies next to a digit boundary).
fn huge_int(n: &HugeInt) -> String {
    let (digits, certain) = n.digits();
    let approx = if certain { "" } else { "about " };
    let count = group_thousands(digits);
    let sign = if n.negative { "-" } else { "" };
    let (leading, exact) = n.leading_digits();
    let near = if exact { "" } else { "≈" };
    format!(
        "<int of {approx}{count} digits: {near}{sign}{leading}…{}>",
        n.trailing_digits()
    )
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
    use crate::value::text::{f16_to_f32, py_complex_repr, py_float_repr};
    use crate::value::{FunctionStub, ModuleStub, NdArray};

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
            (
                PyValue::None,
                PyValue::List(vec![PyValue::Recursive("[...]")]),
            ),
        ]);
        assert_eq!(
            one(&v),
            "{'t1': (1,), 't0': (), 5: set(), (1, 2): frozenset({7}), None: [[...]]}"
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
        let i64s: Vec<u8> = (0i64..10).flat_map(i64::to_le_bytes).collect();
        assert_eq!(
            one(&arr("<i8", &[2, 3], false, i64s[..48].to_vec())),
            "array([[0, 1, 2], [3, 4, 5]])"
        );
        // Column-major storage of [[0, 1, 2], [3, 4, 5]] is 0 3 1 4 2 5.
        let f: Vec<u8> = [0i32, 3, 1, 4, 2, 5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            one(&arr("<i4", &[2, 3], true, f)),
            "array([[0, 1, 2], [3, 4, 5]], dtype=int32)"
        );
        let be: Vec<u8> = [1u16, 258].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(
            one(&arr(">u2", &[2], false, be)),
            "array([1, 258], dtype='>u2')"
        );
        assert_eq!(
            one(&arr("|b1", &[3], false, vec![1, 0, 1])),
            "array([True, False, True])"
        );
        assert_eq!(
            one(&arr("<i1", &[2], false, vec![0xff, 0x80])),
            "array([-1, -128], dtype=int8)"
        );
        let floats: Vec<u8> = [0.5f64, f64::NAN]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(one(&arr("<f8", &[2], false, floats)), "array([0.5, nan])");
        let half = 2.5f64.to_le_bytes().to_vec();
        assert_eq!(one(&arr("<f8", &[], false, half.clone())), "array(2.5)");
        let mut scalar = NdArray::new("<f8".into(), Vec::new(), false, half);
        scalar.scalar = true;
        assert_eq!(one(&PyValue::NdArray(Box::new(scalar))), "np.float64(2.5)");
        assert_eq!(
            one(&arr(
                "<U2",
                &[2],
                false,
                b"a\0\0\0b\0\0\0c\0\0\0\0\0\0\0".to_vec()
            )),
            "array(['ab', 'c'], dtype='<U2')"
        );
        let days: Vec<u8> = [19_723i64, i64::MIN]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            one(&arr("<M8[D]", &[2], false, days)),
            "array(['2024-01-01', 'NaT'], dtype='datetime64[D]')"
        );
        assert_eq!(
            one(&arr("<f8", &[0, 3], false, vec![])),
            "array([], shape=(0, 3), dtype=float64)"
        );
        let opts = RenderOptions {
            max_array_values: 5,
            ..RenderOptions::default()
        };
        assert_eq!(
            render_inline(&arr("<i8", &[10], false, i64s.clone()), &opts),
            "array([0, 1, 2, ..., 7, 8, 9], shape=(10,))"
        );
        assert_eq!(
            one(&arr("<i8", &[6], false, i64s[..20].to_vec())),
            "array([0, 1, …]) (data truncated to 20 bytes)"
        );
    }

    #[test]
    fn huge_ints_show_their_size_and_ends() {
        let mut magnitude = vec![0u8; 2500];
        magnitude.push(1); // 2**20000
        let n = PyValue::HugeInt(Box::new(HugeInt {
            negative: true,
            magnitude,
        }));
        assert_eq!(
            one(&n),
            "<int of 6,021 digits: -398027684033…1663406309376>"
        );
    }

    #[test]
    fn strings_escape_what_python_escapes() {
        assert_eq!(
            one(&PyValue::Str(
                "\u{a0}\u{ad}\u{3000}\u{e000}\u{e0041}\u{378}é日".into()
            )),
            r"'\xa0\xad\u3000\ue000\U000e0041\u0378é日'"
        );
        assert_eq!(
            one(&PyValue::SurrogateStr(vec![0x61, 0xd800, 0x27])),
            r#""a\ud800'""#
        );
    }

    #[test]
    fn datetimes_like_python() {
        let obj = |name: &str, args: Vec<PyValue>| {
            let mut o = PyObject::new(QualName::new("datetime", name));
            o.args = args;
            PyValue::Object(Box::new(o))
        };
        let zero = obj(
            "timedelta",
            vec![PyValue::Int(0), PyValue::Int(0), PyValue::Int(0)],
        );
        let utc = obj("timezone", vec![zero.clone()]);
        assert_eq!(
            one(&obj(
                "datetime",
                vec![PyValue::Bytes(vec![7, 232, 0x81, 2, 0, 0, 0, 0, 0, 0])]
            )),
            "datetime.datetime(2024, 1, 2, 0, 0, fold=1)"
        );
        assert_eq!(
            one(&obj(
                "time",
                vec![PyValue::Bytes(vec![13, 5, 7, 0, 0, 0]), utc]
            )),
            "datetime.time(13, 5, 7, tzinfo=datetime.timezone.utc)"
        );
        assert_eq!(one(&zero), "datetime.timedelta(0)");
        // Anything else about a datetime object stays generic.
        assert_eq!(
            one(&obj("date", vec![PyValue::Bytes(vec![1, 2, 3])])),
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
        assert_eq!(one(&PyValue::Object(Box::new(obj))), "namespace(b=2)");
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
