//! The value tree produced by the pickle, NPY and JSON readers (the data model); the
//! renderer lives in [`render`].
//!
//! Trees built by the readers are limited to `Limits::max_depth`.

pub(crate) mod bigint;
pub(crate) mod numpy;
mod objects;
mod render;
pub(crate) mod text;

use std::fmt;
use std::sync::Arc;

pub use bigint::HugeInt;
pub use render::{RenderOptions, render, render_inline};

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
    /// An integer outside `i64`: decimal digits with an optional `-`.
    BigInt(String),
    /// An integer past the size CPython itself prints in decimal (4,300 digits): kept binary,
    /// since base conversion is quadratic; previews show its digit count and its ends.
    HugeInt(Box<HugeInt>),
    Float(f64),
    Complex {
        re: f64,
        im: f64,
    },
    Str(String),
    /// A str holding unpaired surrogates (CPython pickles them with `surrogatepass`), as code
    /// points, since a Rust string cannot hold them.
    SurrogateStr(Vec<u32>),
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
    /// A stdlib `array.array`: its typecode and items (one-character strs for `'u'`).
    Array(Box<StdArray>),
    /// A `numpy.dtype` outside an array, as its descr (e.g. `<f8`).
    DType(String),
    ModuleStub(ModuleStub),
    FunctionStub(Box<FunctionStub>),
    ClassStub(Box<ClassStub>),
    UIElementStub(Box<UIElementStub>),
    Cache(Box<MarimoCache>),
    /// A back-reference to a container that encloses this position (a cycle), as Python shows
    /// it: `[...]`, `{...}` or `...`.
    Recursive(&'static str),
    /// The part of a value left out because a decoder limit was reached (see
    /// `pickle::decode_partial`).
    Cut,
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
    /// Raw element bytes in storage order. May be a prefix of the full data. Shared, so the
    /// columns of a table can point into one block without copying it.
    pub data: Arc<Vec<u8>>,
    /// The product of `shape` (saturating at `u64::MAX`).
    pub element_count: u64,
    /// A numpy scalar (`np.float64(2.5)`) rather than a 0-d array (`array(2.5)`).
    pub scalar: bool,
    /// The elements of an object array (dtype `|O`), in storage order; `data` is empty then.
    pub objects: Arc<Vec<PyValue>>,
}

impl NdArray {
    pub fn new(dtype: String, shape: Vec<u64>, fortran_order: bool, data: Vec<u8>) -> Self {
        let element_count = shape.iter().fold(1u64, |acc, &d| acc.saturating_mul(d));
        Self {
            dtype,
            shape,
            fortran_order,
            data: Arc::new(data),
            element_count,
            scalar: false,
            objects: Arc::default(),
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
        if self.dtype == "|O" {
            return (self.objects.len() as u64) < self.element_count;
        }
        self.nbytes().is_some_and(|n| (self.data.len() as u64) < n)
    }
}

/// A stdlib `array.array`.
#[derive(Debug, Clone, PartialEq)]
pub struct StdArray {
    pub typecode: char,
    pub items: Vec<PyValue>,
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

/// A parsed numpy descr, enough to decode values for previews.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dtype {
    pub(crate) big_endian: bool,
    pub(crate) kind: u8,
    /// Bytes per element.
    pub(crate) itemsize: usize,
    /// datetime64/timedelta64: the unit and its count, e.g. `("ms", 10)` for `[10ms]`.
    pub(crate) unit: Option<(String, i64)>,
    /// A structured dtype's fields: name, byte offset, dtype.
    pub(crate) fields: Vec<(String, usize, Dtype)>,
}

impl Dtype {
    /// A descr as numpy writes it (`<f8`, `<M8[10ms]`), or a structured one as a list
    /// (`[('a', '<i4'), ('b', '<f8')]`, fields packed in order).
    pub(crate) fn parse(descr: &str) -> Option<Self> {
        if let Some(list) = descr.strip_prefix('[') {
            return Self::parse_fields(list.strip_suffix(']')?);
        }
        let b = descr.as_bytes();
        let (big_endian, rest) = match b.first()? {
            b'>' => (true, &descr[1..]),
            b'<' | b'|' | b'=' => (false, &descr[1..]),
            _ => (false, descr),
        };
        let kind = *rest.as_bytes().first()?;
        let (size, unit) = match rest[1..].split_once('[') {
            Some((size, unit)) if matches!(kind, b'M' | b'm') => {
                (size, Some(parse_unit(unit.strip_suffix(']')?)?))
            }
            Some(_) => return None,
            None => (&rest[1..], None),
        };
        if size.is_empty() {
            // `|O` has no size in its descr; a pointer is 8 bytes on every platform marimo runs on.
            return (kind == b'O').then_some(Self::simple(big_endian, kind, 8));
        }
        let n: usize = size.parse().ok()?;
        let itemsize = if kind == b'U' { n.checked_mul(4)? } else { n };
        let mut dtype = Self::simple(big_endian, kind, itemsize);
        dtype.unit = unit;
        Some(dtype)
    }

    fn simple(big_endian: bool, kind: u8, itemsize: usize) -> Self {
        Self {
            big_endian,
            kind,
            itemsize,
            unit: None,
            fields: Vec::new(),
        }
    }

    /// `('a', '<i4'), ('b', '<f8')`: names without quotes or commas, simple field dtypes.
    fn parse_fields(list: &str) -> Option<Self> {
        let mut fields = Vec::new();
        let mut offset = 0usize;
        for item in list.split("), (") {
            let item = item.trim_start_matches('(').trim_end_matches(')');
            let (name, descr) = item.split_once(", ")?;
            let unquote = |s: &str| s.strip_prefix('\'')?.strip_suffix('\'').map(str::to_string);
            let dtype = Self::parse(&unquote(descr)?)?;
            if !dtype.fields.is_empty() {
                return None;
            }
            let size = dtype.itemsize;
            fields.push((unquote(name)?, offset, dtype));
            offset = offset.checked_add(size)?;
        }
        Some(Self {
            big_endian: false,
            kind: b'V',
            itemsize: offset,
            unit: None,
            fields,
        })
    }
}

/// `10ms` → `("ms", 10)`.
fn parse_unit(unit: &str) -> Option<(String, i64)> {
    let digits = unit.bytes().take_while(u8::is_ascii_digit).count();
    let count = if digits == 0 {
        1
    } else {
        unit[..digits].parse().ok()?
    };
    let name = &unit[digits..];
    const UNITS: [&str; 13] = [
        "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as",
    ];
    UNITS.contains(&name).then(|| (name.to_string(), count))
}
