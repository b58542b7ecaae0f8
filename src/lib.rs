//! celltime, the program: the command line, the terminal UI, previews and the demo, on top of
//! the store crate ([`celltime_store`]) and the Python-value decoders ([`celltime_pyvalue`]).
//!
//! - [`cli`]: the commands and their exit codes;
//! - [`tui`]: the terminal UI;
//! - [`preview`]: a part's bytes as display lines (TUI and `show`);
//! - [`demo`]: the generated demo workspace.

pub mod cli;
pub mod demo;
pub mod preview;
pub mod tui;
