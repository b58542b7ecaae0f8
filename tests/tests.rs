//! The program's integration tests, in one binary: the commands as scripts and people run
//! them, the terminal UI on a test backend, retention policies, marimo's real cache, hostile
//! workspaces and an independent Python writer. Shared helpers are in `common`.

mod common;

mod cli_basics;
mod cli_history;
mod cli_marimo;
mod cli_prune;
mod legacy;
mod policy;
mod python_writer;
mod results_diff;
mod security;
mod tui;
mod untrusted;
