//! One rule, one place (docs/ARCHITECTURE.md): where two parts of celltime answer the same
//! question — which notebooks a glob names, which run is the previous code version, which day
//! a run belongs to, what a size or a duration is — they answer it the same way, because one
//! owner answers for both. Each test asks both parts.

use crate::common::{celltime, workspace};
use std::path::Path;

/// Puts a run of cell `c` of `notebook`, with `code`, at `created` (RFC 3339); returns its id.
fn put_run(ws: &Path, notebook: &str, module: &str, code: &str, created: &str) -> String {
    let file = ws.join(format!("code-{module}.py"));
    std::fs::write(&file, code).unwrap();
    let out = celltime(ws)
        .args([
            "put",
            "--notebook",
            notebook,
            "--cell",
            "c",
            "--module",
            module,
        ])
        .args(["--created-at", created, "--code"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn json(ws: &Path, args: &[&str]) -> serde_json::Value {
    let out = celltime(ws).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn ls_and_prune_read_notebook_globs_alike() {
    let ws = workspace();
    for notebook in ["analysis/eda", "analysis/deep/eda", "models/eda"] {
        for (module, created) in [
            ("m1", "2026-01-01T00:00:00Z"),
            ("m2", "2026-01-02T00:00:00Z"),
        ] {
            put_run(ws.path(), notebook, module, "x = 1\n", created);
        }
    }
    for (glob, expected) in [
        ("analysis/*", &["analysis/eda"][..]),
        ("analysis/**", &["analysis/deep/eda", "analysis/eda"]),
        (
            "**/eda",
            &["analysis/deep/eda", "analysis/eda", "models/eda"],
        ),
    ] {
        let rows = json(ws.path(), &["ls", "--json", "--notebook", glob]);
        let mut listed: Vec<&str> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["notebook"].as_str().unwrap())
            .collect();
        listed.dedup();
        assert_eq!(listed, expected, "ls --notebook {glob}");
        let notebooks = json(
            ws.path(),
            &["ls", "--notebooks", "--json", "--notebook", glob],
        );
        let names: Vec<&str> = notebooks
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["notebook"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected, "ls --notebooks --notebook {glob}");
        let plan = json(
            ws.path(),
            &[
                "prune",
                "--dry-run",
                "--json",
                "--keep-last",
                "1",
                "--notebook",
                glob,
            ],
        );
        let mut pruned: Vec<String> = plan["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| !g["remove"].as_array().unwrap().is_empty())
            .map(|g| g["notebook"].as_str().unwrap().to_string())
            .collect();
        pruned.sort();
        assert_eq!(pruned, expected, "prune --notebook {glob}: {plan}");
    }
}

/// Three runs of one cell: the module hash moves twice, the code text only once.
fn module_moved_code_same(dir: &Path) -> [String; 3] {
    let runs = [
        ("m1", "x = 1\n", "2026-01-01T00:00:00Z"),
        ("m2", "x = 1\n", "2026-01-02T00:00:00Z"),
        ("m3", "x = 2\n", "2026-01-03T00:00:00Z"),
    ];
    runs.map(|(module, code, created)| put_run(dir, "nb", module, code, created))
}

#[test]
fn the_timeline_the_diff_tab_and_celltime_diff_agree_on_the_previous_code_version() {
    use crate::common::screens::{app, history, open_store, screen};
    let ws = workspace();
    let [first, same_code, changed] = module_moved_code_same(ws.path());
    let short = |id: &str| id[..10].to_string();

    // celltime diff: the changed run against the newest run with other code; the run whose
    // code did not change has nothing to compare.
    let out = celltime(ws.path())
        .args(["diff", &changed])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("--- {}", short(&same_code))),
        "{text}"
    );
    let out = celltime(ws.path())
        .args(["diff", &same_code])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("first code version"), "{text}");

    // The UI: one "code changed" line, and the Diff tab takes the same bases.
    let mut app = app(history(open_store(ws.path())), 160, 30);
    app.press("<tab>2");
    let screen_of = |app: &celltime::tui::App| screen(app, 160, 30);
    let text = screen_of(&app);
    assert_eq!(text.matches("code changed").count(), 1, "{text}");
    assert!(
        text.contains(&format!("diff {} → {}", short(&same_code), short(&changed))),
        "{text}"
    );
    app.press("j");
    let text = screen_of(&app);
    assert!(text.contains("no earlier code version"), "{text}");
    assert!(!text.contains("the code is the same"), "{text}");
    assert!(text.contains(&short(&first)), "{text}");
}
