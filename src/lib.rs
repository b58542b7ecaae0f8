//! celltime: a time machine for marimo notebook results.
//!
//! - [`model`]: keys, entries and the in-memory index (no I/O);
//! - [`store`]: the `__marimo__/persist/` store (format in `docs/FORMAT.md`);
//! - [`policy`]: retention policies and the prune planner.

pub mod model;
pub mod policy;
pub mod preview;
pub mod store;
pub mod tui;
