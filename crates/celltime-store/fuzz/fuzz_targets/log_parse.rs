//! `cargo +nightly fuzz run log_parse /tmp/log-work corpus/log_parse` (in crates/celltime-store/fuzz): reading a log
//! segment never panics, and what it reports agrees with the bytes (docs/FORMAT.md §9):
//! records sit at line starts, in increasing order, before `valid_end`, which is a line end
//! inside the input; a torn tail is the rest of the input and never comes with corruption;
//! corruption names the line after the last good one; every record read re-encodes to a line
//! that reads back as itself. The checks live in `fuzz/checks.rs`, which
//! `tests/fuzz_regressions.rs` replays the committed corpus through.
#![no_main]

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::check_segment(data);
});
