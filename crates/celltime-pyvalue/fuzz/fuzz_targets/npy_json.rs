//! `cargo +nightly fuzz run npy_json` (from crates/celltime-pyvalue/fuzz): the NPY and Python-JSON readers must not
//! panic, and what they produce must render without control characters. The checks live in
//! `fuzz/checks.rs`, which `tests/fuzz_corpus.rs` replays the committed corpus through.
#![no_main]

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::check_npy_json(data);
});
