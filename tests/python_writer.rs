//! docs/FORMAT.md is enough to write a compatible store: a second implementation written from it
//! alone, in Python with the standard library only (tests/fixtures/python_writer/), and celltime
//! must read each other's writes. Each side's view is checked against the other's byte for byte:
//! ids, pins, parents, and every part's contents.
//!
//! The tests need `python3` (3.11 or newer, for `tomllib`) on PATH and fail, not skip, without it.

use crate::common::{WRITER, celltime};
use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const WRITER_PY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/python_writer/celltime_writer.py"
);
const BLAKE3_PY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/python_writer/blake3.py"
);
/// The Python side's writer id (FORMAT.md §11.1), as the fixture sets it by default.
const PY_WRITER: &str = "pywriter_00000001";
const NB: &str = "analysis/eda";

/// `python3 ARGS...`, failing the test with a clear message when Python is missing or too old.
fn python3() -> Command {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import sys, tomllib; print(sys.version)"])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "tests/python_writer.rs needs python3 >= 3.11 (with tomllib) on PATH: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(err) => panic!("tests/python_writer.rs needs python3 >= 3.11 on PATH: {err}"),
    }
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONDONTWRITEBYTECODE", "1");
    cmd
}

fn py(dir: &Path) -> Command {
    let mut cmd = python3();
    cmd.current_dir(dir).arg(WRITER_PY);
    cmd
}

fn stdout(cmd: &mut Command) -> Vec<u8> {
    cmd.assert().success().get_output().stdout.clone()
}

fn text(cmd: &mut Command) -> String {
    String::from_utf8(stdout(cmd)).unwrap().trim().to_string()
}

fn json(cmd: &mut Command) -> Value {
    serde_json::from_slice(&stdout(cmd)).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// FORMAT.md §2.3, computed here independently of both implementations.
fn entry_id(notebook: &str, cell: &str, module: &str, version: &str, created_ms: i64) -> String {
    let key = format!("celltime-entry-v1\0{notebook}\0{cell}\0{module}\0{version}\0{created_ms}");
    hex(&blake3::hash(key.as_bytes()).as_bytes()[..16])
}

/// Deterministic incompressible-looking bytes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

struct Files(PathBuf);

impl Files {
    fn put(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_string()
    }
}

fn workspace() -> (tempfile::TempDir, Files) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("__marimo__")).unwrap();
    let files = dir.path().join("inputs");
    std::fs::create_dir_all(&files).unwrap();
    (dir, Files(files))
}

/// The entries the Python writer puts: (the parent `load`, the pinned `fit` with every kind of
/// part, one of them above the 64 KiB inline threshold, and `load` as its parent).
fn python_puts(dir: &Path, files: &Files) -> (String, String, Vec<u8>) {
    let load = text(py(dir).args([
        "put",
        ".",
        "--notebook",
        NB,
        "--cell",
        "load_data",
        "--module",
        "Qw9load",
        "--created-ms",
        "1700000000000",
        "--code",
        &files.put("load.py", b"df = pd.read_csv('data/sales.csv')\n"),
        "--output",
        &format!("text/plain={}", files.put("load.txt", b"1000 rows\n")),
    ]));
    assert_eq!(
        load,
        entry_id(NB, "load_data", "Qw9load", "0", 1700000000000)
    );
    let big = noise(70_000, 7);
    let fit = text(py(dir).args([
        "put",
        ".",
        "--notebook",
        NB,
        "--cell",
        "fit_model",
        "--module",
        "Hx3abc",
        "--version",
        "2",
        "--created-ms",
        "1700000060123",
        "--code",
        &files.put("fit.py", "model = fit(df)  # é\n".as_bytes()),
        "--var",
        &format!("model=pickle:{}", files.put("model.pkl", &noise(300, 1))),
        "--var",
        &format!("=json:{}", files.put("ns.json", b"{\"a\": 1}")),
        "--output",
        &format!("image/png={}", files.put("plot.png", &big)),
        "--output",
        &format!("text/html={}", files.put("t.html", b"<b>fit</b>")),
        "--output",
        &format!("text/plain={}", files.put("empty.txt", b"")),
        "--stdout",
        &files.put("out.txt", b"epoch 1\nepoch 2\n"),
        "--stderr",
        &files.put("err.txt", b"warning: slow\n"),
        "--watched",
        &format!("data/sales.csv={}", files.put("sales.csv", b"a,b\n1,2\n")),
        "--parent",
        &load[..8],
        "--pin",
    ]));
    assert_eq!(fit, entry_id(NB, "fit_model", "Hx3abc", "2", 1700000060123));
    (load, fit, big)
}

/// `--part` selector of a part as `celltime show --json` or the Python reader describe it.
fn selector(part: &Value) -> String {
    let kind = part["kind"].as_str().unwrap();
    match kind {
        "code" => kind.to_string(),
        _ => format!("{kind}:{}", part["label"].as_str().unwrap()),
    }
}

/// Python's reading of a notebook: id → entry (with each part's bytes as hex).
fn python_read(dir: &Path, notebook: &str) -> BTreeMap<String, Value> {
    let entries = json(py(dir).args(["read", ".", notebook]));
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["id"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

/// celltime's listing of a notebook: id → `ls --json` entry.
fn celltime_ls(dir: &Path, notebook: &str) -> BTreeMap<String, Value> {
    let listing = json(celltime(dir).args(["ls", "--json", "--notebook", notebook]));
    listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["id"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

/// The Python reader and celltime agree on a notebook: the same ids, keys, pins, parents and
/// parts, and every part's bytes as `celltime show --raw` writes them.
fn assert_same_view(dir: &Path, notebook: &str) -> BTreeMap<String, Value> {
    let python = python_read(dir, notebook);
    let listed = celltime_ls(dir, notebook);
    assert_eq!(
        python.keys().collect::<Vec<_>>(),
        listed.keys().collect::<Vec<_>>(),
        "entry ids of {notebook}: Python reader vs celltime ls"
    );
    for (id, ours) in &python {
        let theirs = &listed[id];
        for field in [
            "notebook",
            "cell",
            "module",
            "version",
            "created_at",
            "pinned",
        ] {
            assert_eq!(ours[field], theirs[field], "{field} of {id}");
        }
        let shown = json(celltime(dir).args(["show", id, "--json"]));
        let parent_ids: Vec<&Value> = shown["parents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["id"])
            .collect();
        assert_eq!(
            ours["parents"]
                .as_array()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            parent_ids,
            "parents of {id}"
        );
        let describe = |parts: &Value| -> Vec<(String, String, u64)> {
            let mut v: Vec<_> = parts
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        selector(p),
                        p["format"].as_str().unwrap().to_string(),
                        p["size"].as_u64().unwrap(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            describe(&ours["parts"]),
            describe(&shown["parts"]),
            "parts of {id}"
        );
        for part in ours["parts"].as_array().unwrap() {
            let raw = stdout(celltime(dir).args(["show", id, "--part", &selector(part), "--raw"]));
            let bytes = part["hex"]
                .as_str()
                .unwrap_or_else(|| panic!("Python could not read {} of {id}", selector(part)));
            assert_eq!(bytes, hex(&raw), "bytes of {} of {id}", selector(part));
        }
    }
    python
}

fn files_under(dir: &Path, sub: &str) -> Vec<String> {
    match std::fs::read_dir(dir.join(sub)) {
        Ok(rd) => {
            let mut names: Vec<_> = rd
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        }
        Err(_) => vec![],
    }
}

#[test]
fn the_python_blake3_matches_the_test_vectors() {
    python3().arg(BLAKE3_PY).assert().success();
}

#[test]
fn celltime_reads_what_the_python_writer_wrote() {
    let (tmp, files) = workspace();
    let dir = tmp.path();
    let (load, fit, big) = python_puts(dir, &files);

    // The layout of FORMAT.md §1: the large content is an object, the rest in a pack, one
    // put record per segment, all named after the Python writer.
    let folder = dir.join("__marimo__/persist").join(NB);
    let big_hash = blake3::hash(&big).to_hex().to_string();
    assert_eq!(
        std::fs::read(folder.join("objects").join(&big_hash[..2]).join(&big_hash)).unwrap(),
        big
    );
    let packs = files_under(&folder, "packs");
    let segments = files_under(&folder, "log");
    assert!(!packs.is_empty() && packs.iter().all(|p| p.starts_with(PY_WRITER)));
    assert_eq!(segments.len(), 2);
    assert!(segments.iter().all(|s| s.starts_with(PY_WRITER)));
    assert!(folder.join("notebook.toml").is_file());
    assert!(
        !folder.join("map.toml").exists(),
        "the Python writer never consolidates"
    );

    let listed = celltime_ls(dir, NB);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[&load]["pinned"], false);
    assert_eq!(listed[&fit]["pinned"], true);
    assert_eq!(listed[&fit]["version"], "2");
    assert_eq!(listed[&fit]["created_at"], "2023-11-14T22:14:20.123Z");
    assert_eq!(
        listed[&fit]["parts"],
        serde_json::json!(["code", "variables", "outputs", "console", "watched"])
    );
    let shown = json(celltime(dir).args(["show", &fit, "--json"]));
    assert_eq!(shown["parents"][0]["id"], serde_json::json!(load));
    assert_eq!(shown["parents"].as_array().unwrap().len(), 1);

    // Byte for byte, against the files the parts were made from.
    for (part, file) in [
        ("code", "fit.py"),
        ("variables:model", "model.pkl"),
        ("variables:", "ns.json"),
        ("outputs:image/png", "plot.png"),
        ("outputs:text/html", "t.html"),
        ("outputs:text/plain", "empty.txt"),
        ("console:stdout", "out.txt"),
        ("console:stderr", "err.txt"),
        ("watched:data/sales.csv", "sales.csv"),
    ] {
        assert_eq!(
            stdout(celltime(dir).args(["show", &fit, "--part", part, "--raw"])),
            std::fs::read(files.0.join(file)).unwrap(),
            "{part}"
        );
    }
    assert_same_view(dir, NB);
    celltime(dir).arg("verify").assert().success();

    // celltime folds the Python segments into its map but leaves them alone: they belong to
    // another writer (§10.5). Both sides still agree afterwards.
    celltime(dir).arg("consolidate").assert().success();
    assert_eq!(files_under(&folder, "log"), segments);
    assert_same_view(dir, NB);
    celltime(dir).arg("verify").assert().success();
}

#[test]
fn the_python_reader_sees_what_celltime_wrote() {
    let (tmp, files) = workspace();
    let dir = tmp.path();
    let (load, fit, _) = python_puts(dir, &files);
    // A Python pin record that celltime's later unpin overrides: the Python reader must start
    // its segments at the map's log_pos, or it would apply the pin again.
    py(dir).args(["pin", ".", NB, &load]).assert().success();
    celltime(dir)
        .args(["unpin", &load, "-C", "."])
        .assert()
        .success();

    // celltime writes: a run with a large output whose parent is a Python entry, a second
    // notebook, two runs of a cell of which prune removes the older, a pin.
    let big2 = noise(100_000, 11);
    let plot = text(celltime(dir).args([
        "put",
        "--notebook",
        NB,
        "--cell",
        "plot",
        "--module",
        "Pl0t-_9",
        "--created-at",
        "2023-11-15T01:00:00.5+01:00",
        "--code",
        &files.put("plot.py", b"plt.plot(df)\n"),
        "--output",
        &format!("image/png={}", files.put("plot2.png", &big2)),
        "--output",
        &format!(
            "text/markdown={}",
            files.put("p.md", "# Résumé\n".as_bytes())
        ),
        "--var",
        &format!("fig=pickle:{}", files.put("fig.pkl", &noise(5000, 3))),
        "--stdout",
        &files.put("plot.out", b"plotted\n"),
        "--watched",
        &format!("conf/plot.toml={}", files.put("plot.toml", b"dpi = 300\n")),
        "--parent",
        &fit,
    ]));
    assert_eq!(plot, entry_id(NB, "plot", "Pl0t-_9", "0", 1700006400500));
    let mut old_runs = vec![];
    for (i, created) in ["2023-11-16T00:00:00Z", "2023-11-17T00:00:00Z"]
        .iter()
        .enumerate()
    {
        old_runs.push(text(celltime(dir).args([
            "put",
            "--notebook",
            NB,
            "--cell",
            "summary",
            "--module",
            &format!("S{i}"),
            "--created-at",
            created,
            "--code",
            &files.put(&format!("s{i}.py"), format!("summary({i})\n").as_bytes()),
            "--output",
            &format!(
                "text/plain={}",
                files.put(&format!("s{i}.txt"), format!("{i}\n").as_bytes())
            ),
        ])));
    }
    let train = text(celltime(dir).args([
        "put",
        "--notebook",
        "models/train",
        "--cell",
        "evaluate",
        "--module",
        "GXk",
        "--created-at",
        "2023-11-18T00:00:00Z",
        "--code",
        &files.put("eval.py", b"score = evaluate(model)\n"),
        "--output",
        &format!(
            "application/json={}",
            files.put("score.json", b"{\"f1\": 0.9}")
        ),
        "--parent",
        &fit,
    ]));
    celltime(dir)
        .args(["pin", &plot, &train, "-C", "."])
        .assert()
        .success();
    celltime(dir)
        .args(["prune", "--cell", "summary", "--keep-last", "1", "--yes"])
        .assert()
        .success();
    celltime(dir).arg("consolidate").assert().success();
    celltime(dir)
        .args(["gc", "--grace", "0s"])
        .assert()
        .success();

    let seen = assert_same_view(dir, NB);
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        {
            let mut ids = vec![load.clone(), fit.clone(), plot.clone(), old_runs[1].clone()];
            ids.sort();
            ids
        },
        "the pruned run is gone"
    );
    assert_eq!(seen[&load]["pinned"], false, "celltime's unpin wins");
    assert_eq!(seen[&fit]["pinned"], true);
    assert_eq!(seen[&plot]["pinned"], true);
    assert_eq!(seen[&plot]["parents"], serde_json::json!([fit]));
    let other = assert_same_view(dir, "models/train");
    assert_eq!(other.keys().collect::<Vec<_>>(), [&train]);
    assert_eq!(other[&train]["pinned"], true);
    assert_eq!(other[&train]["parents"], serde_json::json!([fit]));
    celltime(dir).arg("verify").assert().success();
}

#[test]
fn celltime_forgets_what_the_python_writer_removed() {
    let (tmp, files) = workspace();
    let dir = tmp.path();
    let (load, fit, _) = python_puts(dir, &files);
    let mine = text(celltime(dir).args([
        "put",
        "--notebook",
        NB,
        "--cell",
        "extra",
        "--module",
        "E1",
        "--created-at",
        "2023-11-20T00:00:00Z",
        "--code",
        &files.put("extra.py", b"extra()\n"),
    ]));
    assert_eq!(celltime_ls(dir, NB).len(), 3);

    // One entry of each side; the prefix form of the id resolves on the Python side.
    py(dir)
        .args(["remove", ".", NB, &mine[..6], &load])
        .assert()
        .success();
    let listed = celltime_ls(dir, NB);
    assert_eq!(listed.keys().collect::<Vec<_>>(), [&fit]);
    celltime(dir).args(["show", &mine]).assert().failure();
    assert_same_view(dir, NB);
    celltime(dir).arg("verify").assert().success();

    // And after celltime has folded the remove record into its map.
    celltime(dir).arg("consolidate").assert().success();
    assert_eq!(celltime_ls(dir, NB).keys().collect::<Vec<_>>(), [&fit]);
    assert_same_view(dir, NB);
    let map =
        std::fs::read_to_string(dir.join("__marimo__/persist").join(NB).join("map.toml")).unwrap();
    assert!(
        !map.contains("[entry.\"extra\"") && !map.contains("[entry.\"load_data\""),
        "{map}"
    );
    celltime(dir).arg("verify").assert().success();
}

/// celltime stopped at a crash point right after appending its record, before it consolidates.
#[cfg(feature = "failpoints")]
fn crash_after_log(dir: &Path, point: &str, args: &[&str]) {
    let out = celltime(dir)
        .env("CELLTIME_FAILPOINT", point)
        .args(args)
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("failpoint {point}")), "{stderr}");
}

/// With the crash points compiled in (`cargo test --all-features`, as CI runs it), celltime can
/// be stopped after it appends a record and before it folds it into map.toml, so the Python
/// reader has to fold celltime's own put, pin, unpin and remove records (§9.2, §11).
#[cfg(feature = "failpoints")]
#[test]
fn the_python_reader_folds_celltimes_log_records() {
    let (tmp, files) = workspace();
    let dir = tmp.path();
    let (load, fit, _) = python_puts(dir, &files);
    let put = |cell: &str, module: &str, created: &str, extra: &[&str]| {
        let code = files.put(&format!("{cell}{module}.py"), module.as_bytes());
        let mut args = vec![
            "put",
            "--notebook",
            NB,
            "--cell",
            cell,
            "--module",
            module,
            "--created-at",
            created,
            "--code",
            &code,
        ];
        args.extend_from_slice(extra);
        crash_after_log(dir, "put.after_log", &args);
    };
    let big = format!("image/png={}", files.put("big.png", &noise(80_000, 5)));
    let var = format!("fig=pickle:{}", files.put("fig.pkl", &noise(700, 9)));
    let out = files.put("plot.out", b"plotted\n");
    put(
        "plot",
        "P1",
        "2023-11-15T00:00:00Z",
        &[
            "--output", &big, "--var", &var, "--stderr", &out, "--parent", &fit,
        ],
    );
    let plot = entry_id(NB, "plot", "P1", "0", 1700006400000);
    put("summary", "S1", "2023-11-16T00:00:00Z", &[]);
    put("summary", "S2", "2023-11-17T00:00:00Z", &[]);
    let (s1, s2) = (
        entry_id(NB, "summary", "S1", "0", 1700092800000),
        entry_id(NB, "summary", "S2", "0", 1700179200000),
    );
    crash_after_log(dir, "pin.after_log", &["pin", &plot, "-C", "."]);
    crash_after_log(dir, "unpin.after_log", &["unpin", &fit, "-C", "."]);
    crash_after_log(
        dir,
        "remove.after_log",
        &["prune", "--cell", "summary", "--keep-last", "1", "--yes"],
    );

    let folder = dir.join("__marimo__/persist").join(NB);
    assert!(
        !folder.join("map.toml").exists(),
        "nothing was consolidated"
    );
    // Processes of one machine continue its segment (docs/FORMAT.md §9): six processes, one.
    let segments = files_under(&folder, "log");
    assert_eq!(
        segments
            .iter()
            .filter(|s| s.starts_with(&format!("{WRITER}-")))
            .count(),
        1
    );
    let seen = assert_same_view(dir, NB);
    let mut want = vec![load.clone(), fit.clone(), plot.clone(), s2.clone()];
    want.sort();
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        want,
        "{s1} was pruned"
    );
    assert_eq!(seen[&fit]["pinned"], false);
    assert_eq!(seen[&plot]["pinned"], true);
    assert_eq!(seen[&plot]["parents"], serde_json::json!([fit]));

    // The Python side writes on top of celltime's unfolded records, then celltime folds all.
    py(dir).args(["unpin", ".", NB, &plot]).assert().success();
    py(dir).args(["remove", ".", NB, &s2]).assert().success();
    let seen = assert_same_view(dir, NB);
    assert!(!seen.contains_key(&s2) && seen[&plot]["pinned"] == false);
    celltime(dir).arg("consolidate").assert().success();
    let after = assert_same_view(dir, NB);
    assert_eq!(after, seen);
    celltime(dir).arg("verify").assert().success();
}
