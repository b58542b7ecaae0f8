//! `cargo +nightly fuzz run npy_json`: the NPY and Python-JSON readers must not panic, and what
//! they produce must render without control characters.
#![no_main]

use celltime::legacy::value::{PyValue, RenderOptions, render};
use celltime::legacy::{npy, pyjson};
use libfuzzer_sys::fuzz_target;

fn check(value: &PyValue) {
    for line in render(value, &RenderOptions::default()) {
        assert!(!line.chars().any(char::is_control), "{line:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(arr) = npy::parse(data, 1 << 20) {
        check(&PyValue::NdArray(Box::new(arr)));
    }
    if let Ok(value) = pyjson::parse(data, pyjson::DEFAULT_MAX_DEPTH) {
        check(&value);
    }
});
