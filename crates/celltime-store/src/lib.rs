//! celltime's store layer: every cached run of every marimo cell, with no terminal code.
//!
//! - [`model`]: keys, entries, the in-memory index and the [`model::History`] interface (no I/O);
//! - [`store`]: the `__marimo__/persist/` store (format in `docs/FORMAT.md`);
//! - [`legacy`]: marimo's own cache folder, `__marimo__/cache/` (read, prune, import);
//! - [`marimo`]: what the marimo plugin does with a notebook (serve keys, record runs);
//! - [`policy`]: retention policies and the prune planner;
//! - [`units`]: sizes, counts and durations as people write them;
//! - [`combined`]: both backends as one history, a run held by both as one row;
//! - [`ops`]: the operation log (what every command changed, and undo);
//! - [`remote`] (feature `remote`): contents shared on S3, GCS, Azure or a folder;
//! - [`follow`]: file-system notifications of changes to the store and marimo's cache;
//! - [`workspace`]: which backends a workspace has, opened as one [`model::History`];
//! - [`Located`]: `path:line: message`, the shape of every problem found in a file.

pub mod combined;
pub mod follow;
pub mod legacy;
pub mod located;
pub mod marimo;
pub mod model;
pub mod ops;
pub mod parallel;
pub mod policy;
#[cfg(feature = "remote")]
pub mod remote;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod units;
pub mod workspace;

pub use located::Located;
