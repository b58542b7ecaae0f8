//! The properties the fuzz targets check, shared with `tests/fuzz_corpus.rs` (which includes
//! this file with `#[path]`), so every committed corpus file is replayed through exactly the
//! checks the fuzzer used. Each check panics when a property is broken.

use celltime_pyvalue::pickle::{self, Limits};
use celltime_pyvalue::value::{PyValue, RenderOptions, render};
use celltime_pyvalue::{npy, pyjson};

fn check_rendered(value: &PyValue) {
    for line in render(value, &RenderOptions::default()) {
        assert!(!line.chars().any(char::is_control), "{line:?}");
    }
}

/// `pickle_decode` (as in its target): decoding under small limits never panics and what it
/// renders holds no control characters.
pub fn check_pickle(data: &[u8]) {
    let limits = Limits {
        max_nodes: 100_000,
        max_bytes_alloc: 16 << 20,
        ..Limits::default()
    };
    if let Ok(value) = pickle::decode(data, &limits) {
        check_rendered(&value);
    }
}

/// `npy_json` (as in its target): the NPY and Python-JSON readers never panic and what they
/// render holds no control characters.
pub fn check_npy_json(data: &[u8]) {
    if let Ok(arr) = npy::parse(data, 1 << 20) {
        check_rendered(&PyValue::NdArray(Box::new(arr)));
    }
    if let Ok(value) = pyjson::parse(data, pyjson::DEFAULT_MAX_DEPTH) {
        check_rendered(&value);
    }
}
