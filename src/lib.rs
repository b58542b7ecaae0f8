//! celltime: a time machine for marimo notebook results.
//!
//! - [`model`]: keys, entries, the in-memory index and the [`model::History`] interface (no I/O);
//! - [`store`]: the `__marimo__/persist/` store (format in `docs/FORMAT.md`);
//! - [`legacy`]: marimo's own cache folder, `__marimo__/cache/` (read, preview, prune, import);
//! - [`policy`]: retention policies and the prune planner;
//! - [`preview`]: a part's bytes as display lines (TUI and `show`);
//! - [`tui`]: the terminal UI;
//! - [`demo`]: the generated demo workspace;
//! - [`cli`]: the command line.

pub mod cli;
pub mod demo;
pub mod legacy;
pub mod model;
pub mod policy;
pub mod preview;
pub mod store;
pub mod tui;
