//! The program in a real terminal, without tmux: util-linux's `script` gives it a
//! pseudo-terminal, the test types into it and reads what it draws. SIGTERM, Ctrl-Z and
//! `fg`, the demo's temporary folder; and, outside any terminal, what the UI says instead.

use crate::common::{celltime, demo};
use predicates::prelude::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A guard against a hang (the test fails), never a timing assertion.
const BOUND: Duration = Duration::from_secs(120);

const ENTER_ALT_SCREEN: &str = "\x1b[?1049h";
const LEAVE_ALT_SCREEN: &str = "\x1b[?1049l";

/// `celltime ARGS` on a pseudo-terminal.
struct Pty {
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    grew: Receiver<()>,
}

impl Pty {
    fn spawn(dir: &Path, args: &[&str]) -> Pty {
        Pty::spawn_with(dir, args, &[])
    }

    fn spawn_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Pty {
        let binary = assert_cmd::cargo::cargo_bin("celltime");
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        // The shell prints its pid, then becomes celltime: the pid is celltime's.
        let line = format!(
            "stty rows 40 cols 120; echo PID=$$; exec '{}' {}",
            binary.display(),
            quoted.join(" ")
        );
        let mut child = Command::new("script")
            .args(["-qefc", &line, "/dev/null"])
            .current_dir(dir)
            .env("TERM", "xterm-256color")
            .env("TZ", "UTC")
            .env("CELLTIME_WRITER", crate::common::WRITER)
            .env_remove("NO_COLOR")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the terminal tests need util-linux's `script` (Debian: bsdutils)");
        let mut stdout = child.stdout.take().unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, grew) = channel();
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut chunk) {
                sink.lock().unwrap().extend_from_slice(&chunk[..n]);
                let _ = tx.send(());
            }
        });
        Pty {
            child,
            output,
            grew,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits until the output holds `needle` `times` times; returns the output.
    fn wait_for(&self, needle: &str, times: usize) -> String {
        let deadline = Instant::now() + BOUND;
        loop {
            let text = self.text();
            if text.matches(needle).count() >= times {
                return text;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if self.grew.recv_timeout(left).is_err() && Instant::now() >= deadline {
                let tail: String = text
                    .chars()
                    .rev()
                    .take(2000)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                panic!("no {needle:?} (×{times}) in the output, which ends: {tail:?}");
            }
        }
    }

    fn pid(&self) -> u32 {
        let text = self.wait_for("\n", 1);
        let line = text.lines().find(|l| l.contains("PID=")).unwrap();
        line.trim().trim_start_matches(|c| c != 'P')["PID=".len()..]
            .trim()
            .parse()
            .unwrap()
    }

    fn send(&mut self, bytes: &[u8]) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// The exit status; a program still running after [`BOUND`] (a key it never saw) fails
    /// the test instead of hanging the suite.
    fn exit_within_bound(&mut self) -> ExitStatus {
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("still running after {BOUND:?}; output: {:?}", self.text());
            }
            // Output growing is the only event there is to wait on; a quiet program is
            // checked again after a moment.
            let _ = self.grew.recv_timeout(Duration::from_millis(50));
        }
    }

    fn finish(mut self) -> (ExitStatus, String) {
        let status = self.exit_within_bound();
        // The reader sees the end of the output once the terminal closes.
        while self.grew.recv_timeout(Duration::from_millis(0)).is_ok() {}
        (status, self.text())
    }
}

fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name} {pid}");
}

/// Waits until the process is stopped (state T in /proc), checking again each time its
/// terminal output grows or a moment passes.
fn wait_stopped(pty: &Pty, pid: u32) {
    let deadline = Instant::now() + BOUND;
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit(')').next().unwrap_or_default().trim_start();
        if state.starts_with('T') {
            return;
        }
        assert!(Instant::now() < deadline, "{pid} never stopped: {stat}");
        let _ = pty.grew.recv_timeout(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_restores_the_terminal_and_exits_143() {
    let ws = demo();
    let pty = Pty::spawn(ws.path(), &[]);
    let pid = pty.pid();
    pty.wait_for(ENTER_ALT_SCREEN, 1);
    pty.wait_for(" Timeline ", 1);
    signal(pid, "TERM");
    let (status, text) = pty.finish();
    assert_eq!(status.code(), Some(143), "{text:?}");
    let entered = text.find(ENTER_ALT_SCREEN).unwrap();
    assert!(
        text[entered..].contains(LEAVE_ALT_SCREEN),
        "the terminal is restored: {text:?}"
    );
}

#[test]
fn ctrl_z_suspends_and_fg_resumes() {
    let ws = demo();
    let mut pty = Pty::spawn(ws.path(), &[]);
    let pid = pty.pid();
    pty.wait_for(" Timeline ", 1);
    pty.send(b"\x1a");
    wait_stopped(&pty, pid);
    // `script` plays the shell: seeing its child stop, it stops too; continued (as a shell's
    // `fg` continues a job), it continues its child.
    let script = pty.child.id();
    wait_stopped(&pty, script);
    signal(script, "CONT");
    let text = pty.wait_for(ENTER_ALT_SCREEN, 2);
    let second = text.rfind(ENTER_ALT_SCREEN).unwrap();
    assert!(
        text[..second].contains(LEAVE_ALT_SCREEN),
        "the terminal was given back before stopping: {text:?}"
    );
    pty.send(b"q");
    let (status, text) = pty.finish();
    assert!(status.success(), "{text:?}");
    assert_eq!(text.matches(LEAVE_ALT_SCREEN).count(), 2, "{text:?}");
}

#[test]
fn the_demo_removes_its_temporary_folder_unless_kept() {
    let here = tempfile::tempdir().unwrap();
    for keep in [false, true] {
        let args: &[&str] = if keep { &["demo", "--keep"] } else { &["demo"] };
        let mut pty = Pty::spawn(here.path(), args);
        let text = pty.wait_for("writing a demo workspace", 1);
        pty.wait_for(ENTER_ALT_SCREEN, 1);
        pty.send(b"q");
        let (status, text_after) = pty.finish();
        assert!(status.success(), "{text_after:?}");
        let start = text.find("demo-").expect("the folder is named");
        let name: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let folder = std::env::temp_dir().join(format!("celltime-{name}"));
        assert_eq!(
            folder.exists(),
            keep,
            "{} ({text_after:?})",
            folder.display()
        );
        if keep {
            std::fs::remove_dir_all(&folder).unwrap();
        } else {
            assert!(
                text_after.contains("removed the demo workspace"),
                "{text_after:?}"
            );
        }
    }
}

#[test]
fn progress_shows_on_a_terminal_and_never_in_a_pipe_or_with_quiet() {
    let here = tempfile::tempdir().unwrap();
    let pty = Pty::spawn(
        here.path(),
        &["demo", "--no-tui", "--dir", "a", "--scale", "10000"],
    );
    let (status, text) = pty.finish();
    assert!(status.success(), "{text:?}");
    assert!(
        text.contains("demo [") && text.contains("/10000"),
        "{text:?}"
    );
    let pty = Pty::spawn(
        here.path(),
        &[
            "demo", "--no-tui", "--dir", "b", "--scale", "10000", "--quiet",
        ],
    );
    let (_, quiet) = pty.finish();
    assert!(
        !quiet.contains("demo [") && !quiet.contains("writing"),
        "{quiet:?}"
    );
    let piped = celltime(here.path())
        .args(["demo", "--no-tui", "--dir", "c", "--scale", "10000"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&piped.get_output().stderr).into_owned();
    assert!(
        !stderr.contains('[') && !stderr.contains('\r'),
        "{stderr:?}"
    );
    assert!(stderr.contains("writing a demo workspace"), "{stderr:?}");
}

#[test]
fn without_a_terminal_the_ui_says_it_needs_one_and_what_prints_instead() {
    let ws = demo();
    // setsid: no controlling terminal, so not even /dev/tty.
    let out = Command::new("setsid")
        .arg(assert_cmd::cargo::cargo_bin("celltime"))
        .current_dir(ws.path())
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("needs a terminal"), "{stderr}");
    assert!(stderr.contains("`celltime ls`"), "{stderr}");
    assert!(!stderr.contains("os error"), "{stderr}");
    let out = Command::new("setsid")
        .arg(assert_cmd::cargo::cargo_bin("celltime"))
        .arg("demo")
        .current_dir(ws.path())
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--no-tui"), "{stderr}");
}

#[test]
fn term_dumb_gets_the_plain_listing() {
    let ws = demo();
    celltime(ws.path())
        .env("TERM", "dumb")
        .assert()
        .success()
        .stdout(predicate::str::contains("NOTEBOOK").and(predicate::str::contains("load_data")))
        .stderr(predicate::str::contains("TERM=dumb"));
}

#[test]
fn a_config_file_that_does_not_exist_is_an_error() {
    let ws = demo();
    celltime(ws.path())
        .args(["--config", "nosuch.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--config nosuch.toml: no such file",
        ));
}

#[test]
fn diff_is_coloured_as_ripgrep_decides() {
    let ws = demo();
    let listing: serde_json::Value = serde_json::from_slice(
        &celltime(ws.path())
            .args([
                "ls",
                "--json",
                "--notebook",
                "analysis/eda",
                "--cell",
                "load_data",
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let id = listing["entries"][0]["id"].as_str().unwrap().to_string();
    let diff = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = celltime(ws.path());
        cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.args(args).args(["diff", &id]).assert().success();
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    };
    let green = "\x1b[32m+";
    assert!(!diff(&[], &[]).contains('\x1b'), "a pipe gets plain text");
    assert!(diff(&["--color", "always"], &[]).contains(green));
    assert!(diff(&[], &[("CLICOLOR_FORCE", "1")]).contains(green));
    assert!(!diff(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
    assert!(!diff(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]).contains('\x1b'));
    // On a terminal, coloured by default; TERM=dumb and NO_COLOR turn it off.
    let pty = Pty::spawn(ws.path(), &["diff", &id]);
    let (_, text) = pty.finish();
    assert!(text.contains(green), "{text:?}");
}

#[test]
fn o_lends_the_terminal_to_the_pager_and_takes_it_back() {
    let ws = demo();
    let out = tempfile::tempdir().unwrap();
    // A "pager" that keeps what it was given: `cp -t DIR FILE`.
    let pager = format!("cp -t {}", out.path().display());
    let mut pty = Pty::spawn_with(ws.path(), &[], &[("PAGER", pager.as_str())]);
    pty.wait_for(" Timeline ", 1);
    pty.send(b"\t"); // the timeline; the Code tab shows the selected run's code
    pty.wait_for("pandas", 1);
    pty.send(b"o");
    pty.wait_for(ENTER_ALT_SCREEN, 2);
    pty.send(b"q");
    let (status, text) = pty.finish();
    assert!(status.success(), "{text:?}");
    let files: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let opened = std::fs::read_to_string(&files[0]).unwrap();
    assert!(opened.contains("import pandas"), "{opened}");
    // The file `o` wrote (kept for viewers that read late) goes with the test.
    let _ = std::fs::remove_file(std::env::temp_dir().join(files[0].file_name().unwrap()));
    assert_eq!(
        text.matches(LEAVE_ALT_SCREEN).count(),
        2,
        "lent once, left once at the end"
    );
}
