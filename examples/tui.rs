//! Runs the UI by hand until the CLI wires it: `cargo run --example tui -- PATH`, or
//! `cargo run --example tui -- --fixture DIR` to write the test fixture into DIR first.

#[path = "../tests/support/mod.rs"]
mod support;

use celltime::store::history::StoreHistory;
use celltime::store::{Store, Workspace};
use celltime::tui::{TuiOptions, run};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, fixture) = match args.as_slice() {
        [flag, dir] if flag == "--fixture" => (PathBuf::from(dir), true),
        [dir] => (PathBuf::from(dir), false),
        _ => (PathBuf::from("."), false),
    };
    if fixture {
        std::fs::create_dir_all(&path).expect("create the fixture folder");
        support::build(&path);
    }
    let store = match Workspace::discover(&path).and_then(|w| Store::open(&w)) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("celltime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = TuiOptions {
        mouse: std::env::var_os("CELLTIME_NO_MOUSE").map(|_| false),
        ..TuiOptions::default()
    };
    match run(Arc::new(StoreHistory::new(store)), options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("celltime: {e}");
            ExitCode::FAILURE
        }
    }
}
