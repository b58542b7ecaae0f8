//! `celltime diff --parts`: two runs whose pandas frame (made by pandas 3.1, fixtures in
//! crates/celltime-pyvalue/tests/data/frames) changed shape and values, a number and console
//! text; `show` draws the frame as a table.

use crate::common::celltime;
use std::path::{Path, PathBuf};

fn frames() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/celltime-pyvalue/tests/data/frames")
}

/// A workspace with two runs of one cell; returns it and the two ids (old, new).
fn two_runs() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("__marimo__")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();
    write("code.py", "df = load()\n");
    write("n1.json", "4");
    write("n2.json", "5");
    write("o1.txt", "the total is 10 today\n");
    write("o2.txt", "the total is 12 today\n");
    let put = |version: &str, at: &str, df: &str, n: &str, out: &str| -> String {
        let df = frames().join(df);
        let output = celltime(root)
            .args([
                "put",
                "--notebook",
                "nb",
                "--cell",
                "load",
                "--module",
                "m1",
            ])
            .args([
                "--version",
                version,
                "--created-at",
                at,
                "--code",
                "code.py",
            ])
            .arg(format!("--var=df=pickle:{}", df.display()))
            .arg(format!("--var=n=json:{n}"))
            .args(["--stdout", out])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    };
    let old = put(
        "0",
        "2026-01-01T10:00:00Z",
        "pandas_mixed_p5.pickle",
        "n1.json",
        "o1.txt",
    );
    let new = put(
        "1",
        "2026-01-01T11:00:00Z",
        "pandas_mixed_changed.pickle",
        "n2.json",
        "o2.txt",
    );
    (dir, old, new)
}

fn run(dir: &Path, args: &[&str]) -> String {
    let output = celltime(dir).args(args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn results_diff_of_a_changed_table() {
    let (dir, old, new) = two_runs();
    let text = run(
        dir.path(),
        &["diff", &new, &old, "--parts", "variables,console"],
    );
    let (head, body) = text.split_once('\n').unwrap();
    assert_eq!(head, format!("results {} → {}", &old[..8], &new[..8]));
    insta::assert_snapshot!(body, @r"
    variables · df  changed
      shape 4 rows × 6 columns → 5 rows × 6 columns
      2 of 24 cells changed
        row 1, score: 2.5 → 2.75 (+0.25, +10%)
        row 3, name: dé → dee
    variables · n  changed: 4 → 5 (+1, +25%)
    console · stdout  changed
      1 words added, 1 removed
      the total is [-10-]{+12+} today
    3 changed, 0 the same
    ");
    // Without a base, the cell's run before is the base.
    assert_eq!(
        run(dir.path(), &["diff", &new, "--parts", "variables,console"]),
        text
    );
}

#[test]
fn results_diff_as_json() {
    let (dir, old, new) = two_runs();
    let text = run(
        dir.path(),
        &["diff", &new, &old, "--parts", "variables", "--json"],
    );
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["schema"], "celltime.results-diff.v1");
    assert_eq!(json["base"]["id"], old);
    assert_eq!(json["other"]["created_at"], "2026-01-01T11:00:00.000Z");
    insta::assert_json_snapshot!(json["parts"], @r#"
    [
      {
        "change": {
          "cells": [
            {
              "column": "score",
              "delta": {
                "absolute": 0.25,
                "relative": 0.1
              },
              "from": "2.5",
              "row": 1,
              "to": "2.75"
            },
            {
              "column": "name",
              "from": "dé",
              "row": 3,
              "to": "dee"
            }
          ],
          "cells_changed": 2,
          "cells_compared": 24,
          "columns_added": [],
          "columns_removed": [],
          "dtypes_changed": [],
          "from_shape": [
            4,
            6
          ],
          "to_shape": [
            5,
            6
          ],
          "type": "table"
        },
        "kind": "variables",
        "label": "df",
        "status": "changed"
      },
      {
        "change": {
          "delta": {
            "absolute": 1.0,
            "relative": 0.25
          },
          "from": "4",
          "to": "5",
          "type": "number"
        },
        "kind": "variables",
        "label": "n",
        "status": "changed"
      }
    ]
    "#);
}

#[test]
fn show_draws_frames_as_tables() {
    let (dir, old, _) = two_runs();
    let text = run(dir.path(), &["show", &old, "--part", "variables:df"]);
    insta::assert_snapshot!(text.trim_start(), @r"
    ── variables · df · pickle · 1.9 KiB ──
    pandas.DataFrame · 4 rows × 6 columns
          id                score  name  when                 kind      flag
       int64              float64  str   datetime64[us]       category  bool
    0      1  0.20065631450172938  ada   2024-01-01 00:00:00  x         True
    1      2                  2.5  bob   2024-01-02 03:04:05  y         False
    2      3                  nan  <NA>  2024-02-29 00:00:00  x         True
    3      4               -1e-07  dé    2025-12-31 23:59:59  <NA>      True
    ");
}

#[test]
fn code_stays_the_default_part() {
    let (dir, old, new) = two_runs();
    let text = run(dir.path(), &["diff", &new, &old]);
    assert!(!text.contains("results"), "{text}");
}
