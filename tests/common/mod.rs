//! Helpers shared by the program's integration tests: the `celltime` command, the demo, and
//! (in [`screens`]) a small real store with UI harness functions. Store-level helpers come
//! from `celltime_store::testing`, shared with the store crate's own tests.
#![allow(dead_code)] // each test module uses a different subset

pub mod screens;

pub use celltime_store::testing::*;
use std::path::Path;

/// The writer id every command run by the tests uses, so log and pack names are predictable.
pub const WRITER: &str = "clitest_00000000";

/// A fresh copy of the built-in demo workspace.
pub fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    celltime::demo::generate(dir.path(), &celltime::demo::DemoOptions::default()).unwrap();
    dir
}

/// The `celltime` binary, run in `dir` with UTC times and a fixed writer id.
pub fn celltime(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("celltime").unwrap();
    cmd.current_dir(dir)
        .env("TZ", "UTC")
        .env("CELLTIME_WRITER", WRITER);
    cmd
}

/// The list a JSON listing printed (`entries` of `ls --json`, `notebooks` of
/// `ls --notebooks --json`, …).
pub fn json_list(stdout: &[u8], list: &str) -> Vec<serde_json::Value> {
    let document: serde_json::Value = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(stdout)));
    document[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list:?} list in {document}"))
        .clone()
}

/// The entries a successful `ls --json` command printed.
pub fn listed(ls: &mut assert_cmd::Command) -> Vec<serde_json::Value> {
    let out = ls.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_list(&out.stdout, "entries")
}
