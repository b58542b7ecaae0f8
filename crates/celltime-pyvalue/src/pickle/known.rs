//! Well-known constructors turned into data: numpy arrays, scalars and dtypes, sets, bytes,
//! complex, OrderedDict, the protocol 0–2 spellings of instances and bytes.

use super::marimo::{marimo_cache, marimo_stub};
use crate::value::{NdArray, PyObject, PyValue, StdArray};

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
        ("array", "_array_reconstructor") => array_reconstructor(obj),
        ("array", "array") => array_call(obj),
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
            let tuple_base = matches!(&obj.args[1], PyValue::Global(b) if b.module == "builtins" && b.name == "tuple");
            let base_state = take(&mut obj.args[2]);
            obj.args = match base_state {
                PyValue::None => Vec::new(),
                // A tuple subclass (a namedtuple) is built from its items.
                PyValue::Tuple(items) if tuple_base => items,
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
        [shape, PyValue::DType(_), PyValue::Bool(_) | PyValue::Int(_), PyValue::Bytes(_) | PyValue::ByteArray(_) | PyValue::List(_)]
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
    let (data, objects) = match take(&mut t[start + 3]) {
        PyValue::Bytes(b) | PyValue::ByteArray(b) => (b, Vec::new()),
        // An object array pickles its elements as a list.
        PyValue::List(items) => (Vec::new(), items),
        _ => (Vec::new(), Vec::new()),
    };
    let mut array = NdArray::new(dtype, shape, fortran, data);
    array.objects = std::sync::Arc::new(objects);
    Ok(PyValue::NdArray(Box::new(array)))
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
    let mut scalar = NdArray::new(dtype, Vec::new(), false, data);
    scalar.scalar = true;
    Ok(PyValue::NdArray(Box::new(scalar)))
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
        if kind == 'V'
            && let (Some(PyValue::Tuple(names)), Some(PyValue::Dict(fields))) =
                (state.get(3), state.get(4))
        {
            return structured_descr(names, fields);
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

/// A structured dtype's descr, `[('a', '<i4'), ('b', '<f8')]`, when its fields are packed in
/// order (numpy's default); anything else stays an object.
fn structured_descr(names: &[PyValue], fields: &[(PyValue, PyValue)]) -> Option<String> {
    let mut parts = Vec::new();
    let mut offset = 0i64;
    for name in names {
        let PyValue::Str(name) = name else {
            return None;
        };
        let (_, field) = fields
            .iter()
            .find(|(k, _)| matches!(k, PyValue::Str(k) if k == name))?;
        let PyValue::Tuple(field) = field else {
            return None;
        };
        let [PyValue::DType(descr), PyValue::Int(at), ..] = field.as_slice() else {
            return None;
        };
        let size = NdArray::new(descr.clone(), Vec::new(), false, Vec::new()).itemsize()?;
        if *at != offset || descr.starts_with('[') || name.contains(['\'', ',']) {
            return None;
        }
        offset += i64::try_from(size).ok()?;
        parts.push(format!("('{name}', '{descr}')"));
    }
    Some(format!("[{}]", parts.join(", ")))
}

/// `array._array_reconstructor(array.array, typecode, mformat_code, bytes)` (protocol 3+):
/// the items in the machine format the code names.
fn array_reconstructor(obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let decoded = match obj.args.as_slice() {
        [
            _,
            PyValue::Str(code),
            PyValue::Int(format),
            PyValue::Bytes(raw),
        ] if is_plain_call(&obj) => {
            let typecode = code.chars().next().filter(|_| code.chars().count() == 1);
            typecode.zip(machine_items(*format, raw))
        }
        _ => None,
    };
    match decoded {
        Some((typecode, items)) => Ok(PyValue::Array(Box::new(StdArray { typecode, items }))),
        None => Err(obj),
    }
}

/// Items of CPython's `array` machine formats (`enum machine_format_code`).
fn machine_items(format: i64, raw: &[u8]) -> Option<Vec<PyValue>> {
    // 0/1: 8-bit; then pairs of little/big-endian codes per width and kind.
    let size = match format {
        0 | 1 => 1,
        2..=5 | 18 | 19 => 2,
        6..=9 | 14 | 15 | 20 | 21 => 4,
        10..=13 | 16 | 17 => 8,
        _ => return None,
    };
    let big_endian = format >= 2 && format % 2 == 1;
    if !raw.len().is_multiple_of(size) {
        return None;
    }
    let word = |c: &[u8]| -> u64 {
        let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
        if big_endian {
            c.iter().fold(0, fold)
        } else {
            c.iter().rev().fold(0, fold)
        }
    };
    let signed = matches!(format, 1 | 4 | 5 | 8 | 9 | 12 | 13);
    let shift = 64 - size * 8;
    let chunks = raw.chunks_exact(size);
    Some(match format {
        14 | 15 => chunks
            .map(|c| PyValue::Float(f64::from(f32::from_bits(word(c) as u32))))
            .collect(),
        16 | 17 => chunks
            .map(|c| PyValue::Float(f64::from_bits(word(c))))
            .collect(),
        18..=21 => {
            let units: Vec<u32> = chunks.map(|c| word(c) as u32).collect();
            let text: String = if size == 2 {
                let units: Vec<u16> = units.iter().map(|&u| u as u16).collect();
                String::from_utf16(&units).ok()?
            } else {
                units
                    .iter()
                    .map(|&u| char::from_u32(u))
                    .collect::<Option<String>>()?
            };
            text.chars().map(|c| PyValue::Str(c.to_string())).collect()
        }
        _ if signed => chunks
            .map(|c| PyValue::Int(((word(c) << shift) as i64) >> shift))
            .collect(),
        _ => chunks
            .map(|c| match i64::try_from(word(c)) {
                Ok(v) => PyValue::Int(v),
                Err(_) => PyValue::BigInt(word(c).to_string()),
            })
            .collect(),
    })
}

/// `array.array(typecode, [items])` or `array.array('u', text)` (protocols 0–2).
fn array_call(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let typecode = match obj.args.first() {
        Some(PyValue::Str(c)) if c.chars().count() == 1 && is_plain_call(&obj) => c.chars().next(),
        _ => None,
    };
    let Some(typecode) = typecode else {
        return Err(obj);
    };
    let items = match obj.args.get_mut(1) {
        None => Vec::new(),
        Some(PyValue::List(items)) => std::mem::take(items),
        Some(PyValue::Str(text)) if matches!(typecode, 'u' | 'w') => {
            text.chars().map(|c| PyValue::Str(c.to_string())).collect()
        }
        _ => return Err(obj),
    };
    Ok(PyValue::Array(Box::new(StdArray { typecode, items })))
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

/// `OrderedDict()` filled by SETITEMS, or from old writers `OrderedDict([[k, v], ...])`:
/// normalised to the SETITEMS form, so the renderer shows every spelling as
/// `collections.OrderedDict([...])`.
fn ordered_dict(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let pair_list = |items: &[PyValue]| {
        items
            .iter()
            .all(|p| matches!(p, PyValue::List(kv) | PyValue::Tuple(kv) if kv.len() == 2))
    };
    if !matches!(obj.args.as_slice(), [PyValue::List(items)] if pair_list(items)) {
        return Err(obj);
    }
    if let Some(PyValue::List(items)) = obj.args.pop() {
        let mut pairs = Vec::with_capacity(items.len());
        for kv in items {
            if let PyValue::List(mut kv) | PyValue::Tuple(mut kv) = kv
                && let (Some(v), Some(k)) = (kv.pop(), kv.pop())
            {
                pairs.push((k, v));
            }
        }
        pairs.append(&mut obj.dict_items);
        obj.dict_items = pairs;
    }
    Err(obj)
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
