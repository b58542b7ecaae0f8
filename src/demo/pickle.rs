//! Writes Python pickles (protocol 5) of plain values and numpy arrays, byte for byte what
//! CPython's `pickle.dumps` would produce without memoisation, so the demo holds real pickles.

/// The values the demo stores.
#[derive(Debug, Clone, PartialEq)]
pub enum Py {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Py>),
    Tuple(Vec<Py>),
    Dict(Vec<(Py, Py)>),
    /// A C-ordered numpy array of little-endian float64.
    ArrayF64 {
        shape: Vec<usize>,
        data: Vec<f64>,
    },
    /// A C-ordered numpy array of little-endian int64.
    ArrayI64 {
        shape: Vec<usize>,
        data: Vec<i64>,
    },
}

impl Py {
    pub fn str(text: &str) -> Py {
        Py::Str(text.to_string())
    }
}

const PROTO: u8 = 0x80;
const STOP: u8 = b'.';
const NONE: u8 = b'N';
const NEWTRUE: u8 = 0x88;
const NEWFALSE: u8 = 0x89;
const BININT: u8 = b'J';
const LONG1: u8 = 0x8a;
const BINFLOAT: u8 = b'G';
const BINUNICODE: u8 = b'X';
const EMPTY_LIST: u8 = b']';
const EMPTY_DICT: u8 = b'}';
const EMPTY_TUPLE: u8 = b')';
const MARK: u8 = b'(';
const APPENDS: u8 = b'e';
const SETITEMS: u8 = b'u';
const TUPLE: u8 = b't';
const STACK_GLOBAL: u8 = 0x93;
const REDUCE: u8 = b'R';
const BUILD: u8 = b'b';
const BYTEARRAY8: u8 = 0x96;

pub fn dumps(value: &Py) -> Vec<u8> {
    let mut out = vec![PROTO, 5];
    write(&mut out, value);
    out.push(STOP);
    out
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    out.push(BINUNICODE);
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

fn write_int(out: &mut Vec<u8>, n: i64) {
    if let Ok(small) = i32::try_from(n) {
        out.push(BININT);
        out.extend_from_slice(&small.to_le_bytes());
    } else {
        out.push(LONG1);
        out.push(8);
        out.extend_from_slice(&n.to_le_bytes());
    }
}

fn write_global(out: &mut Vec<u8>, module: &str, name: &str) {
    write_str(out, module);
    write_str(out, name);
    out.push(STACK_GLOBAL);
}

fn write_tuple(out: &mut Vec<u8>, items: &[Py]) {
    if items.is_empty() {
        out.push(EMPTY_TUPLE);
        return;
    }
    out.push(MARK);
    items.iter().for_each(|item| write(out, item));
    out.push(TUPLE);
}

/// `numpy._core.numeric._frombuffer(bytearray, dtype, shape, 'C')`, as numpy 2 pickles arrays.
fn write_array(out: &mut Vec<u8>, descr: &str, shape: &[usize], raw: Vec<u8>) {
    write_global(out, "numpy._core.numeric", "_frombuffer");
    out.push(MARK);
    out.push(BYTEARRAY8);
    out.extend_from_slice(&(raw.len() as u64).to_le_bytes());
    out.extend_from_slice(&raw);
    write_global(out, "numpy", "dtype");
    write_tuple(out, &[Py::str(descr), Py::Bool(false), Py::Bool(true)]);
    out.push(REDUCE);
    let state = [
        Py::Int(3),
        Py::str("<"),
        Py::None,
        Py::None,
        Py::None,
        Py::Int(-1),
        Py::Int(-1),
        Py::Int(0),
    ];
    write_tuple(out, &state);
    out.push(BUILD);
    let dims: Vec<Py> = shape.iter().map(|d| Py::Int(*d as i64)).collect();
    write_tuple(out, &dims);
    write_str(out, "C");
    out.push(TUPLE);
    out.push(REDUCE);
}

fn write(out: &mut Vec<u8>, value: &Py) {
    match value {
        Py::None => out.push(NONE),
        Py::Bool(true) => out.push(NEWTRUE),
        Py::Bool(false) => out.push(NEWFALSE),
        Py::Int(n) => write_int(out, *n),
        Py::Float(x) => {
            out.push(BINFLOAT);
            out.extend_from_slice(&x.to_be_bytes());
        }
        Py::Str(text) => write_str(out, text),
        Py::List(items) => {
            out.push(EMPTY_LIST);
            if !items.is_empty() {
                out.push(MARK);
                items.iter().for_each(|item| write(out, item));
                out.push(APPENDS);
            }
        }
        Py::Tuple(items) => write_tuple(out, items),
        Py::Dict(pairs) => {
            out.push(EMPTY_DICT);
            if !pairs.is_empty() {
                out.push(MARK);
                for (k, v) in pairs {
                    write(out, k);
                    write(out, v);
                }
                out.push(SETITEMS);
            }
        }
        Py::ArrayF64 { shape, data } => {
            let raw = data.iter().flat_map(|x| x.to_le_bytes()).collect();
            write_array(out, "f8", shape, raw);
        }
        Py::ArrayI64 { shape, data } => {
            let raw = data.iter().flat_map(|x| x.to_le_bytes()).collect();
            write_array(out, "i8", shape, raw);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CPython must read what we write; skipped only where no python3 exists at all.
    #[test]
    fn cpython_loads_the_pickles() {
        let value = Py::Dict(vec![
            (Py::str("n_rows"), Py::Int(1200)),
            (Py::str("big"), Py::Int(1 << 40)),
            (Py::str("ratio"), Py::Float(0.25)),
            (
                Py::str("cols"),
                Py::List(vec![Py::str("date"), Py::str("ünïcode")]),
            ),
            (Py::str("pair"), Py::Tuple(vec![Py::Bool(true), Py::None])),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.pickle");
        std::fs::write(&path, dumps(&value)).unwrap();
        let script = format!(
            "import pickle; v = pickle.load(open({:?}, 'rb')); \
             assert v == {{'n_rows': 1200, 'big': 1 << 40, 'ratio': 0.25, 'cols': ['date', 'ünïcode'], 'pair': (True, None)}}, v",
            path.display().to_string()
        );
        let status = std::process::Command::new("python3")
            .args(["-c", &script])
            .status()
            .expect("python3 runs");
        assert!(status.success());
    }

    #[test]
    fn arrays_use_numpy_two_frombuffer() {
        let bytes = dumps(&Py::ArrayF64 {
            shape: vec![2],
            data: vec![1.0, 2.0],
        });
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("numpy._core.numeric") && text.contains("_frombuffer"));
        assert!(bytes.windows(8).any(|w| w == 1.0f64.to_le_bytes()));
    }
}
