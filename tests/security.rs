//! Hostile workspaces and hostile input (docs/FORMAT.md §1: "A writer MUST NOT delete anything
//! it did not write … and MUST NOT follow symbolic links when deleting"):
//!
//! - symbolic links planted in every folder the store and the legacy backend delete in, pointing
//!   OUTSIDE the workspace at files and folders that look exactly like what those commands
//!   delete, survive consolidate, gc, prune (both backends, then emptying the trash), import and
//!   verify, and so does everything they point at; so do files the store never wrote;
//! - keys and names that try to leave the store are refused through the command line with a
//!   clear message, and change nothing;
//! - hostile previews (pickle and JSON bombs, terminal escapes) stay bounded and never reach
//!   the terminal raw.
#![cfg(unix)]

use crate::common::{WRITER, celltime, copy_tree, json_list, listed};

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Runs a command that must succeed; returns its stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({:?}): {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command in the workspace with linked notebook folders planted: it must do its work
/// on everything else, report each linked folder, and exit 1. Returns its stdout.
fn run_next_to_linked_folders(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{cmd:?}: {stderr}");
    for folder in ["persist/linked", "persist/nb/linked"] {
        assert!(
            stderr.contains(&format!("{folder}: is a symbolic link")),
            "{cmd:?} did not report {folder}: {stderr}"
        );
    }
    String::from_utf8(out.stdout).unwrap()
}

/// Every item under `root` (links not followed): file contents by hash, folders, link targets.
fn fingerprint(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for item in std::fs::read_dir(&dir).unwrap() {
            let path = item.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let value = if meta.file_type().is_symlink() {
                format!("link -> {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                pending.push(path);
                "dir".to_string()
            } else {
                format!("file {}", blake3::hash(&std::fs::read(&path).unwrap()))
            };
            out.insert(rel, value);
        }
    }
    out
}

fn old(path: &Path) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000))
        .unwrap();
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    old(path);
}

/// One framed, checksummed log line (docs/FORMAT.md §9.1).
fn log_line(rec: &str) -> String {
    let sum = &blake3::hash(rec.as_bytes()).to_hex()[..16];
    format!("{{\"b3\":\"{sum}\",\"rec\":{rec}}}\n")
}

/// A content hash name in fan-out folder `fanout` that no entry references.
fn object_name(fanout: &str, n: u8) -> String {
    let mut name = fanout.to_string();
    while name.len() < 64 {
        name.push_str(&format!("{n:02x}"));
    }
    name.truncate(64);
    name
}

/// What the attacker (or an unlucky user) planted: links, their targets, and foreign files.
struct Planted {
    /// Link path → the target it must keep.
    links: Vec<(PathBuf, PathBuf)>,
    /// Foreign files inside the workspace, with their bytes.
    foreign: Vec<(PathBuf, Vec<u8>)>,
}

impl Planted {
    fn link(&mut self, target: &Path, link: &Path) {
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        symlink(target, link).unwrap();
        self.links.push((link.to_path_buf(), target.to_path_buf()));
    }

    fn foreign_files(&mut self, dir: &Path) {
        for name in [".DS_Store", "notes.txt", ".nfs000000000012abcd00000001"] {
            let path = dir.join(name);
            let bytes = format!("not celltime's: {}", path.display()).into_bytes();
            write(&path, &bytes);
            self.foreign.push((path, bytes));
        }
    }

    fn check(&self) {
        for (link, target) in &self.links {
            let meta = std::fs::symlink_metadata(link)
                .unwrap_or_else(|e| panic!("link {} is gone: {e}", link.display()));
            assert!(meta.file_type().is_symlink(), "{} replaced", link.display());
            assert_eq!(
                &std::fs::read_link(link).unwrap(),
                target,
                "{}",
                link.display()
            );
        }
        for (path, bytes) in &self.foreign {
            let now = std::fs::read(path)
                .unwrap_or_else(|e| panic!("foreign file {} is gone: {e}", path.display()));
            assert_eq!(&now, bytes, "{} changed", path.display());
        }
    }
}

/// A legacy cache entry file copied from the fixtures (a real marimo pickle).
fn real_pickle() -> Vec<u8> {
    let block = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/marimo/demo/__marimo__/cache/pure_block");
    let item = std::fs::read_dir(block).unwrap().next().unwrap().unwrap();
    std::fs::read(item.path()).unwrap()
}

/// Two runs of one cell with large outputs (objects) and small parts (packs).
fn put_runs(ws: &Path, scratch: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    for (n, created) in ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"]
        .iter()
        .enumerate()
    {
        let code = scratch.join(format!("code{n}.py"));
        std::fs::write(&code, format!("x = {n}\n")).unwrap();
        let big = scratch.join(format!("big{n}.bin"));
        std::fs::write(&big, vec![n as u8 + 1; 100_000]).unwrap();
        let out = run(celltime(ws)
            .args(["put", "--notebook", "nb", "--cell", "fit", "--module"])
            .arg(format!("M{n}"))
            .args(["--created-at", created, "--code"])
            .arg(&code)
            .arg("--output")
            .arg(format!("application/octet-stream={}", big.display())));
        ids.push(out.trim().to_string());
    }
    ids
}

#[test]
fn links_and_foreign_files_survive_every_command_that_deletes() {
    let outside = tempfile::tempdir().unwrap();
    let outside = outside.path();
    let ws_dir = tempfile::tempdir().unwrap();
    let ws = ws_dir.path().join("ws");
    let scratch = ws_dir.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/marimo/demo"),
        &ws,
    );
    let ids = put_runs(&ws, &scratch);
    let persist = ws.join("__marimo__/persist");
    let folder = persist.join("nb");
    let cache = ws.join("__marimo__/cache");

    // The older run's large output will be garbage after the prune: its fan-out folder is
    // where gc deletes, so that is where the links go.
    let big0 = blake3::hash(&[1u8; 100_000]).to_hex().to_string();
    let fanout = folder.join("objects").join(&big0[..2]);
    assert!(fanout.join(&big0).is_file());
    let free_fanouts: Vec<String> = (0..=255u8)
        .map(|b| format!("{b:02x}"))
        .filter(|f| !folder.join("objects").join(f).exists())
        .take(2)
        .collect();

    // Outside the workspace: files and folders that look like what each command deletes.
    let mut planted = Planted {
        links: Vec::new(),
        foreign: Vec::new(),
    };
    let sentinel = outside.join("sentinel.txt");
    write(&sentinel, "sentinel");
    let pack = std::fs::read_dir(folder.join("packs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    write(&outside.join("pack.sqlite"), std::fs::read(&pack).unwrap());
    let pin = format!(
        r#"{{"op":"pin","at":"2026-11-25T10:00:00.000Z","ids":["{}"]}}"#,
        ids[0]
    );
    write(&outside.join("segment.jsonl"), log_line(&pin));
    write(&outside.join("object"), [1u8; 100_000]);
    write(&outside.join("snapshot.bin"), b"CTINDEX\0garbage");
    write(
        &outside.join("map.toml"),
        "[map]\nformat = 1\nnotebook = \"nb\"\n",
    );
    write(&outside.join("entry.pickle"), real_pickle());
    // A folder of each kind, holding a sentinel and things a sweep would take.
    let folder_of = |name: &str| {
        let dir = outside.join(name);
        write(&dir.join("sentinel.txt"), "sentinel");
        dir
    };
    let objects_like = folder_of("objects_like");
    write(
        &objects_like.join(object_name(&free_fanouts[0], 1)),
        "unreferenced",
    );
    write(&objects_like.join(".tmp-0123456789ab"), "temp");
    let anywhere = folder_of("anywhere");
    write(
        &anywhere.join(format!("{WRITER}-20200101T000000Z-aaaaaa.jsonl")),
        log_line(&pin),
    );
    write(
        &anywhere.join(format!("{WRITER}-20200101T000000Z-aaaaaa.sqlite")),
        std::fs::read(&pack).unwrap(),
    );
    let linked_nb = folder_of("notebook_folder");
    write(
        &linked_nb.join("notebook.toml"),
        "format = 1\nkey = \"linked\"\n",
    );
    write(
        &linked_nb.join(format!("log/{WRITER}-20200101T000000Z-bbbbbb.jsonl")),
        log_line(&pin),
    );
    write(
        &linked_nb.join(format!("objects/ab/{}", object_name("ab", 2))),
        "unreferenced",
    );
    let legacy_block = folder_of("legacy_block");
    write(
        &legacy_block.join("C_linkedblockentry.pickle"),
        real_pickle(),
    );
    let trash_like = folder_of("trash_batch");
    write(&trash_like.join("manifest.json"), "{}");

    // Inside the store: links in every folder the store deletes in.
    let objects = folder.join("objects");
    planted.link(&objects_like, &objects.join(&free_fanouts[0]));
    planted.link(&outside.join("object"), &objects.join(&free_fanouts[1]));
    planted.link(
        &outside.join("object"),
        &fanout.join(object_name(&big0[..2], 3)),
    );
    planted.link(&sentinel, &fanout.join(".tmp-0123456789ab"));
    planted.link(&anywhere, &fanout.join(object_name(&big0[..2], 4)));
    let packs = folder.join("packs");
    for (name, target) in [
        ("aaaaaa", outside.join("pack.sqlite")),
        ("bbbbbb", anywhere.clone()),
    ] {
        planted.link(
            &target,
            &packs.join(format!("{WRITER}-20200101T000000Z-{name}.sqlite")),
        );
    }
    let log = folder.join("log");
    for (name, target) in [
        ("cccccc", outside.join("segment.jsonl")),
        ("dddddd", anywhere.clone()),
    ] {
        planted.link(
            &target,
            &log.join(format!("{WRITER}-20200101T000000Z-{name}.jsonl")),
        );
    }
    let index = folder.join(".index");
    planted.link(
        &outside.join("snapshot.bin"),
        &index.join(format!("map-{}.bin", "0".repeat(32))),
    );
    planted.link(
        &anywhere,
        &index.join(format!("map-{}.bin", "1".repeat(32))),
    );
    planted.link(
        &outside.join("map.toml"),
        &folder.join("map.sync-conflict-link.toml"),
    );
    planted.link(&linked_nb, &folder.join("linked"));
    planted.link(&linked_nb, &persist.join("linked"));
    for dir in [&persist, &folder, &objects, &fanout, &packs, &log, &index] {
        planted.foreign_files(dir);
    }

    // Inside marimo's cache: a block folder that is a link, entry files that are links (at
    // the root, in a block, in a lazy blob folder), and foreign files.
    planted.link(&legacy_block, &cache.join("linked_block"));
    planted.link(
        &outside.join("entry.pickle"),
        &cache.join("pure_block/P_linkedentryfile.pickle"),
    );
    planted.link(
        &outside.join("entry.pickle"),
        &cache.join("expensive/D_linkedentryfile.pickle"),
    );
    planted.link(&sentinel, &cache.join("notebook-0123456789abcdef.json"));
    let blob_dir = std::fs::read_dir(cache.join("lazy_block"))
        .unwrap()
        .map(|i| i.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    planted.link(&sentinel, &blob_dir.join("linked.npy"));
    for dir in [&cache, &cache.join("pure_block"), &cache.join("expensive")] {
        planted.foreign_files(dir);
    }

    let outside_before = fingerprint(outside);
    let rows_before = json_list(
        run_next_to_linked_folders(celltime(&ws).args(["ls", "--json"])).as_bytes(),
        "entries",
    );
    assert!(
        rows_before
            .iter()
            .all(|r| !r["cell"].as_str().unwrap().contains("linked")),
        "a linked block or entry was listed: {rows_before:?}"
    );

    run_next_to_linked_folders(celltime(&ws).arg("consolidate"));
    run_next_to_linked_folders(celltime(&ws).args(["gc", "--grace", "0s"]));
    let pruned =
        run_next_to_linked_folders(celltime(&ws).args(["prune", "--keep-last", "1", "--yes"]));
    run_next_to_linked_folders(celltime(&ws).args(["gc", "--grace", "0s"]));
    celltime_store::legacy::LegacyHistory::open(&ws, None)
        .unwrap()
        .empty_trash()
        .unwrap();
    run(celltime(&ws).arg("import"));
    run_next_to_linked_folders(celltime(&ws).arg("consolidate"));
    run_next_to_linked_folders(celltime(&ws).args(["gc", "--grace", "0s"]));
    let verified = celltime(&ws).arg("verify").output().unwrap();
    let verify_text = String::from_utf8_lossy(&verified.stdout);
    // The linked folders are the only errors: every notebook verifies.
    let errors: Vec<&str> = verify_text
        .lines()
        .filter(|l| l.trim_start().starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 2, "{verify_text}");
    assert!(
        errors
            .iter()
            .all(|l| l.contains("linked: is a symbolic link")),
        "{verify_text}"
    );

    // Nothing outside changed; every link and foreign file is as it was.
    assert_eq!(fingerprint(outside), outside_before);
    planted.check();
    assert!(
        verify_text.contains("not a store object"),
        "links are reported, not hidden: {verify_text}"
    );
    // ... and the commands did their work next to them.
    assert!(pruned.contains("removed"), "{pruned}");
    assert!(!fanout.join(&big0).exists(), "the garbage object was swept");
    let rows_after = json_list(
        run_next_to_linked_folders(celltime(&ws).args(["ls", "--json"])).as_bytes(),
        "entries",
    );
    assert!(
        !rows_after.iter().any(|r| r["id"].as_str() == Some(&ids[0])),
        "the older run was pruned"
    );
    assert!(
        rows_after
            .iter()
            .all(|r| !r["cell"].as_str().unwrap().contains("linked")),
        "a linked block or entry was imported"
    );
    let legacy_left = std::fs::read_dir(cache.join("expensive"))
        .unwrap()
        .map(|i| i.unwrap())
        .filter(|i| i.file_type().unwrap().is_file())
        .filter(|i| i.file_name().to_string_lossy().ends_with(".pickle"))
        .count();
    assert_eq!(legacy_left, 1, "the legacy prune kept one of three runs");
}

/// The folders the store deletes in are themselves links to folders elsewhere (moved to a
/// bigger disk, or planted): a sweep through them deletes outside the workspace.
#[test]
fn a_linked_store_folder_is_not_swept_through() {
    let outside = tempfile::tempdir().unwrap();
    let ws_dir = tempfile::tempdir().unwrap();
    let ws = ws_dir.path();
    std::fs::create_dir_all(ws.join("__marimo__")).unwrap();
    let ids = put_runs(ws, outside.path());
    let folder = ws.join("__marimo__/persist/nb");
    for name in ["objects", "packs", "log"] {
        let moved = outside.path().join(name);
        std::fs::create_dir_all(folder.join(name)).unwrap();
        std::fs::rename(folder.join(name), &moved).unwrap();
        symlink(&moved, folder.join(name)).unwrap();
    }
    write(
        &outside
            .path()
            .join(format!("log/{WRITER}-20200101T000000Z-aaaaaa.jsonl")),
        log_line(&format!(
            r#"{{"op":"pin","at":"2026-11-25T10:00:00.000Z","ids":["{}"]}}"#,
            ids[0]
        )),
    );
    write(
        &outside
            .path()
            .join(format!("objects/ab/{}", object_name("ab", 1))),
        "unreferenced",
    );
    let before = fingerprint(outside.path());
    run(celltime(ws).arg("consolidate"));
    run(celltime(ws).args(["gc", "--grace", "0s"]));
    assert_eq!(fingerprint(outside.path()), before);
}

/// `.celltime-trash` is a link: prune moves marimo's entries out of the cache folder through
/// it, and emptying the trash deletes every folder holding a `manifest.json` it points at.
#[test]
fn a_linked_trash_folder_is_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    let ws_dir = tempfile::tempdir().unwrap();
    let ws = ws_dir.path().join("ws");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/marimo/demo"),
        &ws,
    );
    let victim = outside.path().join("victim");
    write(&victim.join("manifest.json"), "{}");
    write(&victim.join("precious.txt"), "precious");
    symlink(outside.path(), ws.join("__marimo__/cache/.celltime-trash")).unwrap();
    let before = fingerprint(outside.path());
    let _ = celltime(&ws)
        .args(["prune", "--keep-last", "1", "--yes"])
        .output()
        .unwrap();
    let _ = celltime_store::legacy::LegacyHistory::open(&ws, None)
        .unwrap()
        .empty_trash();
    assert_eq!(fingerprint(outside.path()), before);
}

// ---- names that try to escape ----------------------------------------------------------------

#[test]
fn escaping_keys_and_names_are_refused_and_change_nothing() {
    let dir = crate::common::workspace();
    let ws = dir.path();
    let scratch = tempfile::tempdir().unwrap();
    let code = scratch.path().join("code.py");
    std::fs::write(&code, "x = 1\n").unwrap();
    let code = code.display().to_string();
    // One good entry, so the store exists and has something to lose.
    run(celltime(ws).args([
        "put",
        "--notebook",
        "nb",
        "--cell",
        "a",
        "--module",
        "m",
        "--code",
        &code,
    ]));
    let long = "x".repeat(5_000);
    let long_path = ["a/"; 2_500].concat() + "b";
    let output = |label: &str| format!("{label}={code}");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--notebook".into(), "..".into()],
            "would leave the store",
        ),
        (
            vec!["--notebook".into(), "a/../../b".into()],
            "would leave the store",
        ),
        (
            vec!["--notebook".into(), "a/./b".into()],
            "would leave the store",
        ),
        (
            vec!["--notebook".into(), "/etc/passwd".into()],
            "relative path",
        ),
        (
            vec!["--notebook".into(), "a\\..\\b".into()],
            "relative path",
        ),
        (vec!["--notebook".into(), "C:evil".into()], "relative path"),
        (
            vec!["--notebook".into(), ".hidden".into()],
            "may not start with '.'",
        ),
        (vec!["--notebook".into(), "nb/objects".into()], "reserved"),
        (vec!["--notebook".into(), "nb/map.toml".into()], "reserved"),
        (
            vec!["--notebook".into(), "a/".into()],
            "empty path component",
        ),
        (vec!["--notebook".into(), "a\u{1b}[2Jb".into()], "character"),
        (
            vec!["--notebook".into(), long.clone()],
            "longer than 1024 bytes",
        ),
        (
            vec!["--notebook".into(), long_path],
            "longer than 1024 bytes",
        ),
        (
            vec!["--notebook".into(), ["x"; 201].concat()],
            "longer than 200 bytes",
        ),
        (
            vec!["--cell".into(), "a\u{1b}[31mred\u{7}".into()],
            "control character",
        ),
        (
            vec!["--cell".into(), "line\nbreak".into()],
            "control character",
        ),
        (vec!["--cell".into(), long.clone()], "longer than 256 bytes"),
        (vec!["--module".into(), "../../x".into()], "is not allowed"),
        (
            vec!["--module".into(), long.clone()],
            "longer than 128 bytes",
        ),
        (vec!["--version".into(), "../0".into()], "version"),
        (vec!["--version".into(), long.clone()], "version"),
        (
            vec!["--created-at".into(), "../yesterday".into()],
            "invalid timestamp",
        ),
        (
            vec!["--var".into(), format!("x=../../evil:{code}")],
            "variables format",
        ),
        (
            vec!["--var".into(), format!("x\u{7}=json:{code}")],
            "part label",
        ),
        (
            vec!["--output".into(), output("text/\u{1b}]0;pwned\u{7}")],
            "part label",
        ),
        (vec!["--output".into(), output(&long)], "part label"),
        (vec!["--watched".into(), output(&long)], "part label"),
    ];
    let before = fingerprint(ws);
    for (args, expected) in cases {
        let mut full: Vec<String> = ["put", "--notebook", "nb", "--cell", "c", "--module", "m"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // A later flag wins over the defaults given first.
        let flag = args[0].clone();
        if let Some(at) = full.iter().position(|a| *a == flag) {
            full.drain(at..at + 2);
        }
        full.extend(args.iter().cloned());
        full.extend(["--code".to_string(), code.clone()]);
        let out = celltime(ws).args(&full).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown: String = args.join(" ").chars().take(60).collect();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{shown:?} was not refused: {stderr}"
        );
        assert!(stderr.contains(expected), "{shown:?}: {stderr}");
        assert!(
            !out.stderr.iter().any(|b| [0x1b, 0x07, 0x00].contains(b)),
            "{shown:?}: raw control bytes in the message: {stderr:?}"
        );
        assert!(
            stderr.len() < 2_000,
            "{shown:?}: the message echoes too much"
        );
        assert_eq!(fingerprint(ws), before, "{shown:?} changed the workspace");
    }
    // Ids are hex and nothing else, whatever they look like.
    for id in ["../../etc", "/etc/passwd", "abcd/../..", "\u{1b}[2J1234"] {
        let out = celltime(ws).args(["show", id]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{id:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("is not an entry id"));
        assert!(!out.stderr.contains(&0x1b));
    }
    assert_eq!(fingerprint(ws), before);
}

/// The tree without `.lock` files: the lock a reader takes is the one file reading creates
/// (celltime's own, never synced).
fn fingerprint_without_locks(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut tree = fingerprint(root);
    tree.retain(|path, _| path.file_name().is_none_or(|n| n != ".lock"));
    tree
}

/// NUL cannot travel through argv, so it comes through files: the map and the log are read
/// with the same key rules as the command line.
#[test]
fn nul_and_escapes_in_files_are_refused_with_the_file_and_line() {
    assert!(celltime_store::model::NotebookKey::new("a\0b").is_err());
    assert!(celltime_store::model::CellKey::new("a\0b").is_err());
    assert!(celltime_store::model::ModuleHash::new("a\0b").is_err());
    let dir = crate::common::workspace();
    let ws = dir.path();
    let folder = ws.join("__marimo__/persist/nb");
    write(&folder.join("notebook.toml"), "format = 1\nkey = \"nb\"\n");
    for (cell, what) in [
        ("a\\u0000b", "control character"),
        ("a\\u001b[2J", "control character"),
    ] {
        let map = format!(
            "[map]\nformat = 1\nnotebook = \"nb\"\n\n[entry.\"{cell}\".\"m\".\"0\".\"2026-01-01T00:00:00Z\"]\n"
        );
        write(&folder.join("map.toml"), &map);
        let before = fingerprint_without_locks(ws);
        let out = celltime(ws).arg("ls").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{cell}");
        assert!(stderr.contains("map.toml:5"), "{stderr}");
        assert!(stderr.contains(what), "{stderr}");
        assert!(!out.stderr.iter().any(|b| [0x1b, 0x00].contains(b)));
        for cmd in [&["consolidate"][..], &["gc", "--grace", "0s"]] {
            assert!(!celltime(ws).args(cmd).output().unwrap().status.success());
        }
        assert_eq!(fingerprint_without_locks(ws), before, "{cell}");
    }
    // A notebook.toml claiming to be somewhere else.
    write(
        &folder.join("map.toml"),
        "[map]\nformat = 1\nnotebook = \"nb\"\n",
    );
    for key in ["../../etc", "a\\u0000b", "nb/../.."] {
        write(
            &folder.join("notebook.toml"),
            format!("format = 1\nkey = \"{key}\"\n"),
        );
        let before = fingerprint_without_locks(ws);
        let out = celltime(ws).args(["gc", "--grace", "0s"]).output().unwrap();
        assert!(!out.status.success(), "{key}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("does not match the folder"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(fingerprint_without_locks(ws), before, "{key}");
    }
}

/// marimo sanitises block names to `[a-zA-Z0-9 _-]`; folders that are not block names (`...`,
/// `..x`) are no blocks: never listed, imported or pruned. A cache folder that is a link is
/// refused.
#[test]
fn dot_dot_like_legacy_blocks_are_not_blocks_and_a_linked_cache_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/marimo/demo"),
        &ws,
    );
    let cache = ws.join("__marimo__/cache");
    let odd = ["...", "..x", ". .", ".. ", "a..b"];
    for name in odd {
        write(
            &cache.join(name).join("C_oddblockentry.pickle"),
            real_pickle(),
        );
    }
    let odd_before: Vec<_> = odd.iter().map(|n| fingerprint(&cache.join(n))).collect();
    let rows = listed(celltime(&ws).args(["ls", "--json"]));
    assert_eq!(rows.len(), 12, "only the fixture's entries: {rows:?}");
    run(celltime(&ws).args(["prune", "--keep-last", "1", "--yes"]));
    celltime_store::legacy::LegacyHistory::open(&ws, None)
        .unwrap()
        .empty_trash()
        .unwrap();
    run(celltime(&ws).arg("import"));
    let odd_after: Vec<_> = odd.iter().map(|n| fingerprint(&cache.join(n))).collect();
    assert_eq!(odd_after, odd_before);
    let rows = listed(celltime(&ws).args(["ls", "--json"]));
    assert!(
        rows.iter()
            .all(|r| !r["cell"].as_str().unwrap().contains('.')),
        "{rows:?}"
    );

    let link = dir.path().join("linked_cache");
    symlink(&cache, &link).unwrap();
    let before = fingerprint(&ws);
    let out = celltime(&ws)
        .args(["ls", "--cache-dir"])
        .arg(&link)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("symbolic links are not followed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fingerprint(&ws), before);
}

// ---- hostile previews ------------------------------------------------------------------------

/// `celltime show` under a 1 GiB address-space limit: an allocation the size a bomb asks for
/// aborts the process, which fails the test.
fn show_bounded(ws: &Path, id: &str) -> Vec<u8> {
    let bin = assert_cmd::cargo::cargo_bin("celltime");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(bin)
        .args(["show", id])
        .current_dir(ws)
        .env("TZ", "UTC")
        .env("CELLTIME_WRITER", WRITER)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "show {id} failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.len() < 16 << 20,
        "show {id}: {} bytes",
        out.stdout.len()
    );
    for byte in [0x1b, 0x07, 0x00] {
        assert!(
            !out.stdout.contains(&byte),
            "show {id} printed the raw byte {byte:#04x}"
        );
    }
    out.stdout
}

/// `celltime put` of one entry whose parts are files written from `parts`
/// (`(flag, label_prefix, bytes)`, e.g. `("--var", "x=pickle:", …)`).
fn put_parts(ws: &Path, cell: &str, parts: &[(&str, &str, Vec<u8>)]) -> String {
    let scratch = ws.join(format!("parts-{cell}"));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut cmd = celltime(ws);
    cmd.args([
        "put",
        "--notebook",
        "hostile",
        "--cell",
        cell,
        "--module",
        "m",
    ]);
    for (n, (flag, prefix, bytes)) in parts.iter().enumerate() {
        let file = scratch.join(format!("part{n}"));
        std::fs::write(&file, bytes).unwrap();
        if prefix.is_empty() {
            cmd.arg(flag).arg(&file);
        } else {
            cmd.arg(flag).arg(format!("{prefix}{}", file.display()));
        }
    }
    run(&mut cmd).trim().to_string()
}

/// A list holding itself a million times, through the memo.
fn self_referencing_list() -> Vec<u8> {
    let mut p = b"\x80\x02]q\x00(".to_vec();
    for _ in 0..1_000_000 {
        p.extend_from_slice(b"h\x00");
    }
    p.extend_from_slice(b"e.");
    p
}

/// Billion laughs: each level is a list of ten references to the level below (10^40 leaves).
fn laughs() -> Vec<u8> {
    let mut p = b"\x80\x02(X\x03\x00\x00\x00lol".to_vec();
    p.extend_from_slice(b"lq\x00");
    for level in 1..=40u8 {
        p.push(b'(');
        for _ in 0..10 {
            p.extend_from_slice(&[b'h', level - 1]);
        }
        p.extend_from_slice(&[b'l', b'q', level]);
    }
    p.push(b'.');
    p
}

/// Lists nested 100,000 deep.
fn deep_pickle() -> Vec<u8> {
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b'(', 100_000));
    p.extend(std::iter::repeat_n(b'l', 100_000));
    p.push(b'.');
    p
}

/// 4 GB declared in a hundred bytes: BINUNICODE8, BINBYTES8 and BINUNICODE lengths.
fn huge_lengths() -> Vec<(String, Vec<u8>)> {
    let four_gb: u64 = 4_000_000_000;
    let pad = |mut p: Vec<u8>| {
        p.resize(100, b'a');
        p
    };
    let mut unicode8 = b"\x80\x04\x8d".to_vec();
    unicode8.extend_from_slice(&four_gb.to_le_bytes());
    let mut bytes8 = b"\x80\x04\x8e".to_vec();
    bytes8.extend_from_slice(&four_gb.to_le_bytes());
    let mut unicode4 = b"\x80\x02X".to_vec();
    unicode4.extend_from_slice(&u32::MAX.to_le_bytes());
    let mut list = b"\x80\x04(".to_vec();
    list.extend_from_slice(b"\x8d");
    list.extend_from_slice(&u64::MAX.to_le_bytes());
    vec![
        ("unicode8".into(), pad(unicode8)),
        ("bytes8".into(), pad(bytes8)),
        ("unicode4".into(), pad(unicode4)),
        ("max".into(), pad(list)),
    ]
}

fn json_bomb() -> Vec<u8> {
    let mut j = vec![b'['; 100_000];
    j.extend(std::iter::repeat_n(b']', 100_000));
    j
}

#[test]
fn bombs_are_previewed_within_bounds() {
    let dir = crate::common::workspace();
    let ws = dir.path();
    let mut ids = vec![
        put_parts(
            ws,
            "memo",
            &[("--var", "x=pickle:", self_referencing_list())],
        ),
        put_parts(ws, "laughs", &[("--var", "x=pickle:", laughs())]),
        put_parts(ws, "deep", &[("--var", "x=pickle:", deep_pickle())]),
        put_parts(
            ws,
            "json",
            &[
                ("--var", "x=json:", json_bomb()),
                ("--output", "application/json=", json_bomb()),
            ],
        ),
    ];
    for (name, bytes) in huge_lengths() {
        ids.push(put_parts(ws, &name, &[("--var", "x=pickle:", bytes)]));
    }
    for id in &ids {
        show_bounded(ws, id);
    }
}

#[test]
fn terminal_escapes_in_contents_are_shown_escaped() {
    let dir = crate::common::workspace();
    let ws = dir.path();
    let evil = "red \u{1b}[31mRED\u{1b}[0m bell \u{7} nul \u{0} title \u{1b}]0;pwned\u{7} clear \u{1b}[2J csi \u{9b}31m end\n";
    let json = r#"{"a": "\u001b[31m\u0007\u0000", "b": ["\u001b]0;x\u0007"]}"#;
    // A pickled str with an escape sequence (SHORT_BINUNICODE).
    let mut pickle = b"\x80\x04\x8c".to_vec();
    pickle.push(evil.len() as u8);
    pickle.extend_from_slice(evil.as_bytes());
    pickle.push(b'.');
    let html = format!("<p>{evil}</p><p>&#27;[2J&#x1b;]0;t&#7;&#0;</p>");
    let id = put_parts(
        ws,
        "escapes",
        &[
            ("--code", "", format!("x = '{evil}'\n").into_bytes()),
            ("--output", "text/plain=", evil.as_bytes().to_vec()),
            ("--output", "text/html=", html.into_bytes()),
            (
                "--output",
                "text/markdown=",
                format!("# {evil}").into_bytes(),
            ),
            ("--output", "application/json=", json.as_bytes().to_vec()),
            (
                "--output",
                "image/svg+xml=",
                format!("<svg>{evil}</svg>").into_bytes(),
            ),
            ("--stdout", "", evil.as_bytes().to_vec()),
            ("--stderr", "", evil.as_bytes().to_vec()),
            ("--var", "j=json:", json.as_bytes().to_vec()),
            ("--var", "p=pickle:", pickle),
            ("--var", "t=text:", evil.as_bytes().to_vec()),
            ("--watched", "data/evil.txt=", evil.as_bytes().to_vec()),
        ],
    );
    let shown = String::from_utf8(show_bounded(ws, &id)).unwrap();
    assert!(shown.contains("RED"), "{shown}");
    assert!(
        shown.contains("^["),
        "escapes are shown in a visible form: {shown}"
    );
    for part in ["outputs", "console", "variables", "watched", "code"] {
        let out = celltime(ws)
            .args(["show", &id, "--part", part])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(
            !out.stdout.iter().any(|b| [0x1b, 0x07, 0x00].contains(b)),
            "show --part {part} printed raw control bytes"
        );
    }
    // The listing and the diff of such an entry, too.
    for args in [&["ls"][..], &["ls", "--cells"], &["diff", &id]] {
        let out = celltime(ws).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            !out.stdout.iter().any(|b| [0x1b, 0x07, 0x00].contains(b)),
            "{args:?} printed raw control bytes"
        );
    }
}
