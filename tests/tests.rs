//! The program's integration tests, in one binary: the commands as scripts and people run
//! them, the terminal UI on a test backend, retention policies, marimo's real cache, hostile
//! workspaces and an independent Python writer. Shared helpers are in `common`.

mod common;

mod cli_basics;
mod cli_help;
mod cli_history;
mod cli_marimo;
mod cli_prune;
mod json_schema;
mod legacy;
mod one_rule;
mod policy;
mod python_writer;
mod results_diff;
mod security;
mod terminal;
mod tui;
mod tui_keys;
mod untrusted;
