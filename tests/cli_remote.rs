//! Remotes through the command line and the UI: `remote add | ls | rm`, `push`, `pull`,
//! `verify --remote`, `gc --remote`, reading a fresh clone through the remote, an interrupted
//! push resumed, bad remotes, and the UI while a content is being fetched. The S3 cases run
//! against a real S3-protocol server on loopback (moto), configured as a user would: through
//! `AWS_*` environment variables.

use crate::common::*;
use celltime::tui::jobs::{Executor, JobOutput, Pool};
use celltime::tui::{App, action::Action};
use celltime_store::model::{History, Timestamp};
use celltime_store::remote::add_remote;
use celltime_store::store::RemoteSettings;
use celltime_store::testing::s3::S3Server;
use serde_json::Value;
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

fn server() -> &'static S3Server {
    static SERVER: OnceLock<S3Server> = OnceLock::new();
    SERVER.get_or_init(S3Server::start)
}

/// `celltime` with no AWS settings of the caller's environment, plus `env`.
fn cmd(dir: &Path, env: &[(&str, String)]) -> assert_cmd::Command {
    let mut command = celltime(dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command.env("HOME", dir);
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(output)))
}

/// A remote for one test: a folder, or a bucket on the loopback server reached through the
/// environment as a user would (AWS_ENDPOINT_URL, keys, AWS_ALLOW_HTTP).
struct Target {
    url: String,
    env: Vec<(&'static str, String)>,
    _folder: Option<tempfile::TempDir>,
}

fn folder_target() -> Target {
    let folder = tempfile::tempdir().unwrap();
    Target {
        url: format!("file://{}", folder.path().display()),
        env: Vec::new(),
        _folder: Some(folder),
    }
}

fn s3_target(bucket: &str) -> Target {
    server().create_bucket(bucket);
    Target {
        url: format!("s3://{bucket}/shared"),
        env: server().env(),
        _folder: None,
    }
}

fn add(dir: &Path, target: &Target) {
    cmd(dir, &target.env)
        .args([
            "remote",
            "add",
            "origin",
            &target.url,
            "--gitignore-contents",
        ])
        .assert()
        .success();
}

#[test]
fn remote_add_ls_rm_keep_persist_toml_and_refuse_credentials() {
    let dir = demo();
    let config = dir.path().join("__marimo__/persist/persist.toml");
    let original = std::fs::read_to_string(&config).unwrap();
    let target = folder_target();
    cmd(dir.path(), &[])
        .args(["remote", "add", "origin", &target.url, "--no-fetch"])
        .assert()
        .success();
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.starts_with(&original),
        "comments and layout are kept:\n{text}"
    );
    assert!(
        text.contains("[remote.origin]") && text.contains("fetch = false"),
        "{text}"
    );
    let listed = cmd(dir.path(), &[])
        .args(["remote", "ls", "--json"])
        .output()
        .unwrap();
    let listed = json_of(&listed.stdout);
    assert_eq!(listed["schema"], "celltime.remote-list.v1");
    assert_eq!(listed["remotes"][0]["name"], "origin");
    assert_eq!(listed["remotes"][0]["fetch"], false);

    let refused = [
        (
            vec!["remote", "add", "origin", "s3://b/p"],
            2,
            "already has a remote named \"origin\"",
        ),
        (
            vec![
                "remote",
                "add",
                "keys",
                "s3://b/p",
                "--option",
                "secret_access_key=x",
            ],
            2,
            "looks like a credential",
        ),
        (
            vec!["remote", "add", "odd", "ftp://host/x"],
            1,
            "remote \"odd\": unknown scheme \"ftp\"",
        ),
        (
            vec!["remote", "add", "gone", "file:///no/such/folder"],
            1,
            "does not exist",
        ),
        (
            vec!["remote", "add", "bad name", "s3://b"],
            2,
            "remote name",
        ),
        (
            vec!["remote", "rm", "nosuch"],
            2,
            "no remote named \"nosuch\"",
        ),
    ];
    for (args, code, message) in refused {
        let output = cmd(dir.path(), &[]).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(&config).unwrap(),
            text,
            "{args:?} changed nothing"
        );
    }
    cmd(dir.path(), &[])
        .args(["remote", "rm", "origin"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&config).unwrap().trim_end(),
        original.trim_end()
    );
}

fn push_pull_verify_gc(target: Target) {
    let a = demo();
    add(a.path(), &target);
    let pushed = cmd(a.path(), &target.env)
        .args(["push", "--json"])
        .output()
        .unwrap();
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    assert!(
        pushed.stderr.is_empty(),
        "no progress bar without a terminal"
    );
    let report = json_of(&pushed.stdout);
    assert_eq!(report["schema"], "celltime.push.v1");
    assert!(report["contents"].as_u64().unwrap() > 100, "{report}");
    let again = json_of(
        &cmd(a.path(), &target.env)
            .args(["push", "--json"])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(again["contents"], 0);
    assert_eq!(again["already_there"], report["contents"]);

    // Git carries maps and logs only: the .gitignore says so, and a clone has no contents.
    let gitignore =
        std::fs::read_to_string(a.path().join("__marimo__/persist/.gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l == "packs/") && gitignore.lines().any(|l| l == "objects/"));
    let b = tempfile::tempdir().unwrap();
    clone_maps(a.path(), b.path());
    let listed = json_of(
        &cmd(b.path(), &[])
            .args(["ls", "--json"])
            .output()
            .unwrap()
            .stdout,
    );
    let id_at = |row: usize| listed["entries"][row]["id"].as_str().unwrap().to_string();
    // diff reads both runs' code through the remote, before anything else fetched it.
    let diffed = cmd(b.path(), &target.env)
        .args(["diff", &id_at(1), &id_at(2)])
        .output()
        .unwrap();
    assert!(
        diffed.status.success(),
        "diff reads through the remote: {}",
        String::from_utf8_lossy(&diffed.stderr)
    );
    let id = id_at(0);
    let shown = cmd(b.path(), &target.env)
        .args(["show", &id, "--json"])
        .output()
        .unwrap();
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        !shown.contains("missing"),
        "show reads through the remote: {shown}"
    );

    let pulled = cmd(b.path(), &target.env)
        .args(["pull", "--json"])
        .output()
        .unwrap();
    assert!(
        pulled.status.success(),
        "{}",
        String::from_utf8_lossy(&pulled.stderr)
    );
    let pulled = json_of(&pulled.stdout);
    assert_eq!(pulled["schema"], "celltime.pull.v1");
    assert_eq!(pulled["unavailable"], 0);
    cmd(b.path(), &[]).arg("verify").assert().success();
    let verified = cmd(b.path(), &target.env)
        .args(["verify", "--remote", "origin", "--read", "--json"])
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    let verified = json_of(&verified.stdout);
    assert_eq!(verified["schema"], "celltime.remote-verify.v1");
    assert_eq!(verified["errors"], 0);

    let gc = cmd(a.path(), &target.env)
        .args(["gc", "--remote", "origin", "--grace", "1d", "--json"])
        .output()
        .unwrap();
    assert!(
        gc.status.success(),
        "{}",
        String::from_utf8_lossy(&gc.stderr)
    );
    let gc = json_of(&gc.stdout);
    assert_eq!(gc["schema"], "celltime.remote-gc.v1");
    assert_eq!(
        gc["bundles_deleted"], 0,
        "everything is referenced and young: {gc}"
    );
}

#[test]
fn push_pull_verify_gc_on_a_folder() {
    push_pull_verify_gc(folder_target());
}

#[test]
fn push_pull_verify_gc_on_s3() {
    push_pull_verify_gc(s3_target("cli-round-trip"));
}

/// A workspace with three large runs: a push of it uploads several objects.
fn three_large_runs() -> tempfile::TempDir {
    let dir = workspace();
    let store = store_as(dir.path(), WRITER);
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    let runs = (0..3u8)
        .map(|i| {
            let mut e = entry("nb", "plot", "m1", i64::from(i), &i.to_string());
            e.parts.push(celltime_store::model::NewPart::output(
                "image/png",
                vec![i; 5 * 1024 * 1024],
            ));
            e
        })
        .collect();
    notebook.put_batch(runs).unwrap();
    dir
}

#[cfg(feature = "failpoints")]
fn an_interrupted_push_resumes(target: Target) {
    let a = three_large_runs();
    add(a.path(), &target);
    let killed = cmd(a.path(), &target.env)
        .env("CELLTIME_FAILPOINT", "push.after_upload")
        .arg("push")
        .output()
        .unwrap();
    assert!(
        !killed.status.success(),
        "the push died after its first upload"
    );
    assert!(String::from_utf8_lossy(&killed.stderr).contains("failpoint push.after_upload"));
    let resumed = cmd(a.path(), &target.env)
        .args(["push", "--json"])
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let resumed = json_of(&resumed.stdout);
    assert!(
        resumed["already_there"].as_u64().unwrap() >= 1,
        "what was uploaded stays: {resumed}"
    );
    let verified = cmd(a.path(), &target.env)
        .args(["verify", "--remote", "origin", "--read"])
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

#[cfg(feature = "failpoints")]
#[test]
fn an_interrupted_push_resumes_on_a_folder() {
    an_interrupted_push_resumes(folder_target());
}

#[cfg(feature = "failpoints")]
#[test]
fn an_interrupted_push_resumes_on_s3() {
    an_interrupted_push_resumes(s3_target("cli-interrupted"));
}

#[test]
fn bad_remotes_exit_non_zero_naming_the_remote_and_the_object() {
    let dir = demo();
    let env = server().env();
    cmd(dir.path(), &env)
        .args(["remote", "add", "nobucket", "s3://no-such-bucket/p"])
        .assert()
        .success();
    let mut dead = env.clone();
    dead[0].1 = "http://127.0.0.1:9".into();
    cmd(dir.path(), &dead)
        .args(["remote", "add", "dead", "s3://b/p"])
        .assert()
        .success();
    // A server that knows no key at all, reached with keys it refuses.
    let guarded = S3Server::start_authenticated();
    let mut refused = guarded.env();
    refused.retain(|(name, _)| !name.starts_with("AWS_ACCESS") && !name.starts_with("AWS_SECRET"));
    refused.push(("AWS_ACCESS_KEY_ID", "AKIAWRONG".into()));
    refused.push(("AWS_SECRET_ACCESS_KEY", "wrong".into()));
    cmd(dir.path(), &refused)
        .args(["remote", "add", "wrongkeys", "s3://any/p"])
        .assert()
        .success();
    // A scheme nobody supports, written into persist.toml by hand.
    let config = dir.path().join("__marimo__/persist/persist.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[remote.odd]\nurl = \"ftp://host/x\"\n");
    std::fs::write(&config, text).unwrap();
    let before = tree(dir.path());
    let cases = [
        (
            "nobucket",
            &env,
            "s3://no-such-bucket/p/celltime-remote.toml",
            "bucket does not exist",
        ),
        (
            "dead",
            &dead,
            "s3://b/p/celltime-remote.toml",
            "cannot reach the server",
        ),
        (
            "wrongkeys",
            &refused,
            "s3://any/p/celltime-remote.toml",
            "access denied",
        ),
        ("odd", &env, "ftp://host/x", "unknown scheme \"ftp\""),
    ];
    // A clone without contents: its pull must reach the remote.
    let clone = tempfile::tempdir().unwrap();
    clone_maps(dir.path(), clone.path());
    // What a pull may change: contents and maps (not the derived .index/ or the lock files).
    let kept = |dir: &Path| {
        let mut files = tree(dir);
        files.retain(|path, _| {
            let path = path.to_string_lossy();
            !path.contains("/.index/") && !path.ends_with(".lock")
        });
        files
    };
    let clone_before = kept(clone.path());
    for (name, env, object, hint) in cases {
        for (at, verb) in [
            (dir.path(), vec!["push", name]),
            (clone.path(), vec!["pull", name]),
            (dir.path(), vec!["verify", "--remote", name]),
            (dir.path(), vec!["gc", "--remote", name]),
        ] {
            let output = cmd(at, env).args(&verb).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{verb:?}: {stderr}");
            assert!(
                stderr.contains(&format!("remote \"{name}\"")),
                "{verb:?}: {stderr}"
            );
            assert!(
                stderr.contains(object) && stderr.contains(hint),
                "{verb:?}: {stderr}"
            );
        }
    }
    assert!(
        kept(clone.path()) == clone_before,
        "a failed pull changes nothing locally"
    );
    let output = cmd(dir.path(), &env).arg("push").output().unwrap();
    assert_eq!(output.status.code(), Some(2), "two remotes and none named");
    assert_eq!(
        tree(dir.path()),
        before,
        "failed commands change nothing locally"
    );
}

/// A damaged object on the remote: the pull names the remote and the object, exits 1, and
/// stores nothing of what the damage touched; verify --read finds it.
#[test]
fn a_tampered_bundle_is_named_and_never_stored() {
    let target = folder_target();
    let a = demo();
    add(a.path(), &target);
    cmd(a.path(), &target.env).arg("push").assert().success();
    let folder = target._folder.as_ref().unwrap().path();
    let bundle = tree(folder)
        .into_keys()
        .find(|p| p.extension().is_some_and(|e| e == "bundle"))
        .expect("a pushed bundle");
    let bundle_path = folder.join(&bundle);
    let mut bytes = std::fs::read(&bundle_path).unwrap();
    *bytes.last_mut().unwrap() ^= 0xff;
    std::fs::write(&bundle_path, bytes).unwrap();
    let bundle_name = bundle.file_name().unwrap().to_string_lossy().into_owned();

    let b = tempfile::tempdir().unwrap();
    clone_maps(a.path(), b.path());
    let maps_before = tree(b.path());
    let pulled = cmd(b.path(), &target.env).arg("pull").output().unwrap();
    let stderr = String::from_utf8_lossy(&pulled.stderr);
    assert_eq!(pulled.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("remote \"origin\"")
            && stderr.contains(&bundle_name)
            && stderr.contains("does not match its hash"),
        "{stderr}"
    );
    // Only contents that hashed right were stored (resumable), and no map or log changed.
    let after = tree(b.path());
    for (path, bytes) in &maps_before {
        assert_eq!(after.get(path), Some(bytes), "{} unchanged", path.display());
    }
    let store = celltime_store::store::Store::open(&celltime_store::store::Workspace::at(b.path()))
        .unwrap();
    for key in store.notebook_keys().unwrap() {
        let report = store.notebook(&key).unwrap().verify().unwrap();
        for problem in &report.problems {
            assert!(
                problem.at.message.ends_with("is missing"),
                "only missing, never damaged: {}",
                problem.at.message
            );
        }
    }
    let checked = cmd(b.path(), &target.env)
        .args(["verify", "--remote", "origin", "--read"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(&bundle_name), "{stdout}");
}

/// An S3 endpoint that accepts connections and answers nothing until told to hang up.
struct Silent {
    port: u16,
    hang_up: Arc<AtomicBool>,
    held: Arc<Mutex<Vec<std::net::TcpStream>>>,
}

impl Silent {
    fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hang_up = Arc::new(AtomicBool::new(false));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (flag, streams) = (hang_up.clone(), held.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if !flag.load(Ordering::SeqCst) {
                    streams.lock().unwrap().push(stream);
                }
            }
        });
        Silent {
            port,
            hang_up,
            held,
        }
    }

    fn hang_up(&self) {
        self.hang_up.store(true, Ordering::SeqCst);
        self.held.lock().unwrap().clear();
    }
}

#[test]
fn the_ui_says_it_is_fetching_and_keeps_answering_keys() {
    let a = tempfile::tempdir().unwrap();
    screens::build(a.path());
    let b = tempfile::tempdir().unwrap();
    clone_maps(a.path(), b.path());
    let silent = Silent::start();
    let settings = RemoteSettings {
        name: "origin".into(),
        url: "s3://team/celltime".into(),
        fetch: true,
        options: vec![
            (
                "endpoint".into(),
                format!("http://127.0.0.1:{}", silent.port),
            ),
            ("allow_http".into(), "true".into()),
            ("skip_signature".into(), "true".into()),
            ("region".into(), "us-east-1".into()),
        ],
        line: None,
    };
    add_remote(&screens::open_store(b.path()), &settings).unwrap();
    let history: Arc<dyn History> = screens::history(screens::open_store(b.path()));
    let (tx, rx) = std::sync::mpsc::channel::<JobOutput>();
    let pool = Pool::new(history.clone(), tx);
    let mut app = App::new(
        history.as_ref(),
        screens::ui(),
        Timestamp(screens::NOW),
        Executor::Pool(pool),
    );
    app.act(Action::Resize {
        width: 120,
        height: 30,
    });
    // Jobs come back from the workers until a preview waits on the silent remote.
    let deadline = Instant::now() + Duration::from_secs(60);
    while celltime_store::remote::fetching().is_empty() {
        assert!(Instant::now() < deadline, "no fetch started");
        if let Ok(output) = rx.recv_timeout(Duration::from_millis(20)) {
            app.job_done(output);
        }
    }
    app.observe_fetches();
    let shown = screens::screen(&app, 120, 30);
    assert!(
        shown.contains("fetching a content") && shown.contains("from remote origin…"),
        "{shown}"
    );
    // The UI answers keys while the worker waits.
    let tab = app.state.details.tab;
    app.press("]");
    assert_ne!(
        app.state.details.tab, tab,
        "a key was handled during the fetch"
    );
    silent.hang_up();
    // The read fails, naming the remote, and the UI says so in the preview.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(output) = rx.recv_timeout(Duration::from_millis(20)) {
            app.job_done(output);
        }
        app.observe_fetches();
        let shown = screens::screen(&app, 120, 30);
        if celltime_store::remote::fetching().is_empty()
            && shown.contains("could not read this part")
        {
            assert!(!shown.contains("fetching"), "{shown}");
            break;
        }
        assert!(Instant::now() < deadline, "the fetch never ended: {shown}");
    }
    // The error the part shows names the remote and the object.
    let store = screens::open_store(b.path());
    let notebook = store.notebook(&nb("analysis/eda")).unwrap();
    let view = notebook.index().views()[0];
    let fetched = notebook
        .get(view.id, celltime_store::model::PartMask::all())
        .unwrap();
    let error = fetched.parts[0].1.as_ref().unwrap_err().to_string();
    assert!(
        error.contains("remote \"origin\": http://127.0.0.1")
            || error.contains("remote \"origin\": s3://team/celltime/analysis/eda/"),
        "{error}"
    );
}
