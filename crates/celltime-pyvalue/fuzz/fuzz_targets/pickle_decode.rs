//! `cargo +nightly fuzz run pickle_decode` (from crates/celltime-pyvalue/fuzz): decoding and rendering any
//! input must neither panic nor emit control characters. The checks live in
//! `fuzz/checks.rs`, which `tests/fuzz_corpus.rs` replays the committed corpus through.
#![no_main]

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::check_pickle(data);
});
