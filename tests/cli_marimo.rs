//! `celltime marimo enable|disable|status` on a private HOME, and `celltime serve`.

use crate::common::*;
use std::path::Path;

/// `celltime` with HOME and XDG_CONFIG_HOME inside `home`, run in `dir`.
fn with_home(dir: &Path, home: &Path) -> assert_cmd::Command {
    let mut cmd = celltime(dir);
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"));
    cmd
}

fn stdout(cmd: &mut assert_cmd::Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

#[test]
fn enable_keeps_the_users_settings_and_disable_takes_only_its_own_table_out() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let xdg = home.path().join(".config/marimo/marimo.toml");
    std::fs::create_dir_all(xdg.parent().unwrap()).unwrap();
    let original =
        "# my marimo settings\n[display]\ntheme = \"dark\" # keep me\n\n[cache]\nsize = 3\n";
    std::fs::write(&xdg, original).unwrap();

    let said = stdout(with_home(work.path(), home.path()).args(["marimo", "enable"]));
    assert!(
        said.contains("marimo's cache store is now celltime"),
        "{said}"
    );
    let enabled = std::fs::read_to_string(&xdg).unwrap();
    assert!(enabled.starts_with(original.trim_end()), "{enabled}");
    assert!(
        enabled.contains("[cache.store]\ntype = \"celltime\""),
        "{enabled}"
    );
    let again = stdout(with_home(work.path(), home.path()).args(["marimo", "enable"]));
    assert!(again.contains("already"), "{again}");

    let status = stdout(with_home(work.path(), home.path()).args(["marimo", "status"]));
    assert!(status.contains("pickle      celltime"), "{status}");

    stdout(with_home(work.path(), home.path()).args(["marimo", "disable"]));
    let disabled = std::fs::read_to_string(&xdg).unwrap();
    assert_eq!(disabled.trim_end(), original.trim_end());
}

#[test]
fn enable_writes_the_home_file_marimo_reads_first_and_refuses_a_broken_one() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let home_file = home.path().join(".marimo.toml");
    std::fs::write(&home_file, "[runtime]\nauto_reload = \"lazy\"\n").unwrap();
    stdout(with_home(work.path(), home.path()).args(["marimo", "enable"]));
    assert!(
        std::fs::read_to_string(&home_file)
            .unwrap()
            .contains("type = \"celltime\"")
    );
    assert!(!home.path().join(".config/marimo/marimo.toml").exists());

    std::fs::write(&home_file, "[runtime\n").unwrap();
    with_home(work.path(), home.path())
        .args(["marimo", "disable"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(".marimo.toml:1"));
    assert_eq!(std::fs::read_to_string(&home_file).unwrap(), "[runtime\n");
}

#[test]
fn status_names_the_layers_marimo_ignores_or_distrusts() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    stdout(with_home(work.path(), home.path()).args(["marimo", "enable"]));
    // A .marimo.toml inside the project is what marimo reads from there: it drops its store.
    std::fs::write(
        work.path().join(".marimo.toml"),
        "[cache.store]\ntype = \"celltime\"\n",
    )
    .unwrap();
    let status = stdout(with_home(work.path(), home.path()).args(["marimo", "status"]));
    assert!(status.contains("marimo drops its cache.store"), "{status}");
    assert!(
        status.contains("pickle      marimo's own folder"),
        "{status}"
    );
    std::fs::remove_file(work.path().join(".marimo.toml")).unwrap();

    std::fs::write(
        work.path().join("pyproject.toml"),
        "[tool.marimo.cache.store]\ntype = \"celltime\"\n",
    )
    .unwrap();
    let json = stdout(with_home(work.path(), home.path()).args(["marimo", "status", "--json"]));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["schema"], "celltime.marimo-status.v1");
    let methods = report["methods"].as_array().unwrap();
    let method = |name: &str| methods.iter().find(|m| m["method"] == name).unwrap();
    assert_eq!(method("pickle")["recorded_by_celltime"], false, "{json}");
    assert_eq!(method("json")["recorded_by_celltime"], true, "{json}");
    assert_eq!(
        method("lazy")["store"],
        "marimo's own folder (__marimo__/cache)"
    );
}

#[test]
fn serve_chooses_the_run_marimo_is_served() {
    use celltime_store::model::MarimoKey;
    let dir = workspace();
    let mut notebook = store(dir.path()).notebook_for_write(&nb("nb")).unwrap();
    let mut ids = Vec::new();
    for (t, seed) in [(10, "a"), (20, "b")] {
        let mut run = entry("nb", "block", "h1", t, seed);
        run.marimo_key = Some(MarimoKey::new("block/C_h1.pickle").unwrap());
        ids.push(notebook.put(run).unwrap().id());
    }
    let served = |dir: &Path| {
        let mut reader = store(dir).notebook(&nb("nb")).unwrap();
        reader.served("block", "h1", |_, _| true)
    };
    assert_eq!(served(dir.path()), Some(ids[1]));
    let said = stdout(celltime(dir.path()).args(["serve", &ids[0].to_hex()[..8]]));
    assert!(said.contains("2 runs"), "{said}");
    assert_eq!(served(dir.path()), Some(ids[0]));
    let shown = stdout(celltime(dir.path()).args(["show", &ids[0].to_hex()[..8]]));
    assert!(shown.contains("block/C_h1.pickle"), "{shown}");
    celltime(dir.path())
        .args(["serve", "ffffffff"])
        .assert()
        .code(2);
}
