//! `o`: a run's output (or the text of the current tab) outside the UI — text in `$PAGER`
//! (default `less -R`), HTML, images and other files in the system's viewer (`xdg-open`,
//! `open`). The file is written to the temporary folder, named by its content, and kept: a
//! viewer may read it after the UI has closed.

use celltime_store::model::{EntryId, History, PartKind};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `o` opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The first output part of a run (its mime type picks the viewer).
    Output { notebook: String, id: EntryId },
    /// Text already shown in the details (code, diff, variables, console, meta).
    Text { name: String, text: String },
}

/// How a file is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// In the terminal: the UI steps aside until the pager ends.
    Pager,
    /// The desktop's viewer, started beside the UI.
    System,
}

/// Text goes to the pager; everything a terminal cannot show to the system viewer.
pub fn viewer_for(mime: &str) -> Viewer {
    let mime = mime.split(';').next().unwrap_or_default().trim();
    let text = mime.starts_with("text/") && mime != "text/html";
    if text || matches!(mime, "application/json" | "text/markdown") {
        Viewer::Pager
    } else {
        Viewer::System
    }
}

/// A file name extension for a mime type, so the viewer knows what it opens.
pub fn extension(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or_default().trim() {
        "text/html" => "html",
        "text/markdown" => "md",
        "application/json" => "json",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/svg+xml" => "svg",
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        m if m.starts_with("text/") => "txt",
        _ => "bin",
    }
}

/// `$PAGER` split into words, or `less -R`.
pub fn pager_command(env: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let words: Vec<String> = env("PAGER")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if words.is_empty() {
        vec!["less".into(), "-R".into()]
    } else {
        words
    }
}

/// The system's "open this file" command.
pub fn system_command() -> Vec<String> {
    let command: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["cmd", "/C", "start", ""]
    } else {
        &["xdg-open"]
    };
    command.iter().map(|s| s.to_string()).collect()
}

/// The bytes and viewer of a target, read through the history.
pub fn resolve(
    history: &dyn History,
    target: &Target,
) -> Result<(Vec<u8>, String, Viewer), String> {
    match target {
        Target::Text { name, text } => Ok((
            text.clone().into_bytes(),
            format!("{name}.txt"),
            Viewer::Pager,
        )),
        Target::Output { notebook, id } => {
            let detail = history.detail(notebook, *id).map_err(|e| e.message)?;
            let part = detail
                .parts
                .iter()
                .find(|p| p.kind == PartKind::Outputs)
                .ok_or_else(|| format!("run {} has no output", id.short()))?;
            let bytes = history.read(notebook, part).map_err(|e| e.message)?;
            let mime = &part.label;
            Ok((
                bytes,
                format!("output.{}", extension(mime)),
                viewer_for(mime),
            ))
        }
    }
}

/// Writes `bytes` to a file named by their hash in the temporary folder.
pub fn write_temp(bytes: &[u8], name: &str) -> std::io::Result<PathBuf> {
    let hash = blake3::hash(bytes).to_hex();
    let path = std::env::temp_dir().join(format!("celltime-{}-{name}", &hash[..16]));
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// Runs `command` with `path` appended; the pager is waited for, the system viewer not.
pub fn launch(command: &[String], path: &Path, wait: bool) -> Result<(), String> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| "no viewer command".to_string())?;
    let mut child = Command::new(program);
    child.args(args).arg(path);
    if wait {
        let status = child.status().map_err(|e| format!("{program}: {e}"))?;
        if !status.success() {
            return Err(format!("{program} ended with {status}"));
        }
    } else {
        child
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("{program}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_goes_to_the_pager_the_rest_to_the_system_viewer() {
        assert_eq!(viewer_for("text/plain"), Viewer::Pager);
        assert_eq!(viewer_for("text/plain;charset=utf-8"), Viewer::Pager);
        assert_eq!(viewer_for("application/json"), Viewer::Pager);
        assert_eq!(viewer_for("text/markdown"), Viewer::Pager);
        assert_eq!(viewer_for("text/html"), Viewer::System);
        assert_eq!(viewer_for("image/png"), Viewer::System);
        assert_eq!(extension("image/png"), "png");
        assert_eq!(extension("text/html"), "html");
        assert_eq!(extension("application/x-thing"), "bin");
    }

    #[test]
    fn the_pager_is_pager_or_less() {
        let env = |value: Option<&'static str>| move |_: &str| value.map(str::to_string);
        assert_eq!(pager_command(env(Some("most -s"))), ["most", "-s"]);
        assert_eq!(pager_command(env(Some("  "))), ["less", "-R"]);
        assert_eq!(pager_command(env(None)), ["less", "-R"]);
    }

    #[test]
    fn the_pager_gets_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_temp(b"hello", "code.txt").unwrap();
        let copy = dir.path().join("copy");
        let command = vec!["cp".to_string()];
        launch(&command, &path, true).unwrap_err(); // cp needs a destination: an error, said
        let command = vec![
            "sh".to_string(),
            "-c".to_string(),
            format!("cp \"$0\" {}", copy.display()),
        ];
        launch(&command, &path, true).unwrap();
        assert_eq!(std::fs::read(copy).unwrap(), b"hello");
        std::fs::remove_file(path).unwrap();
    }
}
