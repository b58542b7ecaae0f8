//! A cloned workspace is untrusted input (docs/RELIABILITY.md, "Threat model"): what a hostile
//! or broken `__marimo__/` can contain, and what each command does with it. Each test makes the
//! hostile file, runs the commands a user would, and asserts the outcome.

use crate::common::{celltime, json_list, tree, workspace};
use std::path::Path;

/// Puts two runs of one cell, each with its own large output (an object file), and folds them
/// into `map.toml`; returns the map's path.
fn two_runs_consolidated(ws: &Path) -> std::path::PathBuf {
    for (n, created) in ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"]
        .iter()
        .enumerate()
    {
        let code = ws.join(format!("code{n}.py"));
        std::fs::write(&code, format!("x = {n}\n")).unwrap();
        let big = ws.join(format!("big{n}.bin"));
        std::fs::write(&big, vec![n as u8 + 1; 100_000]).unwrap();
        celltime(ws)
            .args(["put", "--notebook", "nb", "--cell", "fit", "--module", "m"])
            .args(["--created-at", created, "--code"])
            .arg(&code)
            .arg("--output")
            .arg(format!("application/octet-stream={}", big.display()))
            .assert()
            .success();
    }
    celltime(ws).arg("consolidate").assert().success();
    ws.join("__marimo__/persist/nb/map.toml")
}

/// The line of the run created at `created` (a table per module version, a line per run).
fn run_line(map: &str, created: &str) -> String {
    let key = format!("\"{created}\" = ");
    map.lines()
        .find(|l| l.starts_with(&key))
        .unwrap()
        .to_string()
}

/// Runs consolidate, gc (no grace), verify and ls on a damaged map: each must fail naming the
/// map and its line (verify in its report, the others on stderr), and no content may be swept.
fn refused_everywhere(ws: &Path, line: usize) {
    let before = tree(&ws.join("__marimo__/persist/nb"));
    for args in [
        &["consolidate"][..],
        &["gc", "--grace", "0s"],
        &["verify"],
        &["ls"],
    ] {
        let out = celltime(ws).args(args).output().unwrap();
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{args:?} succeeded: {shown}");
        assert!(
            shown.contains(&format!("map.toml:{line}")),
            "{args:?}: {shown}"
        );
    }
    let after = tree(&ws.join("__marimo__/persist/nb"));
    let contents = |t: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>| {
        t.keys()
            .filter(|p| p.starts_with("objects") || p.starts_with("packs"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(contents(&before), contents(&after), "contents were swept");
}

#[test]
fn a_map_declaring_one_entry_table_twice_is_refused_and_nothing_is_swept() {
    let ws = workspace();
    let map = two_runs_consolidated(ws.path());
    let text = std::fs::read_to_string(&map).unwrap();
    // The second run, replaced by a copy of the first: TOML forbids the repeated key.
    let first = run_line(&text, "2026-01-01T00:00:00.000Z");
    let second = run_line(&text, "2026-01-02T00:00:00.000Z");
    let hostile = text.replace(&second, &first);
    std::fs::write(&map, &hostile).unwrap();
    let line = hostile[..hostile.rfind(&first).unwrap()].lines().count() + 1;
    refused_everywhere(ws.path(), line);
}

#[test]
fn a_map_spelling_one_instant_two_ways_is_refused_and_nothing_is_swept() {
    let ws = workspace();
    let map = two_runs_consolidated(ws.path());
    let text = std::fs::read_to_string(&map).unwrap();
    let first = run_line(&text, "2026-01-01T00:00:00.000Z");
    let second = run_line(&text, "2026-01-02T00:00:00.000Z");
    // Valid TOML: the same instant as the first entry, written with another offset.
    let respelled = first.replace("2026-01-01T00:00:00.000Z", "2026-01-01T01:00:00.000+01:00");
    let hostile = text.replace(&second, &respelled);
    std::fs::write(&map, &hostile).unwrap();
    let line = hostile[..hostile.find(&respelled).unwrap()].lines().count() + 1;
    refused_everywhere(ws.path(), line);
}

// ---------------------------------------------------------------------------------------------
// Finding 1: terminal injection. Names, labels, file names and contents reach the terminal
// only escaped.

/// Characters the hostile names and contents below carry; none may reach a terminal raw.
const RAW: [char; 9] = [
    '\u{1b}', '\u{7}', '\u{0}', '\u{9b}', '\u{202e}', '\u{200b}', '\u{feff}', '\u{2028}',
    '\u{2066}',
];

/// stdout and stderr of a command, checked to hold none of [`RAW`].
fn shown(out: &std::process::Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(c) = text.chars().find(|c| RAW.contains(c)) {
        panic!("{what}: {c:?} reached the terminal raw:\n{text:?}");
    }
    text
}

/// The notebook name the outside probe put in marimo's manifest: it retitles the window and
/// writes the clipboard (OSC 52).
const OSC_NAME: &str = "x\u{1b}]0;pwned\u{7}\u{1b}]52;c;cHduZWQ=\u{7}.py";
const OSC_SHOWN: &str = "x^[]0;pwned^G^[]52;c;cHduZWQ=^G";

#[test]
fn a_notebook_name_from_marimos_manifest_is_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    crate::common::copy_tree(&fixtures().join("marimo/demo"), &root);
    let manifest = root.join("__marimo__/cache/notebook-81b6c9e3c012558a.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let hostile = serde_json::to_string(OSC_NAME).unwrap();
    std::fs::write(&manifest, text.replace("\"../../notebook.py\"", &hostile)).unwrap();
    for args in [
        &["ls"][..],
        &["ls", "--notebooks"],
        &["ls", "--cells"],
        &["prune", "--dry-run", "--keep-last", "1"],
        &["import"],
    ] {
        let out = celltime(&root).args(args).output().unwrap();
        let text = shown(&out, &format!("{args:?}"));
        assert!(text.contains(OSC_SHOWN), "{args:?}: {text}");
    }
    let out = celltime(&root).args(["ls", "--json"]).output().unwrap();
    let rows = json_list(&out.stdout, "entries");
    let name = OSC_NAME.trim_end_matches(".py");
    assert!(rows.iter().any(|r| r["notebook"] == name), "{rows:?}");
}

fn fixtures() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Writes `text` to a file in `ws` and returns its path.
fn file(ws: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = ws.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Puts one run; returns its id.
fn put(ws: &Path, args: &[String]) -> String {
    let out = celltime(ws).arg("put").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn a_store_notebook_name_with_a_bidi_override_is_shown_escaped_by_every_command() {
    let ws = workspace();
    let code = file(ws.path(), "code.py", "x = 1\n");
    for module in ["m1", "m2"] {
        let mut words = args(&["--notebook", "ev\u{202e}il", "--cell", "c"]);
        words.extend(args(&["--module", module, "--code"]));
        words.push(code.display().to_string());
        put(ws.path(), &words);
    }
    for command in [
        &["ls"][..],
        &["ls", "--notebooks"],
        &["ls", "--cells"],
        &["prune", "--dry-run", "--keep-last", "1"],
        &["verify"],
        &["gc", "--grace", "0s"],
        &["consolidate"],
    ] {
        let out = celltime(ws.path()).args(command).output().unwrap();
        let text = shown(&out, &format!("{command:?}"));
        assert!(text.contains("ev<U+202E>il"), "{command:?}: {text}");
    }
    // JSON keeps the name, as an escape any JSON reader reads back.
    for command in [&["ls", "--json"][..], &["ls", "--notebooks", "--json"]] {
        let out = celltime(ws.path()).args(command).output().unwrap();
        let text = shown(&out, &format!("{command:?}"));
        assert!(text.contains(r"ev\u202eil"), "{command:?}: {text}");
        let list = if command.contains(&"--notebooks") {
            "notebooks"
        } else {
            "entries"
        };
        assert_eq!(
            json_list(text.as_bytes(), list)[0]["notebook"],
            "ev\u{202e}il"
        );
    }
}

/// An entry with invisible and control characters in every section `show` prints: cell name,
/// parent, part labels, code, variables, outputs, console and watched files. Returns its id.
fn hostile_entry(ws: &Path) -> String {
    let parent_code = file(ws, "p.py", "y = 0\n");
    let mut words = args(&[
        "--notebook",
        "nb",
        "--cell",
        "pa\u{200b}rent",
        "--module",
        "m0",
    ]);
    words.extend(["--code".to_string(), parent_code.display().to_string()]);
    let parent = put(ws, &words);
    let code = file(
        ws,
        "code.py",
        "x = 'a\u{200b}b\u{feff}c'\u{2028}# \u{202e}\n",
    );
    let var = file(ws, "v.json", "{\"k\": \"z\u{200b}z\u{2066}\"}");
    let output = file(ws, "o.txt", "o\u{2028}p\u{200b}\n");
    let stdout = file(ws, "s.txt", "s\u{feff}t\u{1b}]0;title\u{7}\n");
    let watched = file(ws, "w.csv", "w\u{200b}\n");
    let mut words = args(&[
        "--notebook",
        "nb",
        "--cell",
        "ce\u{200b}ll",
        "--module",
        "m1",
    ]);
    words.extend([
        "--code".to_string(),
        code.display().to_string(),
        "--var".to_string(),
        format!("n\u{202e}=json:{}", var.display()),
        "--output".to_string(),
        format!("text/plain\u{200b}={}", output.display()),
        "--stdout".to_string(),
        stdout.display().to_string(),
        "--watched".to_string(),
        format!("w\u{feff}.csv={}", watched.display()),
        "--parent".to_string(),
        parent,
    ]);
    put(ws, &words)
}

#[test]
fn invisible_characters_are_shown_escaped_in_every_section_of_show() {
    let ws = workspace();
    let id = hostile_entry(ws.path());
    let out = celltime(ws.path()).args(["show", &id]).output().unwrap();
    assert!(out.status.success());
    let text = shown(&out, "show");
    for visible in [
        "ce<U+200B>ll",        // the cell, in the facts
        "pa<U+200B>rent",      // the parent
        "variables n<U+202E>", // a part label, in the facts and the part's title
        "text/plain<U+200B>",  // an output's mime type
        "w<U+FEFF>.csv",       // a watched path
        "a<U+200B>b<U+FEFF>c", // code
        "<U+2028>",            // code and outputs
        "z<U+200B>z<U+2066>",  // a variable
        "o<U+2028>p<U+200B>",  // an output
        "s<U+FEFF>t",          // console text
        "w<U+200B>",           // a watched file
    ] {
        assert!(text.contains(visible), "{visible}: {text}");
    }
    for part in ["code", "variables", "outputs", "console", "watched"] {
        let out = celltime(ws.path())
            .args(["show", &id, "--part", part])
            .output()
            .unwrap();
        assert!(out.status.success(), "{part}");
        shown(&out, part);
    }
    let out = celltime(ws.path()).args(["diff", &id]).output().unwrap();
    shown(&out, "diff");
}

#[test]
fn a_log_file_named_with_escape_sequences_is_shown_escaped_in_error_messages() {
    let ws = workspace();
    let code = file(ws.path(), "code.py", "x = 1\n");
    let mut words = args(&[
        "--notebook",
        "nb",
        "--cell",
        "c",
        "--module",
        "m1",
        "--code",
    ]);
    words.push(code.display().to_string());
    put(ws.path(), &words);
    let log = ws.path().join("__marimo__/persist/nb/log");
    std::fs::create_dir_all(&log).unwrap();
    let hostile = "not a record\nnor this\n";
    std::fs::write(log.join("x\u{1b}]0;pwned\u{7}.jsonl"), hostile).unwrap();
    for command in [&["verify"][..], &["put"]] {
        let mut cmd = celltime(ws.path());
        if command == ["put"] {
            cmd.args(["put", "--notebook", "nb", "--cell", "c", "--module", "m2"]);
        } else {
            cmd.args(command);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{command:?}");
        let text = shown(&out, &format!("{command:?}"));
        assert!(
            text.contains("x^[]0;pwned^G.jsonl:1: "),
            "{command:?}: {text}"
        );
    }
}

/// Runs `celltime ARGS` in `dir` with its stdout on a pseudo-terminal (made by Python's `pty`
/// module, which CI has); returns the exit code, what reached the terminal, and stderr.
fn on_a_terminal(dir: &Path, command: &[&str]) -> (i32, Vec<u8>, String) {
    const SCRIPT: &str = r#"
import os, pty, subprocess, sys
master, slave = pty.openpty()
child = subprocess.run(sys.argv[1:], stdout=slave, stderr=subprocess.PIPE)
os.close(slave)
seen = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
sys.stdout.buffer.write(seen)
sys.stderr.buffer.write(child.stderr)
sys.exit(child.returncode)
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(assert_cmd::cargo::cargo_bin("celltime"))
        .args(command)
        .current_dir(dir)
        .env("TZ", "UTC")
        .output()
        .expect("python3 runs");
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn show_raw_refuses_control_sequences_on_a_terminal_unless_forced_and_pipes_bytes() {
    let ws = workspace();
    let id = hostile_entry(ws.path());
    let stdout = b"s\xef\xbb\xbft\x1b]0;title\x07\n";
    let piped = celltime(ws.path())
        .args(["show", &id, "--part", "console", "--raw"])
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert_eq!(piped.stdout, stdout, "a pipe gets the bytes unchanged");

    let (code, seen, stderr) =
        on_a_terminal(ws.path(), &["show", &id, "--part", "console", "--raw"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(!seen.contains(&0x1b), "{seen:?}");

    let (code, seen, stderr) = on_a_terminal(
        ws.path(),
        &["show", &id, "--part", "console", "--raw", "--force"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(seen.windows(4).any(|w| w == b"\x1b]0;"), "{seen:?}");

    let (code, seen, stderr) = on_a_terminal(ws.path(), &["show", &id, "--part", "code", "--raw"]);
    assert_eq!(code, 2, "invisible marks count too: {stderr}");
    assert!(seen.is_empty(), "{seen:?}");

    // Plain text goes to a terminal as it is.
    let plain = plain_entry(ws.path());
    let (code, seen, stderr) =
        on_a_terminal(ws.path(), &["show", &plain, "--part", "code", "--raw"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(String::from_utf8_lossy(&seen).contains("plain = 1"));
}

/// An entry whose code is plain text; returns its id.
fn plain_entry(ws: &Path) -> String {
    let code = file(ws, "plain.py", "plain = 1\n");
    let mut words = args(&[
        "--notebook",
        "nb",
        "--cell",
        "plain",
        "--module",
        "m9",
        "--code",
    ]);
    words.push(code.display().to_string());
    put(ws, &words)
}

#[test]
fn invisible_characters_are_shown_escaped_in_every_tab_of_the_ui() {
    use crate::common::screens::{T0, app, history, open_store, screen};
    use celltime_store::model::{CellKey, ModuleHash, NewEntry, NewPart, NotebookKey, Timestamp};
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let key = NotebookKey::new("n\u{202e}b").unwrap();
    let mut nb = store.notebook_for_write(&key).unwrap();
    let run = |module: &str, at: i64, code: &str| {
        let mut e = NewEntry::new(
            key.clone(),
            CellKey::new("ce\u{200b}ll").unwrap(),
            ModuleHash::new(module).unwrap(),
        );
        e.created_at = Some(Timestamp(at));
        e.parts = vec![NewPart::code(code)];
        e
    };
    let mut newest = run("m2", T0 + 1000, "x = 'a\u{200b}b'\u{2028}\n");
    newest.parts.extend([
        NewPart::output("text/plain", "o\u{feff}p\n".as_bytes().to_vec()),
        NewPart::variables(
            "v\u{202e}",
            "json",
            "{\"k\": \"z\u{200b}z\"}".as_bytes().to_vec(),
        ),
        NewPart::console("stdout", "s\u{2066}t\u{1b}]0;title\u{7}\n"),
    ]);
    nb.put_batch(vec![run("m1", T0, "x = 1\n"), newest])
        .unwrap();
    let mut app = app(history(store), 140, 40);
    app.press("<tab>");
    for (tab, visible) in [
        ("1", "a<U+200B>b'<U+2028>"),
        ("2", "+x = 'a<U+200B>b'"),
        ("3", "o<U+FEFF>p"),
        ("4", "z<U+200B>z"),
        ("5", "s<U+2066>t"),
        ("6", "v<U+202E>"),
    ] {
        app.press(tab);
        let text = screen(&app, 140, 40);
        assert!(text.contains("ce<U+200B>ll"), "tab {tab}: {text}");
        assert!(text.contains("n<U+202E>b"), "tab {tab}: {text}");
        assert!(text.contains(visible), "tab {tab}: {visible}: {text}");
        if let Some(c) = text.chars().find(|c| RAW.contains(c)) {
            panic!("tab {tab}: {c:?} on screen:\n{text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finding 3: special files. Only regular files are opened, reads stop at the limits the format
// and the map give, and everything else is reported as damage. Each command runs with a
// timeout (a guard against the hang these tests look for, not a measure of speed) and, where
// memory is at stake, under `ulimit -v` in a child shell.

/// A notebook `nb` with one consolidated run holding code, a small and a large output (an
/// object of 100,000 bytes); returns its id.
fn one_run(ws: &Path) -> String {
    let code = file(ws, "code.py", "x = 1\n");
    let big = ws.join("big.bin");
    std::fs::write(&big, vec![7u8; 100_000]).unwrap();
    let mut words = args(&[
        "--notebook",
        "nb",
        "--cell",
        "c",
        "--module",
        "m1",
        "--code",
    ]);
    words.extend([
        code.display().to_string(),
        "--output".to_string(),
        format!("application/octet-stream={}", big.display()),
    ]);
    let id = put(ws, &words);
    celltime(ws).arg("consolidate").assert().success();
    id
}

/// `celltime ARGS` in `ws`, given `seconds` before it is killed.
fn guarded(ws: &Path, command: &[&str], seconds: u64) -> std::process::Output {
    celltime(ws)
        .args(command)
        .timeout(std::time::Duration::from_secs(seconds))
        .output()
        .unwrap()
}

/// `celltime ARGS` in `ws` in a shell whose address space is limited to 2 GB.
fn within_2gb(ws: &Path, command: &[&str]) -> std::process::Output {
    assert_cmd::Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -v 2000000 && exec "$0" "$@""#)
        .arg(assert_cmd::cargo::cargo_bin("celltime"))
        .args(command)
        .current_dir(ws)
        .env("TZ", "UTC")
        .env("CELLTIME_WRITER", crate::common::WRITER)
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap()
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

fn both(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[cfg(unix)]
#[test]
fn fifos_in_a_store_are_reported_and_never_waited_on() {
    for (file, fails) in [
        ("persist.toml", true),
        ("nb/map.toml", true),
        ("nb/notebook.toml", true),
        ("nb/.index/map-00000000000000000000000000000000.bin", false),
    ] {
        let ws = workspace();
        one_run(ws.path());
        let path = ws.path().join("__marimo__/persist").join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        mkfifo(&path);
        for command in [&["ls"][..], &["verify"], &["show", "0000"]] {
            let out = guarded(ws.path(), command, 60);
            let text = both(&out);
            if command == ["show", "0000"] {
                assert_ne!(out.status.code(), None, "{file}: {command:?} hung");
                continue;
            }
            assert_eq!(!out.status.success(), fails, "{file}: {command:?}: {text}");
            if fails {
                assert!(
                    text.contains(&format!("{file}: not a regular file")),
                    "{file}: {command:?}: {text}"
                );
            }
        }
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_notebook_toml_does_not_make_its_notebook_vanish() {
    let ws = workspace();
    one_run(ws.path());
    mkfifo(&ws.path().join("__marimo__/persist/nb/notebook.toml"));
    let out = guarded(ws.path(), &["verify"], 60);
    assert_eq!(out.status.code(), Some(1));
    let text = both(&out);
    assert!(
        text.contains("nb/notebook.toml: not a regular file"),
        "{text}"
    );
    assert!(text.contains("verify: FAILED"), "{text}");
    let out = guarded(ws.path(), &["ls"], 60);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
}

#[cfg(unix)]
#[test]
fn links_to_endless_devices_are_refused_in_bounded_memory() {
    for (file, device) in [
        ("nb/map.toml", "/dev/zero"),
        ("persist.toml", "/dev/urandom"),
        ("nb/notebook.toml", "/dev/zero"),
    ] {
        let ws = workspace();
        one_run(ws.path());
        let path = ws.path().join("__marimo__/persist").join(file);
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(device, &path).unwrap();
        for command in [&["ls"][..], &["verify"]] {
            let out = within_2gb(ws.path(), command);
            let text = both(&out);
            assert_eq!(out.status.code(), Some(1), "{file}: {command:?}: {text}");
            assert!(
                text.contains(&format!("{file}: is a symbolic link")),
                "{file}: {command:?}: {text}"
            );
        }
    }
}

/// The object file of the 100,000-byte output of [`one_run`].
fn big_object(ws: &Path) -> std::path::PathBuf {
    let hash = blake3::hash(&[7u8; 100_000]).to_hex().to_string();
    ws.join("__marimo__/persist/nb/objects")
        .join(&hash[..2])
        .join(&hash)
}

#[cfg(unix)]
#[test]
fn an_object_larger_than_the_map_records_is_not_read_whole() {
    let ws = workspace();
    let id = one_run(ws.path());
    // 6 GB, sparse: what a hostile clone (or a disk error) can leave.
    std::fs::File::options()
        .write(true)
        .open(big_object(ws.path()))
        .unwrap()
        .set_len(6_000_000_000)
        .unwrap();
    let out = within_2gb(ws.path(), &["verify"]);
    let text = both(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("holds 6000000000 bytes where the map records 100000; it was not read"),
        "{text}"
    );
    let out = within_2gb(ws.path(), &["show", &id, "--part", "outputs"]);
    let text = both(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the part is unavailable: {text}"
    );
    assert!(
        text.contains("(unavailable:") && text.contains("where the map records 100000"),
        "{text}"
    );
    // Streamed to a pipe, the part is refused the same way, before a byte is written.
    let raw = ["show", &id, "--part", "outputs", "--raw"];
    let out = within_2gb(ws.path(), &raw);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(out.stdout.is_empty());
    assert!(
        both(&out).contains("where the map records 100000"),
        "{}",
        both(&out)
    );
    // The same object linked to an endless device.
    std::fs::remove_file(big_object(ws.path())).unwrap();
    std::os::unix::fs::symlink("/dev/zero", big_object(ws.path())).unwrap();
    for command in [&["show", &id, "--part", "outputs"][..], &raw] {
        let out = within_2gb(ws.path(), command);
        let text = both(&out);
        assert_eq!(out.status.code(), Some(1), "{command:?}: {text}");
        assert!(text.contains("is a symbolic link"), "{command:?}: {text}");
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_log_segment_is_reported_by_verify_and_never_read() {
    let ws = workspace();
    one_run(ws.path());
    let segment = ws.path().join(format!(
        "__marimo__/persist/nb/log/{}-20260101T000000Z-abcdef.jsonl",
        crate::common::WRITER
    ));
    mkfifo(&segment);
    let out = guarded(ws.path(), &["ls"], 60);
    assert!(out.status.success(), "{}", both(&out));
    let out = guarded(ws.path(), &["verify"], 60);
    let text = both(&out);
    assert!(
        text.contains("abcdef.jsonl: not a regular file; ignored"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Finding 4: links. Nothing is ever written outside the workspace through a link.

#[cfg(unix)]
#[test]
fn put_refuses_a_notebook_folder_that_is_a_link() {
    let ws = workspace();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("nb");
    std::fs::create_dir_all(&target).unwrap();
    let persist = ws.path().join("__marimo__/persist");
    std::fs::create_dir_all(&persist).unwrap();
    std::os::unix::fs::symlink(&target, persist.join("nb")).unwrap();
    let code = file(ws.path(), "code.py", "x = 1\n");
    let out = celltime(ws.path())
        .args(["put", "--notebook", "nb", "--cell", "c", "--module", "m"])
        .arg("--code")
        .arg(&code)
        .output()
        .unwrap();
    let text = both(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("persist/nb: is a symbolic link"), "{text}");
    assert_eq!(
        std::fs::read_dir(&target).unwrap().count(),
        0,
        "written outside"
    );
    // A notebook below the link is refused the same way.
    let out = celltime(ws.path())
        .args([
            "put",
            "--notebook",
            "nb/deeper",
            "--cell",
            "c",
            "--module",
            "m",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read_dir(&target).unwrap().count(),
        0,
        "written outside"
    );
}

#[cfg(unix)]
#[test]
fn a_dangling_lock_link_never_creates_a_file_outside_the_store() {
    let ws = workspace();
    one_run(ws.path());
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("created-through-the-link");
    let lock = ws.path().join("__marimo__/persist/nb/.lock");
    let _ = std::fs::remove_file(&lock);
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    for command in [&["ls"][..], &["verify"], &["consolidate"]] {
        let out = guarded(ws.path(), command, 60);
        let text = both(&out);
        assert!(!out.status.success(), "{command:?}: {text}");
        assert!(
            text.contains("nb/.lock: is a symbolic link"),
            "{command:?}: {text}"
        );
        assert!(
            !target.exists(),
            "{command:?} created a file through the link"
        );
    }
}

#[cfg(unix)]
#[test]
fn trash_restore_never_follows_a_block_folder_replaced_by_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    crate::common::copy_tree(&fixtures().join("marimo/demo"), &root);
    celltime(&root)
        .args(["prune", "--keep-last", "1", "--yes"])
        .assert()
        .success();
    let block = root.join("__marimo__/cache/expensive");
    let outside = tempfile::tempdir().unwrap();
    std::fs::remove_dir_all(&block).unwrap();
    std::os::unix::fs::symlink(outside.path(), &block).unwrap();
    let out = celltime(&root)
        .args(["trash", "--restore"])
        .output()
        .unwrap();
    let text = both(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("cache/expensive: is a symbolic link"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "restored outside the cache: {text}"
    );
}

#[cfg(unix)]
#[test]
fn demo_dir_never_overwrites_a_file_or_follows_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("analysis/eda.py");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    std::fs::write(&mine, "mine\n").unwrap();
    let out = celltime(dir.path())
        .args(["demo", "--no-tui", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = both(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("analysis/eda.py: already exists"), "{text}");
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine\n");

    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("analysis")).unwrap();
    let out = celltime(dir.path())
        .args(["demo", "--no-tui", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = both(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("analysis: is not a folder (or is a link)"),
        "{text}"
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Finding 5: limits.

#[test]
fn keys_within_the_format_limit_work_under_long_absolute_paths() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("w".repeat(200)).join("x".repeat(100));
    std::fs::create_dir_all(ws.join("__marimo__")).unwrap();
    // 1,019 bytes: within FORMAT.md's 1,024, far beyond SQLite's 512-byte paths once absolute.
    let key = [
        "k".repeat(200),
        "e".repeat(200),
        "y".repeat(200),
        "s".repeat(200),
        "z".repeat(15),
    ]
    .join("/");
    let code = file(&ws, "code.py", "x = 'in a pack'\n");
    let mut words = args(&[
        "--notebook",
        &key,
        "--cell",
        "c",
        "--module",
        "m1",
        "--code",
    ]);
    words.push(code.display().to_string());
    let id = put(&ws, &words);
    let mut words = args(&[
        "--notebook",
        &key,
        "--cell",
        "c",
        "--module",
        "m2",
        "--code",
    ]);
    words.push(code.display().to_string());
    put(&ws, &words);
    for command in [&["verify"][..], &["gc", "--grace", "0s"], &["verify"]] {
        let out = celltime(&ws).args(command).output().unwrap();
        assert!(out.status.success(), "{command:?}: {}", both(&out));
    }
    let out = celltime(&ws)
        .args(["show", &id, "--part", "code"])
        .output()
        .unwrap();
    assert!(both(&out).contains("in a pack"), "{}", both(&out));
    // Moved deeper still: everything reads and verifies.
    let moved = dir.path().join("m".repeat(250)).join("ws");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&ws, &moved).unwrap();
    let out = celltime(&moved).arg("verify").output().unwrap();
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("2 entries, 1 content checked"), "{text}");
    let out = celltime(&moved)
        .args(["show", &id, "--part", "code"])
        .output()
        .unwrap();
    assert!(both(&out).contains("in a pack"), "{}", both(&out));
}

#[test]
fn an_invalid_huge_timestamp_is_not_echoed_whole() {
    let ws = workspace();
    let map = two_runs_consolidated(ws.path());
    let text = std::fs::read_to_string(&map).unwrap();
    let huge = format!("2026-{}", "9".repeat(10_000_000));
    std::fs::write(&map, text.replace("2026-01-01T00:00:00.000Z", &huge)).unwrap();
    let out = celltime(ws.path()).arg("ls").output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("map.toml:"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(
        stderr.len() < 2_000,
        "{} bytes of error: {}…",
        stderr.len(),
        &stderr[..2000]
    );
}

#[test]
fn one_invalid_notebook_folder_fails_only_its_notebook() {
    let ws = workspace();
    let id = one_run(ws.path());
    let con = ws.path().join("__marimo__/persist/CON");
    std::fs::create_dir_all(&con).unwrap();
    std::fs::write(con.join("notebook.toml"), "format = 1\nkey = \"CON\"\n").unwrap();
    for command in [
        &["ls"][..],
        &["ls", "--cells"],
        &["verify"],
        &["consolidate"],
        &["gc", "--grace", "0s"],
        &["prune", "--dry-run", "--keep-last", "1"],
    ] {
        let out = celltime(ws.path()).args(command).output().unwrap();
        let text = both(&out);
        assert_eq!(out.status.code(), Some(1), "{command:?}: {text}");
        assert!(
            text.contains("CON/notebook.toml: the folder's path is not a notebook key"),
            "{command:?}: {text}"
        );
        assert!(
            text.contains("nb"),
            "{command:?} lost the healthy notebook: {text}"
        );
    }
    let out = celltime(ws.path()).args(["ls", "--json"]).output().unwrap();
    let rows = json_list(&out.stdout, "entries");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], id.as_str());
    celltime(ws.path()).args(["show", &id]).assert().success();
    let code = file(ws.path(), "again.py", "x = 2\n");
    let mut words = args(&[
        "--notebook",
        "nb",
        "--cell",
        "c",
        "--module",
        "m2",
        "--code",
    ]);
    words.push(code.display().to_string());
    put(ws.path(), &words);
}

#[test]
fn keys_that_collide_on_macos_and_windows_are_refused() {
    let ws = workspace();
    let code = file(ws.path(), "code.py", "x = 1\n");
    let put_into = |notebook: &str| {
        celltime(ws.path())
            .args([
                "put",
                "--notebook",
                notebook,
                "--cell",
                "c",
                "--module",
                "m",
            ])
            .arg("--code")
            .arg(&code)
            .output()
            .unwrap()
    };
    for existing in ["analysis/eda", "caf\u{e9}"] {
        assert!(put_into(existing).status.success());
    }
    for (colliding, folder) in [
        ("Analysis/eda", "Analysis"),
        ("analysis/EDA", "analysis/EDA"),
        ("cafe\u{301}", "cafe\u{301}"),
    ] {
        let out = put_into(colliding);
        let text = both(&out);
        assert_eq!(out.status.code(), Some(2), "{colliding}: {text}");
        assert!(
            text.contains(&format!(
                "its folder {folder:?} is the folder of the existing notebook"
            )),
            "{colliding}: {text}"
        );
    }
    // A notebook of another name next to them is fine.
    assert!(put_into("analysis/eda2").status.success());
    // Collisions already in a store (a clone from Linux) are reported by verify.
    let persist = ws.path().join("__marimo__/persist");
    crate::common::copy_tree(&persist.join("analysis"), &persist.join("ANALYSIS"));
    std::fs::write(
        persist.join("ANALYSIS/eda/notebook.toml"),
        "format = 1\nkey = \"ANALYSIS/eda\"\n",
    )
    .unwrap();
    let _ = std::fs::remove_dir_all(persist.join("ANALYSIS/eda2"));
    let out = celltime(ws.path()).arg("verify").output().unwrap();
    let text = both(&out);
    assert!(
        text.contains("is the folder of notebook \"ANALYSIS/eda\" on macOS and Windows"),
        "{text}"
    );
}

#[test]
fn marimo_notebooks_named_like_reserved_folders_import_under_a_key_given() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    crate::common::copy_tree(&fixtures().join("marimo/demo"), &root);
    std::fs::rename(root.join("notebook.py"), root.join("log.py")).unwrap();
    let manifest = root.join("__marimo__/cache/notebook-81b6c9e3c012558a.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("../../notebook.py", "../../log.py")).unwrap();
    let session = root.join("__marimo__/session");
    if session.join("notebook.py.json").exists() {
        std::fs::rename(
            session.join("notebook.py.json"),
            session.join("log.py.json"),
        )
        .unwrap();
    }
    let out = celltime(&root).arg("import").output().unwrap();
    let text = both(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("--key 'log=NEW_KEY'"), "{text}");
    let out = celltime(&root)
        .args(["import", "--key", "log=marimo-log"])
        .output()
        .unwrap();
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("marimo-log:"), "{text}");
    let out = celltime(&root)
        .args(["ls", "--notebooks", "--json"])
        .output()
        .unwrap();
    let infos = json_list(&out.stdout, "notebooks");
    assert!(
        infos.iter().any(|i| i["notebook"] == "marimo-log"),
        "{infos:?}"
    );
    // A key the store cannot take either is refused before anything is imported.
    let out = celltime(&root)
        .args(["import", "--key", "log=con"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
}

// ---------------------------------------------------------------------------------------------
// Finding 6: honest failure.

#[cfg(unix)]
#[test]
fn a_put_whose_map_rewrite_fails_reports_the_entry_it_committed() {
    use celltime_store::model::Timestamp;
    let ws = workspace();
    // 400 entries sharing their contents: a map of well over 40 KiB, a pack of a few rows.
    let store = crate::common::store_as(ws.path(), crate::common::WRITER);
    let mut notebook = store.notebook_for_write(&crate::common::nb("nb")).unwrap();
    let batch: Vec<_> = (0..400)
        .map(|n| {
            let mut e = crate::common::entry("nb", "cell", "m1", 0, "shared");
            e.created_at = Some(Timestamp(1_700_000_000_000 + n * 1000));
            e
        })
        .collect();
    notebook.put_batch(batch).unwrap();
    notebook.consolidate().unwrap();
    let map = ws.path().join("__marimo__/persist/nb/map.toml");
    assert!(std::fs::metadata(&map).unwrap().len() > 80 * 1024);
    // A put rewrites the map only once the log has passed the threshold (docs/FORMAT.md
    // §10.5): another machine's records, not folded yet, take it there.
    let other = crate::common::store_as(ws.path(), "othertest_00000000");
    let mut elsewhere = other.notebook_for_write(&crate::common::nb("nb")).unwrap();
    let batch: Vec<_> = (0..1000)
        .map(|n| {
            let mut e = crate::common::entry("nb", "elsewhere", "m1", 0, "shared");
            e.created_at = Some(Timestamp(1_700_000_000_000 + n * 1000));
            e
        })
        .collect();
    elsewhere.put_batch(batch).unwrap();
    let log: u64 = std::fs::read_dir(ws.path().join("__marimo__/persist/nb/log"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(log > celltime_store::store::CONSOLIDATE_AFTER, "{log}");
    let code = file(ws.path(), "code.py", "x = 1\n");
    // Files may not grow past 40 KiB: this machine's new log segment and its small pack fit,
    // the map does not.
    let out = assert_cmd::Command::new("bash")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 40 && exec "$0" "$@""#)
        .arg(assert_cmd::cargo::cargo_bin("celltime"))
        .args([
            "put",
            "--notebook",
            "nb",
            "--cell",
            "cell",
            "--module",
            "m2",
            "--code",
        ])
        .arg(&code)
        .current_dir(ws.path())
        .env("CELLTIME_WRITER", crate::common::WRITER)
        .output()
        .unwrap();
    let text = both(&out);
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(id.len(), 32, "no id printed: {text}");
    assert!(out.status.success(), "{text}");
    assert!(text.contains(&format!("entry {id} is committed")), "{text}");
    let listed = celltime(ws.path()).args(["ls", "--json"]).output().unwrap();
    let rows = json_list(&listed.stdout, "entries");
    assert_eq!(rows.iter().filter(|r| r["id"] == id.as_str()).count(), 1);
    assert_eq!(rows.len(), 1401);
}
