//! celltime's store layer: every cached run of every marimo cell, with no terminal code.
//!
//! - [`model`]: keys, entries, the in-memory index and the [`model::History`] interface (no I/O);
//! - [`store`]: the `__marimo__/persist/` store (format in `docs/FORMAT.md`);
//! - [`legacy`]: marimo's own cache folder, `__marimo__/cache/` (read, prune, import);
//! - [`policy`]: retention policies and the prune planner;
//! - [`units`]: sizes, counts and durations as people write them;
//! - [`remote`] (feature `remote`): contents shared on S3, GCS, Azure or a folder;
//! - [`workspace`]: which backends a workspace has, opened as one [`model::History`].

pub mod legacy;
pub mod model;
pub mod policy;
#[cfg(feature = "remote")]
pub mod remote;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod units;
pub mod workspace;
