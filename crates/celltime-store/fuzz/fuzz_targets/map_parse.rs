//! `cargo +nightly fuzz run map_parse /tmp/map-work corpus/map_parse` (in crates/celltime-store/fuzz): any UTF-8 text given
//! to the map reader is either refused with an error or parses; and what parses renders to the
//! canonical text, which parses back to the same entries, log positions and merged copies and
//! renders to itself (docs/FORMAT.md §8). The checks live in `fuzz/checks.rs`, which
//! `tests/fuzz_regressions.rs` replays the committed corpus through.
#![no_main]

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::check_map(data);
});
