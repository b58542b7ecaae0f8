//! The store crate's integration tests, in one binary: the store's API and its promises
//! (crashes, kill -9, I/O faults, sync tools, concurrency). Shared helpers live in
//! `celltime_store::testing`. Tests that re-run this binary as a child name their child test
//! by its full path (`store_crash::crash_child`).

mod fuzz_regressions;
mod history_ops;
mod marimo_recorder;
mod reliability_faults;
mod reliability_soak;
mod reliability_sync;
#[cfg(feature = "remote")]
mod remote;
mod store_api;
mod store_append;
mod store_concurrency;
#[cfg(feature = "failpoints")]
mod store_crash;
mod store_props;
mod store_tolerance;
mod store_untrusted;
