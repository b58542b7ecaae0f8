//! `persist.toml`: the store's format version and defaults. Users edit it by hand; celltime
//! edits it with `toml_edit`, so comments and layout survive.

use super::error::{IoContext, Result, StoreError};
use super::fs::{Fs, read_limited, write_atomic};
use super::layout::MAX_SETTINGS_BYTES;
use crate::units::{size_from_toml, span_from_toml};
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml_edit::{Document, DocumentMut, Item};

/// The store format this build reads and writes.
pub const FORMAT_VERSION: i64 = 2;

pub const DEFAULT_INLINE_THRESHOLD: u64 = 64 * 1024;
pub const DEFAULT_GC_GRACE: Duration = Duration::from_secs(24 * 3600);

const DEFAULT_TEXT: &str = r#"# celltime store settings; see docs/FORMAT.md. Comments and layout survive celltime's edits.
format = 2

# Contents up to this size go into SQLite packs; larger ones become files under objects/.
inline_threshold = "64KiB"

# Unreferenced contents younger than this are never swept by `celltime gc`.
gc_grace = "1d"

# The policy `celltime prune` applies when no rule is given on the command line, e.g.
#   keep-last = 5
#   keep-within = "30d"
#   max-size = "2GiB"
[prune]
"#;

#[derive(Debug, Clone)]
pub struct Config {
    path: PathBuf,
    doc: DocumentMut,
    pub inline_threshold: u64,
    pub gc_grace: Duration,
    /// `[remote.<name>]` tables, in file order (docs/FORMAT.md §17).
    pub remotes: Vec<RemoteSettings>,
}

/// One `[remote.<name>]` table: where contents are shared. Never holds a secret: credentials
/// come from each cloud's environment variables and profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSettings {
    pub name: String,
    pub url: String,
    /// Fetch a content missing locally from this remote on first use (`fetch`, default true).
    pub fetch: bool,
    /// Client settings that are not secrets (`endpoint`, `region`, `allow_http`, …).
    pub options: Vec<(String, String)>,
    /// The line of the table in `persist.toml`, for messages.
    pub line: Option<usize>,
}

/// A remote's name: 1–64 ASCII letters, digits, `-` and `_`.
pub fn check_remote_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "remote name {name:?}: use 1-64 letters, digits, '-' or '_'"
        ))
    }
}

/// Option names that would put a credential into a file people commit.
pub fn is_secret_option(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "secret",
        "key",
        "token",
        "password",
        "sas",
        "credential",
        "service_account",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// The one "format too new" check: a file written in a newer format than this celltime reads
/// (`persist.toml`, `notebook.toml`, `map.toml`, a pack's `user_version`) is refused, naming
/// the file, before anything is read from it or written (docs/FORMAT.md §13).
pub fn check_format(path: &Path, found: i64, supported: i64) -> Result<()> {
    if found > supported {
        return Err(StoreError::FormatTooNew {
            path: path.to_path_buf(),
            found,
            supported,
        });
    }
    Ok(())
}

/// 1-based line of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

impl Config {
    /// Reads `persist.toml`, or the defaults when the file does not exist.
    pub fn load(fs: &dyn Fs, path: &Path) -> Result<Config> {
        let text = match read_limited(fs, path, MAX_SETTINGS_BYTES) {
            Ok(bytes) => String::from_utf8(bytes)
                .map_err(|_| StoreError::invalid(path, None, "not UTF-8 text"))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => DEFAULT_TEXT.to_string(),
            Err(e) => return Err(e).at(path),
        };
        Config::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config> {
        let parsed = Document::parse(text.to_string()).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            StoreError::invalid(path, line, e.message().trim().to_string())
        })?;
        let at = |item: &Item| item.span().map(|s| line_of(text, s.start));
        let table = parsed.as_table();

        let format = match table.get("format") {
            None => FORMAT_VERSION,
            Some(item) => item
                .as_integer()
                .ok_or_else(|| StoreError::invalid(path, at(item), "format must be an integer"))?,
        };
        check_format(path, format, FORMAT_VERSION)?;
        if format < 1 {
            return Err(StoreError::invalid(
                path,
                table.get("format").and_then(at),
                "format must be 1 or more",
            ));
        }
        let inline_threshold = match table.get("inline_threshold") {
            None => DEFAULT_INLINE_THRESHOLD,
            Some(item) => value_of(item)
                .and_then(size_from_toml)
                .map(|size| size.0)
                .map_err(|m| {
                    StoreError::invalid(path, at(item), format!("inline_threshold: {m}"))
                })?,
        };
        let gc_grace = match table.get("gc_grace") {
            None => DEFAULT_GC_GRACE,
            Some(item) => value_of(item)
                .and_then(span_from_toml)
                .map(|span| span.to_duration())
                .map_err(|m| StoreError::invalid(path, at(item), format!("gc_grace: {m}")))?,
        };
        if let Some(item) = table.get("prune")
            && !item.is_table()
        {
            return Err(StoreError::invalid(
                path,
                at(item),
                "[prune] must be a table of policy rules",
            ));
        }
        let remotes = match table.get("remote") {
            None => Vec::new(),
            Some(item) => remote_settings(item, &at)
                .map_err(|(line, m)| StoreError::invalid(path, line, m))?,
        };
        Ok(Config {
            path: path.to_path_buf(),
            doc: parsed.into_mut(),
            inline_threshold,
            gc_grace,
            remotes,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `[prune]` table, if it has any rule.
    pub fn prune_table(&self) -> Option<&toml_edit::Table> {
        self.doc
            .get("prune")
            .and_then(Item::as_table)
            .filter(|t| !t.is_empty())
    }

    /// The document, for edits that keep comments; write it back with [`Config::save`].
    pub fn document_mut(&mut self) -> &mut DocumentMut {
        &mut self.doc
    }

    pub fn save(&self, fs: &dyn Fs) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            fs.create_dir_all(dir).at(dir)?;
        }
        write_atomic(fs, &self.path, self.doc.to_string().as_bytes()).at(&self.path)
    }

    /// Writes the default file if none exists yet (first write to a store).
    pub fn ensure_written(&self, fs: &dyn Fs) -> Result<()> {
        match fs.metadata(&self.path) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.save(fs),
            Err(e) => Err(e).at(&self.path),
        }
    }
}

type AtLine<'a> = dyn Fn(&Item) -> Option<usize> + 'a;

fn remote_settings(
    item: &Item,
    at: &AtLine,
) -> Result<Vec<RemoteSettings>, (Option<usize>, String)> {
    let table = item.as_table().ok_or_else(|| {
        (
            at(item),
            "[remote] must hold one table per remote: [remote.origin] url = \"s3://bucket/prefix\""
                .into(),
        )
    })?;
    let mut remotes = Vec::new();
    for (name, entry) in table.iter() {
        let line = at(entry);
        check_remote_name(name).map_err(|m| (line, m))?;
        let fail = |item: &Item, m: String| (at(item).or(line), format!("[remote.{name}] {m}"));
        let remote = entry
            .as_table()
            .ok_or_else(|| fail(entry, "must be a table".into()))?;
        let mut settings = RemoteSettings {
            name: name.to_string(),
            url: String::new(),
            fetch: true,
            options: Vec::new(),
            line,
        };
        for (key, value) in remote.iter() {
            match key {
                "url" => {
                    settings.url = value
                        .as_str()
                        .ok_or_else(|| fail(value, "url must be a string".into()))?
                        .to_string();
                }
                "fetch" => {
                    settings.fetch = value
                        .as_bool()
                        .ok_or_else(|| fail(value, "fetch must be true or false".into()))?;
                }
                "options" => {
                    settings.options = remote_options(value).map_err(|m| fail(value, m))?
                }
                other => return Err(fail(value, format!("unknown key {other:?}"))),
            }
        }
        if settings.url.is_empty() {
            return Err(fail(entry, "needs a url".into()));
        }
        remotes.push(settings);
    }
    Ok(remotes)
}

fn remote_options(item: &Item) -> Result<Vec<(String, String)>, String> {
    let table = item
        .as_table_like()
        .ok_or_else(|| "options must be a table of strings".to_string())?;
    let mut options = Vec::new();
    for (key, value) in table.iter() {
        if is_secret_option(key) {
            return Err(format!(
                "option {key:?} looks like a credential: keep credentials in the environment or your cloud profile, not in persist.toml"
            ));
        }
        let text = match value.as_value() {
            Some(toml_edit::Value::String(s)) => s.value().clone(),
            Some(toml_edit::Value::Boolean(b)) => b.value().to_string(),
            Some(toml_edit::Value::Integer(i)) => i.value().to_string(),
            _ => {
                return Err(format!(
                    "option {key:?} must be a string, boolean or integer"
                ));
            }
        };
        options.push((key.to_string(), text));
    }
    Ok(options)
}

fn value_of(item: &Item) -> Result<&toml_edit::Value, String> {
    item.as_value()
        .ok_or_else(|| "expected a value, found a table".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let config = Config::parse(Path::new("persist.toml"), DEFAULT_TEXT).unwrap();
        assert_eq!(config.inline_threshold, DEFAULT_INLINE_THRESHOLD);
        assert_eq!(config.gc_grace, DEFAULT_GC_GRACE);
        assert!(config.prune_table().is_none());
    }

    #[test]
    fn errors_name_the_line() {
        let text = "format = 1\n\ninline_threshold = \"12 parsecs\"\n";
        let err = Config::parse(Path::new("p/persist.toml"), text).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("p/persist.toml:3: inline_threshold"),
            "{message}"
        );
    }

    #[test]
    fn newer_formats_are_refused() {
        let err = Config::parse(Path::new("persist.toml"), "format = 9\n").unwrap_err();
        assert!(matches!(err, StoreError::FormatTooNew { found: 9, .. }));
    }

    #[test]
    fn remotes_are_read_in_order_and_refuse_credentials() {
        let text = "[remote.origin]\nurl = \"s3://b/p\"\noptions = { endpoint = \"http://127.0.0.1:9000\", allow_http = true }\n\n[remote.nas]\nurl = \"file:///mnt/nas\"\nfetch = false\n";
        let config = Config::parse(Path::new("persist.toml"), text).unwrap();
        let names: Vec<&str> = config.remotes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["origin", "nas"]);
        assert_eq!(
            config.remotes[0].options,
            [
                ("endpoint".to_string(), "http://127.0.0.1:9000".to_string()),
                ("allow_http".to_string(), "true".to_string())
            ]
        );
        assert!(!config.remotes[1].fetch);
        let secret = "[remote.origin]\nurl = \"s3://b\"\noptions = { secret_access_key = \"x\" }\n";
        let err = Config::parse(Path::new("persist.toml"), secret).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("persist.toml:3: [remote.origin] option"),
            "{err}"
        );
        let bad_name = "[remote.\"a b\"]\nurl = \"s3://b\"\n";
        let err = Config::parse(Path::new("persist.toml"), bad_name).unwrap_err();
        assert!(err.to_string().contains("remote name"), "{err}");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = Config::parse(Path::new("persist.toml"), "format = 1\nx = = 2\n").unwrap_err();
        assert!(err.to_string().starts_with("persist.toml:2:"), "{err}");
    }
}
