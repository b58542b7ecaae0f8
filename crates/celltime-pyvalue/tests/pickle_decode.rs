//! Decoding real CPython/numpy/marimo output (fixtures made by `tests/data/make.py`),
//! the marimo files quoted verbatim in the cache-format reference, and property tests showing
//! that no input makes the readers panic or the renderer emit control characters.

use std::path::PathBuf;
use std::sync::LazyLock;

use celltime_pyvalue::npy::{self, NpyError};
use celltime_pyvalue::pickle::{self, Limits};
use celltime_pyvalue::pyjson;
use celltime_pyvalue::value::{
    ClassStub, FunctionStub, MarimoCache, ModuleStub, NdArray, PyObject, PyValue, QualName,
    RenderOptions, render, render_inline,
};
use proptest::prelude::*;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn decode_file(name: &str) -> PyValue {
    pickle::decode(&read(name), &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Exact comparison that also distinguishes NaN and -0.0 (Debug prints both faithfully).
fn assert_same(actual: &PyValue, expected: &PyValue, what: &str) {
    assert_eq!(format!("{actual:#?}"), format!("{expected:#?}"), "{what}");
}

fn s(v: &str) -> PyValue {
    PyValue::Str(v.into())
}

fn i(v: i64) -> PyValue {
    PyValue::Int(v)
}

fn list(v: Vec<PyValue>) -> PyValue {
    PyValue::List(v)
}

fn tuple(v: Vec<PyValue>) -> PyValue {
    PyValue::Tuple(v)
}

fn dict(pairs: Vec<(PyValue, PyValue)>) -> PyValue {
    PyValue::Dict(pairs)
}

fn sdict(pairs: Vec<(&str, PyValue)>) -> PyValue {
    PyValue::Dict(pairs.into_iter().map(|(k, v)| (s(k), v)).collect())
}

fn object(module: &str, name: &str, args: Vec<PyValue>, state: Option<PyValue>) -> PyValue {
    let mut o = PyObject::new(QualName::new(module, name));
    o.args = args;
    o.state = state;
    PyValue::Object(Box::new(o))
}

fn array(dtype: &str, shape: &[u64], fortran: bool, data: Vec<u8>) -> PyValue {
    PyValue::NdArray(Box::new(NdArray::new(
        dtype.into(),
        shape.to_vec(),
        fortran,
        data,
    )))
}

fn scalar(dtype: &str, data: Vec<u8>) -> PyValue {
    let mut a = NdArray::new(dtype.into(), Vec::new(), false, data);
    a.scalar = true;
    PyValue::NdArray(Box::new(a))
}

fn le_bytes<T: Copy, const N: usize>(values: &[T], f: fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| f(v)).collect()
}

const PROTOCOLS: [u8; 4] = [0, 2, 4, 5];

#[test]
fn containers_all_protocols() {
    let expected = dict(vec![
        (s("list"), list(vec![i(1), i(2), list(vec![i(3), i(4)])])),
        (s("tuple"), tuple(vec![i(1), s("a"), PyValue::None])),
        (s("t0"), tuple(vec![])),
        (s("t1"), tuple(vec![i(1)])),
        (s("t2"), tuple(vec![i(1), i(2)])),
        (s("t3"), tuple(vec![i(1), i(2), i(3)])),
        (s("t4"), tuple(vec![i(1), i(2), i(3), i(4)])),
        (s("set"), PyValue::Set(vec![i(1), i(2), i(3)])),
        (s("frozenset"), PyValue::FrozenSet(vec![i(8), i(7)])),
        (s("empty_set"), PyValue::Set(vec![])),
        (
            s("nested"),
            sdict(vec![(
                "a",
                sdict(vec![(
                    "b",
                    sdict(vec![(
                        "c",
                        list(vec![
                            PyValue::Bool(true),
                            PyValue::Bool(false),
                            PyValue::None,
                        ]),
                    )]),
                )]),
            )]),
        ),
        (s("empty_dict"), dict(vec![])),
        (s("empty_list"), list(vec![])),
        (i(5), s("int key")),
        (tuple(vec![i(1), i(2)]), s("tuple key")),
    ]);
    for p in PROTOCOLS {
        let name = format!("containers_p{p}.pickle");
        assert_same(&decode_file(&name), &expected, &name);
    }
}

#[test]
fn scalars_all_protocols() {
    let big = |v: &str| PyValue::BigInt(v.into());
    let f = PyValue::Float;
    let expected = list(vec![
        i(0),
        i(1),
        i(-1),
        i(255),
        i(256),
        i(65535),
        i(65536),
        i(-(1 << 31)),
        i((1 << 31) - 1),
        i(1 << 31),
        i(i64::MAX),
        i(i64::MIN),
        big("9223372036854775808"),
        big("-9223372036854775809"),
        big("1267650600228229401496703205376"),
        big("-1267650600228229401496703205376"),
        f(1.5),
        f(-0.0),
        f(f64::NAN),
        f(f64::INFINITY),
        f(f64::NEG_INFINITY),
        f(1e300),
        f(5e-324),
        PyValue::Bool(true),
        PyValue::Bool(false),
        PyValue::None,
        PyValue::Complex { re: 1.0, im: -2.0 },
    ]);
    for p in PROTOCOLS {
        let name = format!("scalars_p{p}.pickle");
        assert_same(&decode_file(&name), &expected, &name);
    }
}

#[test]
fn text_and_bytes_all_protocols() {
    let expected = list(vec![
        s(""),
        s("ascii"),
        s("héllo wörld"),
        s("日本語"),
        s("emoji 😀"),
        s("ctl\u{0}\u{1b}[31m\n\t\\'\"\r\u{1a}"),
        PyValue::Bytes(vec![]),
        PyValue::Bytes(vec![0, 1, 0xff]),
        PyValue::ByteArray(b"ba\0".to_vec()),
        s(&"x".repeat(300)),
        PyValue::Bytes(vec![b'y'; 300]),
    ]);
    for p in PROTOCOLS {
        let name = format!("text_p{p}.pickle");
        assert_same(&decode_file(&name), &expected, &name);
    }
}

#[test]
fn shared_and_recursive_all_protocols() {
    let a = list(vec![i(1), i(2)]);
    let shared = list(vec![a.clone(), a.clone(), sdict(vec![("k", a)])]);
    let recursive = list(vec![
        list(vec![PyValue::Recursive("[...]"), i(1)]),
        sdict(vec![("self", PyValue::Recursive("{...}"))]),
    ]);
    for p in PROTOCOLS {
        let name = format!("shared_p{p}.pickle");
        assert_same(&decode_file(&name), &shared, &name);
        let name = format!("recursive_p{p}.pickle");
        assert_same(&decode_file(&name), &recursive, &name);
    }
}

#[test]
fn objects_all_protocols() {
    for p in PROTOCOLS {
        let name = format!("objects_p{p}.pickle");
        let mut expected = vec![object(
            "__main__",
            "Point",
            vec![],
            Some(sdict(vec![("x", i(1)), ("y", s("two"))])),
        )];
        if p >= 2 {
            expected.push(object(
                "__main__",
                "Slotted",
                vec![],
                Some(tuple(vec![PyValue::None, sdict(vec![("a", i(3))])])),
            ));
        }
        expected.extend([
            object(
                "types",
                "SimpleNamespace",
                vec![],
                Some(sdict(vec![("a", i(1)), ("b", s("two"))])),
            ),
            {
                let mut od = PyObject::new(QualName::new("collections", "OrderedDict"));
                od.dict_items = vec![(s("z"), i(1)), (s("a"), i(2))];
                PyValue::Object(Box::new(od))
            },
            object(
                "datetime",
                "datetime",
                vec![PyValue::Bytes(
                    b"\x07\xe8\x01\x02\x03\x04\x05\x00\x00\x06".to_vec(),
                )],
                None,
            ),
            object(
                "datetime",
                "date",
                vec![PyValue::Bytes(b"\x07\xe8\x01\x02".to_vec())],
                None,
            ),
            object("datetime", "timedelta", vec![i(1), i(2), i(0)], None),
        ]);
        assert_same(&decode_file(&name), &list(expected), &name);
    }
    let lines = render(&decode_file("objects_p4.pickle"), &RenderOptions::default());
    insta::assert_snapshot!(lines.join("\n"), @r"
    [
      __main__.Point(x=1, y='two'),
      __main__.Slotted(a=3),
      namespace(a=1, b='two'),
      collections.OrderedDict([('z', 1), ('a', 2)]),
      datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
      datetime.date(2024, 1, 2),
      datetime.timedelta(days=1, seconds=2),
    ]
    ");
}

#[test]
fn numpy_arrays_protocols_2_4_5() {
    let expected = sdict(vec![
        (
            "i64",
            array(
                "<i8",
                &[2, 3],
                false,
                le_bytes(&[0i64, 1, 2, 3, 4, 5], i64::to_le_bytes),
            ),
        ),
        (
            "f64",
            array(
                "<f8",
                &[2, 2],
                false,
                le_bytes(&[0.5, -1.0, f64::INFINITY, f64::NAN], f64::to_le_bytes),
            ),
        ),
        ("bool", array("|b1", &[3], false, vec![1, 0, 1])),
        (
            "fortran",
            array(
                "<i4",
                &[2, 3],
                true,
                le_bytes(&[0i32, 3, 1, 4, 2, 5], i32::to_le_bytes),
            ),
        ),
        ("be_u2", array(">u2", &[3], false, vec![0, 0, 0, 1, 0, 2])),
        (
            "f32",
            array(
                "<f4",
                &[2],
                false,
                le_bytes(&[1.5f32, -2.25], f32::to_le_bytes),
            ),
        ),
        ("empty", array("<f8", &[0, 3], false, vec![])),
        (
            "str",
            array(
                "<U2",
                &[2],
                false,
                b"a\0\0\0b\0\0\0c\0\0\0\0\0\0\0".to_vec(),
            ),
        ),
        ("scalar_f64", scalar("<f8", 2.5f64.to_le_bytes().to_vec())),
        ("scalar_i64", scalar("<i8", 7i64.to_le_bytes().to_vec())),
    ]);
    for p in [2, 4, 5] {
        let name = format!("numpy_p{p}.pickle");
        assert_same(&decode_file(&name), &expected, &name);
    }
    let lines = render(&decode_file("numpy_p5.pickle"), &RenderOptions::default());
    insta::assert_snapshot!(lines.join("\n"), @r"
    {
      'i64': array([[0, 1, 2], [3, 4, 5]]),
      'f64': array([[0.5, -1.0], [inf, nan]]),
      'bool': array([True, False, True]),
      'fortran': array([[0, 1, 2], [3, 4, 5]], dtype=int32),
      'be_u2': array([0, 1, 2], dtype='>u2'),
      'f32': array([1.5, -2.25], dtype=float32),
      'empty': array([], shape=(0, 3), dtype=float64),
      'str': array(['ab', 'c'], dtype='<U2'),
      'scalar_f64': np.float64(2.5),
      'scalar_i64': np.int64(7),
    }
    ");
}

fn cache_of(v: PyValue) -> MarimoCache {
    match v {
        PyValue::Cache(c) => *c,
        other => panic!("not a marimo Cache: {other:?}"),
    }
}

fn def<'a>(cache: &'a MarimoCache, name: &str) -> &'a PyValue {
    cache
        .defs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no def {name}"))
}

#[test]
fn marimo_context_block_with_stubs() {
    let cache = cache_of(decode_file("marimo_context_block_X.pickle"));
    assert_eq!(cache.hash, "YjqWbqgLwqn9ptHM9Cd-AsqNRfUK1DtSfGGMnOIUhN8");
    assert_eq!(cache.cache_type, "ContextExecutionPath");
    assert!(cache.stateful_refs.is_empty() && !cache.hit && cache.extra.is_empty());
    // defs order follows a Python set, so look them up by name.
    let mut names: Vec<&str> = cache.defs.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Local", "math", "ns_copy", "plus_a", "plus_a_out"]);
    assert_eq!(
        def(&cache, "Local"),
        &PyValue::Global(QualName::new("__main__", "Local"))
    );
    assert_eq!(
        def(&cache, "math"),
        &PyValue::ModuleStub(ModuleStub {
            name: "math".into(),
            version: String::new()
        })
    );
    assert_eq!(
        def(&cache, "plus_a"),
        &PyValue::FunctionStub(Box::new(FunctionStub {
            code: "def plus_a(x):\n    return x + pre.a\n".into(),
            filename: "/tmp/celltime-marimo-demo/notebook.py".into(),
            lineno: 29,
            is_cached: false,
        }))
    );
    assert_same(
        def(&cache, "ns_copy"),
        &object(
            "types",
            "SimpleNamespace",
            vec![],
            Some(sdict(vec![("b", i(2))])),
        ),
        "ns_copy",
    );
    assert_eq!(def(&cache, "plus_a_out"), &i(3));
    assert_eq!(cache.meta_get("version"), Some(&i(6)));
    assert!(matches!(cache.meta_get("runtime"), Some(PyValue::Float(r)) if *r > 0.0));
}

#[test]
fn marimo_pure_block() {
    let cache = cache_of(decode_file("marimo_ctx_block_P.pickle"));
    assert_eq!(cache.cache_type, "Pure");
    assert_same(
        def(&cache, "data"),
        &sdict(vec![
            ("ints", list((0..5).map(i).collect())),
            (
                "nested",
                sdict(vec![
                    ("a", i(1)),
                    ("b", list(vec![PyValue::Bool(true), PyValue::None, s("x")])),
                ]),
            ),
            ("ratio", PyValue::Float(0.25)),
        ]),
        "data",
    );
    assert_same(
        def(&cache, "squares"),
        &list(vec![i(0), i(1), i(4), i(9), i(16)]),
        "squares",
    );
}

#[test]
fn marimo_function_cache_returns_numpy() {
    let cache = cache_of(decode_file("marimo_expensive_D.pickle"));
    assert_eq!(cache.cache_type, "Deferred");
    assert!(cache.defs.is_empty());
    assert_same(
        cache.meta_get("return").expect("return"),
        &sdict(vec![
            ("n", i(3)),
            (
                "arr",
                array(
                    "<i8",
                    &[3],
                    false,
                    le_bytes(&[0i64, 1, 2], i64::to_le_bytes),
                ),
            ),
        ]),
        "return",
    );
    let mut cache = cache;
    cache.meta.retain(|(k, _)| k != "runtime");
    let opts = RenderOptions::default();
    insta::assert_snapshot!(render(&PyValue::Cache(Box::new(cache)), &opts).join("\n"), @r"
    marimo Cache(
      cache_type='Deferred',
      hash='cgSYv9ppUC-VvAiruR2PIXwA9hWw9qtKnDvlYnGEuzk',
      defs={},
      stateful_refs=set(),
      meta={'return': {'n': 3, 'arr': array([0, 1, 2])}, 'version': 6},
    )
    ");
}

#[test]
fn marimo_class_and_ui_element_stubs() {
    let PyValue::List(stubs) = decode_file("marimo_stubs_p5.pickle") else {
        panic!("not a list")
    };
    assert_eq!(
        stubs[0],
        PyValue::ClassStub(Box::new(ClassStub {
            qualname: "Local".into(),
            code: "class Local:\n    k = 1\n".into(),
        }))
    );
    let PyValue::UIElementStub(ui) = &stubs[1] else {
        panic!("not a UIElementStub: {:?}", stubs[1])
    };
    assert_eq!(
        ui.class,
        PyValue::Global(QualName::new("marimo._plugins.ui._impl.input", "slider"))
    );
    assert!(
        matches!(&ui.args, PyValue::Object(o) if o.class.name == "InitializationArgs"),
        "{:?}",
        ui.args
    );
    assert_eq!(ui.value(), Some(&i(3)));
    let opts = RenderOptions::default();
    assert_eq!(
        render_inline(&PyValue::List(stubs), &opts),
        "[<class Local>, <ui slider value=3>]"
    );
}

#[test]
fn marimo_lazy_blobs() {
    assert_same(
        &decode_file("marimo_lazy_block_blob_lazy_list.pickle"),
        &list(vec![i(1), s("two"), PyValue::Float(3.0)]),
        "lazy_list",
    );
    let arr = npy::parse(&read("marimo_lazy_block_blob_lazy_arr.npy"), usize::MAX).unwrap();
    assert_eq!(
        arr,
        NdArray::new(
            "<f8".into(),
            vec![2, 3],
            false,
            le_bytes(&[0.0f64, 1.0, 2.0, 3.0, 4.0, 5.0], f64::to_le_bytes)
        )
    );
    let manifest = pyjson::parse(&read("marimo_lazy_block_C.jsonl"), 200).unwrap();
    let PyValue::Dict(top) = &manifest else {
        panic!("manifest is not an object")
    };
    assert_eq!(top[1], (s("cache_type"), s("ContentAddressed")));
}

#[test]
fn npy_versions_and_layouts() {
    let floats = le_bytes(&[0.0f64, 1.0, 2.0, 3.0, 4.0, 5.0], f64::to_le_bytes);
    for (file, version) in [("arr_v1.npy", 1), ("arr_v2.npy", 2), ("arr_v3.npy", 3)] {
        let bytes = read(file);
        let header = npy::parse_header(&bytes).unwrap();
        assert_eq!(header.version, (version, 0), "{file}");
        assert_eq!(header.data_offset % 64, 0, "{file}");
        let arr = npy::parse(&bytes, usize::MAX).unwrap();
        assert_eq!(
            arr,
            NdArray::new("<f8".into(), vec![2, 3], false, floats.clone()),
            "{file}"
        );
        // A prefix with the whole header still parses, with truncated data.
        let cut = npy::parse(&bytes[..header.data_offset + 10], usize::MAX).unwrap();
        assert!(cut.is_truncated());
    }
    let fortran = npy::parse(&read("fortran_i2.npy"), usize::MAX).unwrap();
    assert_eq!(
        render_inline(
            &PyValue::NdArray(Box::new(fortran)),
            &RenderOptions::default()
        ),
        "array([[0, 1, 2], [3, 4, 5]], dtype=int16)"
    );
    let be = npy::parse(&read("be_f4.npy"), usize::MAX).unwrap();
    assert_eq!(be.dtype, ">f4");
    assert_eq!(
        render_inline(&PyValue::NdArray(Box::new(be)), &RenderOptions::default()),
        "array([1.0, 2.5], dtype='>f4')"
    );
    assert_eq!(
        npy::parse(&read("object.npy"), usize::MAX),
        Err(NpyError::ObjectArray { shape: vec![2] })
    );
}

/// `json_block/C_pyluu….json` verbatim from the cache-format reference, section 5.
const REFERENCE_JSON_ENTRY: &str = r#"{
    "defs": {
        "json_payload": {
            "k": [
                1,
                2,
                5
            ],
            "s": "hello"
        },
        "json_token": 0.20395811308805312
    },
    "hash": "pyluuVMPYluBh0zfht18PBJrtrW0VhxBAMVSYQW0AUk",
    "cache_type": "ContentAddressed",
    "stateful_refs": [],
    "hit": false,
    "meta": {
        "runtime": 2.1457672119140625e-05,
        "version": 6
    }
}"#;

/// The signed lazy manifest verbatim from the reference, section 6.
const REFERENCE_SIGNED_MANIFEST: &str = r#"{"hash":"WiErer7d8V9Iet5tC_ym1pNyk4BkEKIMjNDl-nnHVbQ","cache_type":"ContentAddressed","defs":{"lazy_arr":{"reference":"lazy_block/WiErer7d8V9Iet5tC_ym1pNyk4BkEKIMjNDl-nnHVbQ/lazy_arr.npy","hash":"3bee2787827efbcbf62d5d039407eb3217cba8b032719f62471c1ac2309039fa","type_hint":"numpy.ndarray"},"lazy_token":{"primitive":0.20086816858518874},"lazy_list":{"reference":"lazy_block/WiErer7d8V9Iet5tC_ym1pNyk4BkEKIMjNDl-nnHVbQ/lazy_list.pickle","hash":"d9e649546ac2c3c95618943414358327a15963f361abfc989e92c021fd811a7b","type_hint":"builtins.list"}},"stateful_refs":[],"meta":{"version":6,"return_value":{},"blob_hashes":{"lazy_block/WiErer7d8V9Iet5tC_ym1pNyk4BkEKIMjNDl-nnHVbQ/lazy_arr.npy":"8cc97358caab52235176ec3a51d735d7ff7465b525d3849bad2d98c86c98d47d","lazy_block/WiErer7d8V9Iet5tC_ym1pNyk4BkEKIMjNDl-nnHVbQ/lazy_list.pickle":"9c189a6c61f76eb904f21d33abfd80cf050d4e2315daf01b4e1cdc1d44dc175e"},"signer_public_key":"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA2Gg0NNIN0sSs5jU7B92VJA+0n7LqRQ7EfY969vDL1OI=\n-----END PUBLIC KEY-----\n","signature":"0Pyp4vgu406e43ioXGL35-bajyQmVmJqAXo_1YhjrcKUzOtosU7Gdl1EJC4huvINK4mxBgc7ATjY3VAsMieHCw=="}}"#;

/// The whole-cell manifest of the import cell, from the reference, section 6.
const REFERENCE_CELL_MANIFEST: &str = r#"{"hash":"OmVl2FEuluZMpDVQiAMs_kD1yz8llbe7dmOwU3lbyd4","cache_type":"Pure","defs":{"np":{"module":"numpy","module_version":"2.4.6"},"random":{"module":"random"}},"stateful_refs":[],"meta":{"version":6,"return_value":{}}}"#;

fn field<'a>(v: &'a PyValue, key: &str) -> &'a PyValue {
    let PyValue::Dict(pairs) = v else {
        panic!("not an object: {v:?}")
    };
    pairs
        .iter()
        .find(|(k, _)| matches!(k, PyValue::Str(s) if s == key))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no key {key}"))
}

#[test]
fn reference_json_files() {
    let entry = pyjson::parse(REFERENCE_JSON_ENTRY.as_bytes(), 200).unwrap();
    assert_same(
        field(&entry, "defs"),
        &sdict(vec![
            (
                "json_payload",
                sdict(vec![("k", list(vec![i(1), i(2), i(5)])), ("s", s("hello"))]),
            ),
            ("json_token", PyValue::Float(0.20395811308805312)),
        ]),
        "defs",
    );
    assert_eq!(field(&entry, "hit"), &PyValue::Bool(false));
    assert_eq!(field(field(&entry, "meta"), "version"), &i(6));

    let signed = pyjson::parse(REFERENCE_SIGNED_MANIFEST.as_bytes(), 200).unwrap();
    let key = field(field(&signed, "meta"), "signer_public_key");
    assert!(matches!(key, PyValue::Str(k) if k.starts_with("-----BEGIN PUBLIC KEY-----\nMCow")));
    assert_eq!(
        field(field(field(&signed, "defs"), "lazy_token"), "primitive"),
        &PyValue::Float(0.20086816858518874)
    );

    let cell = pyjson::parse(REFERENCE_CELL_MANIFEST.as_bytes(), 200).unwrap();
    assert_eq!(
        field(field(&cell, "defs"), "np"),
        &sdict(vec![("module", s("numpy")), ("module_version", s("2.4.6"))])
    );
}

#[test]
fn python_json_with_nan_from_marimo() {
    let v = pyjson::parse(&read("marimo_json_block_P.json"), 200).unwrap();
    let payload = field(field(&v, "defs"), "json_payload");
    assert!(matches!(field(payload, "nan"), PyValue::Float(f) if f.is_nan()));
    assert_eq!(field(payload, "inf"), &PyValue::Float(f64::INFINITY));
    assert_eq!(
        render_inline(payload, &RenderOptions::default()),
        "{'k': [1, 2, 3], 's': 'hello', 'nan': nan, 'inf': inf}"
    );
}

/// Every fixture, for mutation-based property tests.
fn fixtures(ext: &str) -> Vec<Vec<u8>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("fixture dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read(p).expect("fixture"))
        .collect()
}

static PICKLES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| fixtures("pickle"));
static NPYS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| fixtures("npy"));
static JSONS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mut all = fixtures("json");
    all.extend(fixtures("jsonl"));
    all.push(REFERENCE_JSON_ENTRY.as_bytes().to_vec());
    all.push(REFERENCE_SIGNED_MANIFEST.as_bytes().to_vec());
    all
});

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..32).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = data.len().max(1);
        match m {
            Mutation::Flip(i, b) => {
                if let Some(x) = data.get_mut(i % len) {
                    *x = *b;
                }
            }
            Mutation::Insert(i, v) => {
                let at = i % (data.len() + 1);
                data.splice(at..at, v.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(data.len());
                if at < end {
                    data.drain(at..end);
                }
            }
            Mutation::Truncate(i) => data.truncate(i % len),
            Mutation::Duplicate(i, n) => {
                let at = i % len;
                let end = (at + n).min(data.len());
                if at < end {
                    let chunk = data[at..end].to_vec();
                    data.splice(end..end, chunk);
                }
            }
        }
    }
    data
}

/// Renders whatever decoded and checks no control character reaches the output.
fn check_render(v: &PyValue) {
    let opts = RenderOptions {
        width: 40,
        ..RenderOptions::default()
    };
    for line in render(v, &opts) {
        assert!(
            !line.chars().any(char::is_control),
            "control char in {line:?}"
        );
    }
}

fn small_limits() -> Limits {
    Limits {
        max_depth: 20,
        max_nodes: 5_000,
        max_bytes_alloc: 100_000,
        max_input: 1 << 20,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(v) = pickle::decode(&data, &Limits::default()) {
            check_render(&v);
        }
        let _ = pickle::decode(&data, &small_limits());
        let _ = npy::parse(&data, 1 << 16);
        let _ = pyjson::parse(&data, 50);
    }

    #[test]
    fn opcode_soup_never_panics(data in prop::collection::vec(
        prop::sample::select(b"()]}N.0123aebcdeghijlopqrstuKJMGXCBhq\x80\x81\x85\x86\x87\x88\x89\x8a\x8c\x8f\x90\x91\x92\x93\x94\x95\x96".to_vec()),
        0..300,
    )) {
        if let Ok(v) = pickle::decode(&data, &small_limits()) {
            check_render(&v);
        }
    }

    #[test]
    fn mutated_pickles_never_panic(
        index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let data = apply(index.get(&PICKLES).clone(), &mutations);
        if let Ok(v) = pickle::decode(&data, &Limits::default()) {
            check_render(&v);
        }
        let _ = pickle::decode(&data, &small_limits());
    }

    #[test]
    fn mutated_npy_and_json_never_panic(
        index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let data = apply(index.get(&NPYS).clone(), &mutations);
        if let Ok(arr) = npy::parse(&data, 1 << 16) {
            check_render(&PyValue::NdArray(Box::new(arr)));
        }
        let data = apply(index.get(&JSONS).clone(), &mutations);
        if let Ok(v) = pyjson::parse(&data, 50) {
            check_render(&v);
        }
    }

    #[test]
    fn render_is_bounded_and_clean(text in any::<String>(), raw in prop::collection::vec(any::<u8>(), 0..64)) {
        let v = PyValue::List(vec![
            PyValue::Str(text.clone()),
            PyValue::Str(String::from_utf8_lossy(&raw).into_owned()),
            PyValue::Bytes(raw.clone()),
            PyValue::Global(QualName::new(text.clone(), text)),
            array("<u1", &[raw.len() as u64], false, raw),
        ]);
        check_render(&v);
    }
}
