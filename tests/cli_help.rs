//! The command line's own documentation: every `--help`, the shell completions and the man
//! page are snapshots (a change to any of them shows in review), and every flag explains
//! itself.

use crate::common::celltime;
use celltime::cli::manual::{CompletionShell, completion_script, man_page};
use clap::CommandFactory;

/// Every command path: `[]`, `["ls"]`, `["op", "log"]`, …
fn commands() -> Vec<(Vec<String>, clap::Command)> {
    fn walk(
        command: &clap::Command,
        path: Vec<String>,
        out: &mut Vec<(Vec<String>, clap::Command)>,
    ) {
        out.push((path.clone(), command.clone()));
        for sub in command.get_subcommands() {
            let mut next = path.clone();
            next.push(sub.get_name().to_string());
            walk(sub, next, out);
        }
    }
    let mut command = celltime::cli::Cli::command().term_width(100);
    command.build();
    let mut out = Vec::new();
    walk(&command, Vec::new(), &mut out);
    out
}

#[test]
fn every_help_is_a_snapshot() {
    for (path, mut command) in commands() {
        if path.last().is_some_and(|name| name == "help") {
            continue;
        }
        let name = if path.is_empty() {
            "help".to_string()
        } else {
            format!("help_{}", path.join("_"))
        };
        let help = command.render_long_help().to_string();
        insta::assert_snapshot!(name, help);
    }
}

#[test]
fn every_flag_and_argument_has_help_text() {
    let mut missing = Vec::new();
    for (path, command) in commands() {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("celltime {} {id}", path.join(" ")));
            }
        }
    }
    assert!(missing.is_empty(), "no help text: {missing:?}");
}

#[test]
fn completions_for_every_shell() {
    for (shell, name) in [
        (CompletionShell::Bash, "bash"),
        (CompletionShell::Zsh, "zsh"),
        (CompletionShell::Fish, "fish"),
        (CompletionShell::Powershell, "powershell"),
    ] {
        let script = completion_script(shell);
        assert!(
            script.contains("prune") && script.contains("keep-last"),
            "{name}"
        );
        insta::assert_snapshot!(format!("completions_{name}"), script);
    }
    // The command prints the same script.
    let dir = tempfile::tempdir().unwrap();
    let printed = celltime(dir.path())
        .args(["completions", "bash"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(printed).unwrap(),
        completion_script(CompletionShell::Bash)
    );
}

#[test]
fn the_man_page() {
    let page = man_page().unwrap();
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq"),
        "roff: {}",
        &page[..40]
    );
    assert!(
        page.contains(".SH SUBCOMMANDS") && page.contains("celltime\\-prune"),
        "{page}"
    );
    insta::assert_snapshot!("man_page", page);
    let dir = tempfile::tempdir().unwrap();
    celltime(dir.path()).arg("man").assert().success();
}

#[test]
fn global_options_go_anywhere_and_ui_options_only_with_the_ui() {
    let dir = crate::common::demo();
    for args in [
        &["--color", "never", "ls", "--notebooks"][..],
        &["ls", "--notebooks", "--color", "never"],
        &["--quiet", "ls", "--notebooks"],
    ] {
        celltime(dir.path()).args(args).assert().success();
    }
    for args in [&["--no-mouse", "ls"][..], &["somewhere", "ls"]] {
        celltime(dir.path())
            .args(args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains("go without a command"));
    }
}
