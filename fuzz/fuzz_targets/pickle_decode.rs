//! `cargo +nightly fuzz run pickle_decode fuzz/corpus/pickle_decode`: decoding and rendering any
//! input must neither panic nor emit control characters.
#![no_main]

use celltime::legacy::pickle::{self, Limits};
use celltime::legacy::value::{RenderOptions, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Smaller than the defaults so each run stays fast; the checks are the same.
    let limits = Limits {
        max_nodes: 100_000,
        max_bytes_alloc: 16 << 20,
        ..Limits::default()
    };
    if let Ok(value) = pickle::decode(data, &limits) {
        for line in render(&value, &RenderOptions::default()) {
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
    }
});
