//! Well-known constructors turned into data: numpy arrays, scalars and dtypes, sets, bytes,
//! complex, OrderedDict, the protocol 0–2 spellings of instances and bytes.

use super::marimo::{marimo_cache, marimo_stub};
use crate::value::{NdArray, PyObject, PyValue};

/// Replaces recognised constructor calls with data; anything else stays a generic object.
pub(super) fn interpret(obj: PyObject) -> PyValue {
    let obj = match unwrap_copyreg(Box::new(obj)) {
        Ok(obj) | Err(obj) => obj,
    };
    if obj.callable.is_some() {
        return PyValue::Object(obj);
    }
    let module = obj.class.module.as_str();
    let result = match (module, obj.class.name.as_str()) {
        ("numpy._core.numeric" | "numpy.core.numeric", "_frombuffer") => numpy_frombuffer(obj),
        ("numpy._core.multiarray" | "numpy.core.multiarray", "_reconstruct") => {
            numpy_reconstruct(obj)
        }
        ("numpy._core.multiarray" | "numpy.core.multiarray", "scalar") => numpy_scalar(obj),
        ("numpy" | "numpy._core.multiarray" | "numpy.core.multiarray", "dtype") => numpy_dtype(obj),
        ("builtins", "set" | "frozenset" | "bytearray" | "bytes" | "complex") => builtin_call(obj),
        ("collections", "OrderedDict") => ordered_dict(obj),
        ("_codecs", "encode") => codecs_encode(obj),
        (m, "Cache") if m.starts_with("marimo._save") => marimo_cache(obj),
        (m, "ModuleStub" | "FunctionStub" | "ClassStub" | "UIElementStub")
            if m.starts_with("marimo._save") =>
        {
            marimo_stub(obj)
        }
        _ => Err(obj),
    };
    result.unwrap_or_else(PyValue::Object)
}

/// True when the object is a plain call: nothing was applied after construction.
fn is_plain_call(obj: &PyObject) -> bool {
    obj.state.is_none()
        && obj.kwargs.is_empty()
        && obj.items.is_empty()
        && obj.dict_items.is_empty()
}

fn take(v: &mut PyValue) -> PyValue {
    std::mem::replace(v, PyValue::None)
}

/// `copyreg._reconstructor(cls, base, state)` (protocol 0/1 instances) and
/// `copyreg.__newobj__(cls, *args)` are how older protocols spell "an instance of cls".
fn unwrap_copyreg(mut obj: Box<PyObject>) -> Result<Box<PyObject>, Box<PyObject>> {
    if obj.callable.is_some() || obj.class.module != "copyreg" {
        return Err(obj);
    }
    let cls = match obj.args.first() {
        Some(PyValue::Global(q)) => q.clone(),
        _ => return Err(obj),
    };
    match obj.class.name.as_str() {
        "_reconstructor" if obj.args.len() == 3 => {
            let base_state = take(&mut obj.args[2]);
            obj.args = match base_state {
                PyValue::None => Vec::new(),
                other => vec![other],
            };
        }
        "__newobj__" => {
            obj.args.remove(0);
        }
        _ => return Err(obj),
    }
    obj.class = cls;
    Ok(obj)
}

fn shape_of(v: &PyValue) -> Option<Vec<u64>> {
    let PyValue::Tuple(dims) = v else {
        return None;
    };
    dims.iter()
        .map(|d| match d {
            PyValue::Int(n) => u64::try_from(*n).ok(),
            _ => None,
        })
        .collect()
}

/// numpy ≥ 1.x protocol 5: `_frombuffer(buffer, dtype, shape, order)`.
fn numpy_frombuffer(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let ok = is_plain_call(&obj)
        && matches!(
            obj.args.as_slice(),
            [PyValue::ByteArray(_) | PyValue::Bytes(_), PyValue::DType(_), shape, PyValue::Str(order)]
                if shape_of(shape).is_some() && matches!(order.as_str(), "C" | "F")
        );
    if !ok {
        return Err(obj);
    }
    let fortran = matches!(&obj.args[3], PyValue::Str(o) if o == "F");
    let shape = shape_of(&obj.args[2]).unwrap_or_default();
    let dtype = match take(&mut obj.args[1]) {
        PyValue::DType(d) => d,
        _ => String::new(),
    };
    let data = match take(&mut obj.args[0]) {
        PyValue::ByteArray(b) | PyValue::Bytes(b) => b,
        _ => Vec::new(),
    };
    Ok(PyValue::NdArray(Box::new(NdArray::new(
        dtype, shape, fortran, data,
    ))))
}

/// Protocol ≤ 4: `_reconstruct(ndarray, (0,), b'b')` followed by BUILD
/// `(version, shape, dtype, is_fortran, rawdata)`. Object arrays (rawdata is a list) stay objects.
fn numpy_reconstruct(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let class_ok = matches!(obj.args.first(), Some(PyValue::Global(q)) if q.name == "ndarray");
    let fields = match &obj.state {
        Some(PyValue::Tuple(t)) if t.len() == 5 => Some(1),
        Some(PyValue::Tuple(t)) if t.len() == 4 => Some(0),
        _ => None,
    };
    let Some(start) = fields.filter(|_| class_ok && obj.items.is_empty()) else {
        return Err(obj);
    };
    let ok = matches!(&obj.state, Some(PyValue::Tuple(t)) if matches!(
        &t[start..],
        [shape, PyValue::DType(_), PyValue::Bool(_) | PyValue::Int(_), PyValue::Bytes(_) | PyValue::ByteArray(_)]
            if shape_of(shape).is_some()
    ));
    if !ok {
        return Err(obj);
    }
    let Some(PyValue::Tuple(mut t)) = obj.state.take() else {
        return Err(obj);
    };
    let shape = shape_of(&t[start]).unwrap_or_default();
    let fortran = matches!(t[start + 2], PyValue::Bool(true) | PyValue::Int(1..));
    let dtype = match take(&mut t[start + 1]) {
        PyValue::DType(d) => d,
        _ => String::new(),
    };
    let data = match take(&mut t[start + 3]) {
        PyValue::Bytes(b) | PyValue::ByteArray(b) => b,
        _ => Vec::new(),
    };
    Ok(PyValue::NdArray(Box::new(NdArray::new(
        dtype, shape, fortran, data,
    ))))
}

/// A numpy scalar (`np.float64(2.5)`): `scalar(dtype, raw bytes)`, kept as a 0-d array.
fn numpy_scalar(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    if !is_plain_call(&obj)
        || !matches!(obj.args.as_slice(), [PyValue::DType(_), PyValue::Bytes(_)])
    {
        return Err(obj);
    }
    let data = match take(&mut obj.args[1]) {
        PyValue::Bytes(b) => b,
        _ => Vec::new(),
    };
    let dtype = match take(&mut obj.args[0]) {
        PyValue::DType(d) => d,
        _ => String::new(),
    };
    Ok(PyValue::NdArray(Box::new(NdArray::new(
        dtype,
        Vec::new(),
        false,
        data,
    ))))
}

/// `numpy.dtype(typestr, align, copy)` + BUILD `(version, byteorder, subarray, names, fields,
/// elsize, alignment, flags[, metadata])` → descr like `<f8`, `<U2`, `|O`, `<M8[ns]`.
fn numpy_dtype(obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let descr = (|| {
        let [PyValue::Str(typestr), ..] = obj.args.as_slice() else {
            return None;
        };
        let Some(PyValue::Tuple(state)) = &obj.state else {
            return None;
        };
        let order = match state.get(1) {
            Some(PyValue::Str(o)) if matches!(o.as_str(), "<" | ">" | "|") => o.as_str(),
            // '=' is the writer's native order, unknowable here; marimo runs little-endian.
            Some(PyValue::Str(o)) if o == "=" => "<",
            _ => return None,
        };
        let kind = typestr.chars().next()?;
        if !kind.is_ascii_alphabetic() || !typestr[1..].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if kind == 'O' {
            return Some("|O".to_string());
        }
        let mut descr = format!("{order}{typestr}");
        // datetime64/timedelta64 keep their unit in the metadata: (None, (unit, count, ...)).
        if matches!(kind, 'M' | 'm')
            && let Some(PyValue::Tuple(meta)) = state.get(8)
            && let Some(PyValue::Tuple(unit)) = meta.get(1)
        {
            let name = match unit.first() {
                Some(PyValue::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                Some(PyValue::Str(s)) => s.clone(),
                _ => return None,
            };
            match unit.get(1) {
                Some(PyValue::Int(1)) => descr.push_str(&format!("[{name}]")),
                Some(PyValue::Int(n)) => descr.push_str(&format!("[{n}{name}]")),
                _ => return None,
            }
        }
        Some(descr)
    })();
    match descr {
        Some(d) if obj.items.is_empty() && obj.dict_items.is_empty() => Ok(PyValue::DType(d)),
        _ => Err(obj),
    }
}

/// Latin-1 encoding, the inverse of how protocols 0–2 store bytes as text.
fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

fn is_latin1_name(enc: &str) -> bool {
    matches!(
        enc.to_ascii_lowercase().replace('_', "-").as_str(),
        "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "l1"
    )
}

fn number(v: &PyValue) -> Option<f64> {
    match v {
        PyValue::Float(f) => Some(*f),
        PyValue::Int(i) => Some(*i as f64),
        PyValue::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// `set(iterable)`, `frozenset(iterable)`, `bytearray(...)`, `bytes(...)`, `complex(re, im)`.
fn builtin_call(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    if !is_plain_call(&obj) {
        return Err(obj);
    }
    let name = obj.class.name.clone();
    let value = match (name.as_str(), obj.args.as_mut_slice()) {
        ("set", []) => PyValue::Set(Vec::new()),
        ("frozenset", []) => PyValue::FrozenSet(Vec::new()),
        ("set" | "frozenset", [PyValue::List(items) | PyValue::Tuple(items)]) => {
            let items = std::mem::take(items);
            if name == "set" {
                PyValue::Set(items)
            } else {
                PyValue::FrozenSet(items)
            }
        }
        ("bytearray", []) => PyValue::ByteArray(Vec::new()),
        ("bytes", []) => PyValue::Bytes(Vec::new()),
        ("bytearray", [PyValue::Bytes(b) | PyValue::ByteArray(b)]) => {
            PyValue::ByteArray(std::mem::take(b))
        }
        ("bytes", [PyValue::Bytes(b)]) => PyValue::Bytes(std::mem::take(b)),
        ("bytearray", [PyValue::Str(s), PyValue::Str(enc)]) if is_latin1_name(enc) => {
            match latin1(s) {
                Some(b) => PyValue::ByteArray(b),
                None => return Err(obj),
            }
        }
        ("complex", [re]) if number(re).is_some() => PyValue::Complex {
            re: number(re).unwrap_or(0.0),
            im: 0.0,
        },
        ("complex", [re, im]) if number(re).is_some() && number(im).is_some() => PyValue::Complex {
            re: number(re).unwrap_or(0.0),
            im: number(im).unwrap_or(0.0),
        },
        _ => return Err(obj),
    };
    Ok(value)
}

/// `OrderedDict()` filled by SETITEMS (or, from old writers, `OrderedDict([[k, v], ...])`),
/// turned into a plain dict: order is all it adds and dicts keep order here too.
fn ordered_dict(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let state_ok = match &obj.state {
        None | Some(PyValue::None) => true,
        Some(PyValue::Dict(d)) => d.is_empty(),
        _ => false,
    };
    let pair_list = |items: &[PyValue]| {
        items
            .iter()
            .all(|p| matches!(p, PyValue::List(kv) | PyValue::Tuple(kv) if kv.len() == 2))
    };
    let args_ok = match obj.args.as_slice() {
        [] => true,
        [PyValue::List(items)] => pair_list(items),
        _ => false,
    };
    if !state_ok || !args_ok || !obj.kwargs.is_empty() || !obj.items.is_empty() {
        return Err(obj);
    }
    let mut pairs = Vec::new();
    if let Some(PyValue::List(items)) = obj.args.first_mut() {
        for kv in std::mem::take(items) {
            if let PyValue::List(mut kv) | PyValue::Tuple(mut kv) = kv
                && let (Some(v), Some(k)) = (kv.pop(), kv.pop())
            {
                pairs.push((k, v));
            }
        }
    }
    pairs.append(&mut obj.dict_items);
    Ok(PyValue::Dict(pairs))
}

/// `_codecs.encode(text, 'latin1')`: how protocols 0–2 store `bytes`.
fn codecs_encode(obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let bytes = match obj.args.as_slice() {
        [PyValue::Str(s), PyValue::Str(enc)] if is_plain_call(&obj) => {
            if is_latin1_name(enc) {
                latin1(s)
            } else if matches!(enc.to_ascii_lowercase().as_str(), "utf-8" | "utf8") {
                Some(s.as_bytes().to_vec())
            } else {
                None
            }
        }
        _ => None,
    };
    bytes.map(PyValue::Bytes).ok_or(obj)
}
