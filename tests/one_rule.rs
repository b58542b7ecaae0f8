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
        let mut listed: Vec<&str> = rows["entries"]
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
        let names: Vec<&str> = notebooks["notebooks"]
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

/// A zone with daylight-saving time, as a POSIX rule (no time zone database needed):
/// Central European Time, UTC+1, and UTC+2 from the last Sunday of March to the last of October.
const CET_CEST: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

/// Runs around local midnight in winter and in summer: any one fixed offset puts some of them
/// on the wrong local day.
const AROUND_MIDNIGHT: [&str; 6] = [
    "2026-01-15T22:30:00Z", // 23:30 CET, Jan 15
    "2026-01-15T23:30:00Z", // 00:30 CET, Jan 16
    "2026-01-16T09:00:00Z", // 10:00 CET, Jan 16
    "2026-07-01T21:30:00Z", // 23:30 CEST, Jul 1
    "2026-07-01T22:30:00Z", // 00:30 CEST, Jul 2
    "2026-07-02T08:00:00Z", // 10:00 CEST, Jul 2
];

#[test]
fn mark_by_policy_and_prune_count_days_in_the_same_zone_with_its_daylight_saving_rules() {
    let ws = workspace();
    let ids: Vec<String> = AROUND_MIDNIGHT
        .iter()
        .enumerate()
        .map(|(n, created)| put_run(ws.path(), "nb", &format!("m{n}"), "x = 1\n", created))
        .collect();
    let out = celltime(ws.path())
        .env("TZ", CET_CEST)
        .args(["prune", "--dry-run", "--json", "--keep-daily", "all"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut pruned: Vec<String> = plan["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["remove"].as_array().unwrap())
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    pruned.sort();
    // The earlier run of each local day with two runs goes.
    let mut expected = vec![ids[1][..10].to_string(), ids[4][..10].to_string()];
    expected.sort();
    let short: Vec<String> = pruned.iter().map(|id| id[..10].to_string()).collect();
    assert_eq!(short, expected, "prune: {plan}");

    // The UI, started in the same zone, marks the same runs.
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "one_rule::mark_by_policy_child",
            "--nocapture",
        ])
        .env("TZ", CET_CEST)
        .env("CELLTIME_ZONE_TEST_DIR", ws.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&child.stderr)
    );
    let marked = stdout
        .lines()
        .find_map(|l| l.strip_prefix("MARKED "))
        .unwrap_or_else(|| panic!("no marks reported: {stdout}"));
    let mut marked: Vec<String> = marked.split(',').map(|id| id[..10].to_string()).collect();
    marked.sort();
    assert_eq!(marked, expected, "mark by policy");
}

#[test]
#[ignore = "run as a child, in a time zone of its own, by the test above"]
fn mark_by_policy_child() {
    use crate::common::screens::{NOW, open_store, ui};
    use celltime::tui::{App, state::Ui};
    use celltime_store::model::{Timestamp, Zone};
    let dir = std::env::var("CELLTIME_ZONE_TEST_DIR").expect("run by the zone test");
    let history = crate::common::screens::history(open_store(Path::new(&dir)));
    let ui = Ui {
        tz: Zone::Local,
        ..ui()
    };
    let mut app = App::inline(history, ui, Timestamp(NOW));
    app.act(celltime::tui::action::Action::Resize {
        width: 120,
        height: 40,
    });
    app.settle();
    app.press("P<ctrl-u>--keep-daily all<enter>");
    app.settle();
    let ids: Vec<String> = app
        .state
        .marks
        .by_notebook
        .values()
        .flat_map(|m| m.ids.iter().map(|id| id.to_hex()))
        .collect();
    println!("MARKED {}", ids.join(","));
}

/// stderr of a command that must fail.
fn refusal(ws: &Path, args: &[&str]) -> String {
    let out = celltime(ws).args(args).output().unwrap();
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_duration_and_size_is_read_by_one_grammar() {
    let ws = workspace();
    put_run(ws.path(), "nb", "m1", "x = 1\n", "2026-01-01T00:00:00Z");
    let persist = ws.path().join("__marimo__/persist/persist.toml");
    let minute = "ambiguous unit 'm': use 'min' or 'mo'";
    for args in [
        &["prune", "--dry-run", "--keep-within", "5m"][..],
        &["gc", "--grace", "5m"],
        &["ls", "--lock-timeout", "5m"],
        &["pin", "abcd", "--lock-timeout", "5m"],
    ] {
        let stderr = refusal(ws.path(), args);
        assert!(stderr.contains(minute), "{args:?}: {stderr}");
    }
    std::fs::write(&persist, "gc_grace = \"5m\"\n").unwrap();
    let stderr = refusal(ws.path(), &["gc"]);
    assert!(
        stderr.contains(&format!("persist.toml:1: gc_grace: {minute}")),
        "{stderr}"
    );
    std::fs::write(&persist, "[prune]\nkeep-within = \"5m\"\n").unwrap();
    let stderr = refusal(ws.path(), &["prune", "--dry-run"]);
    assert!(stderr.contains(minute), "{stderr}");

    let negative = "negative values are not allowed";
    std::fs::write(&persist, "").unwrap();
    let stderr = refusal(ws.path(), &["prune", "--dry-run", "--max-size", "-1"]);
    assert!(stderr.contains(negative), "{stderr}");
    std::fs::write(&persist, "inline_threshold = -1\n").unwrap();
    let stderr = refusal(ws.path(), &["ls"]);
    assert!(
        stderr.contains(&format!("persist.toml:1: inline_threshold: {negative}")),
        "{stderr}"
    );
    std::fs::write(&persist, "[prune]\nmax-size = -1\n").unwrap();
    let stderr = refusal(ws.path(), &["prune", "--dry-run"]);
    assert!(stderr.contains(negative), "{stderr}");
    std::fs::write(&persist, "inline_threshold = \"5M\"\n").unwrap();
    let stderr = refusal(ws.path(), &["ls"]);
    assert!(stderr.contains("ambiguous unit 'M': use 'MB'"), "{stderr}");
}

#[test]
fn sizes_just_under_a_unit_show_in_the_next_one() {
    let ws = workspace();
    let big = ws.path().join("big.bin");
    std::fs::write(&big, vec![1u8; 1024 * 1024 - 1]).unwrap();
    let out = celltime(ws.path())
        .args(["put", "--notebook", "nb", "--cell", "c", "--module", "m"])
        .arg("--output")
        .arg(format!("application/octet-stream={}", big.display()))
        .output()
        .unwrap();
    assert!(out.status.success());
    for args in [
        &["ls"][..],
        &["ls", "--notebooks"],
        &["ls", "--cells"],
        &["verify"],
    ] {
        let out = celltime(ws.path()).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("1.0 MiB"), "{args:?}: {text}");
        assert!(!text.contains("1024.0"), "{args:?}: {text}");
    }
}

#[test]
fn every_command_that_takes_an_id_resolves_it_alike() {
    let ws = workspace();
    let id = put_run(ws.path(), "nb", "m1", "x = 1\n", "2026-01-01T00:00:00Z");
    put_run(ws.path(), "nb", "m2", "x = 2\n", "2026-01-02T00:00:00Z");
    let code = ws.path().join("child.py");
    std::fs::write(&code, "y = 1\n").unwrap();
    let put_with_parent = |parent: &str| {
        let mut cmd = celltime(ws.path());
        cmd.args([
            "put",
            "--notebook",
            "nb",
            "--cell",
            "child",
            "--module",
            "m9",
        ])
        .arg("--code")
        .arg(&code)
        .args(["--parent", parent]);
        cmd
    };
    let commands = |prefix: &str| -> Vec<assert_cmd::Command> {
        let mut show = celltime(ws.path());
        show.args(["show", prefix]);
        let mut diff = celltime(ws.path());
        diff.args(["diff", prefix]);
        let mut pin = celltime(ws.path());
        pin.args(["pin", prefix]);
        vec![show, diff, pin, put_with_parent(prefix)]
    };
    for (prefix, message) in [
        ("zz", "\"zz\" is not an entry id"),
        (
            "0000000000000000",
            "no entry id starts with \"0000000000000000\"",
        ),
    ] {
        for mut command in commands(prefix) {
            let out = command.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
            assert!(stderr.contains(message), "{command:?}: {stderr}");
        }
    }
    // Any case, any unique length from four characters.
    for mut command in commands(&id[..6].to_uppercase()) {
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
