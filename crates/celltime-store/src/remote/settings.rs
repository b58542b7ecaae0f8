//! Adding and removing remotes in `persist.toml` (comments and layout kept), and the
//! `.gitignore` lines that leave contents to the remote.

use super::connect::{self, Patience};
use super::{RemoteError, Result};
use crate::store::fs::write_atomic;
use crate::store::{
    GITIGNORE, IoContext, RemoteSettings, Store, check_remote_name, gitignore_text,
    is_secret_option,
};
use toml_edit::{InlineTable, Item, Table, value};

/// Records a remote in `persist.toml`, after checking its name, URL and options (no request
/// is made). Credentials are refused: they belong in the environment or a cloud profile.
pub fn add_remote(store: &Store, settings: &RemoteSettings) -> Result<()> {
    check_remote_name(&settings.name).map_err(RemoteError::Usage)?;
    if let Some((key, _)) = settings.options.iter().find(|(k, _)| is_secret_option(k)) {
        return Err(RemoteError::Usage(format!(
            "option {key:?} looks like a credential: keep credentials in the environment or your cloud profile, not in persist.toml"
        )));
    }
    let mut config = store.config().clone();
    let path = config.path().display().to_string();
    if config.remotes.iter().any(|r| r.name == settings.name) {
        return Err(RemoteError::Usage(format!(
            "{path} already has a remote named {:?}; remove it first (`celltime remote rm {}`)",
            settings.name, settings.name
        )));
    }
    connect::connect(settings, Patience::Interactive)?;
    let first = config.remotes.is_empty();
    let doc = config.document_mut();
    if !doc.contains_key("remote") {
        let mut remotes = Table::new();
        remotes.set_implicit(true);
        doc.insert("remote", Item::Table(remotes));
    }
    let remotes = doc["remote"]
        .as_table_mut()
        .ok_or_else(|| RemoteError::Usage(format!("{path}: remote is not a table")))?;
    let mut table = Table::new();
    table["url"] = value(settings.url.as_str());
    if !settings.fetch {
        table["fetch"] = value(false);
    }
    if !settings.options.is_empty() {
        let mut options = InlineTable::new();
        for (key, text) in &settings.options {
            options.insert(key, text.as_str().into());
        }
        table["options"] = value(options);
    }
    if first {
        table.decor_mut().set_prefix(
            "\n# Where `celltime push` and `pull` share contents (docs/FORMAT.md §17). Credentials come\n# from each cloud's environment variables and profiles, never from this file.\n",
        );
    }
    remotes.insert(&settings.name, Item::Table(table));
    config.save(store.context().fs.as_ref())?;
    Ok(())
}

/// Removes a remote from `persist.toml`. Nothing on the remote is touched.
pub fn remove_remote(store: &Store, name: &str) -> Result<()> {
    let mut config = store.config().clone();
    if !config.remotes.iter().any(|r| r.name == name) {
        return Err(RemoteError::Unknown {
            name: name.to_string(),
            config: config.path().display().to_string(),
        });
    }
    let doc = config.document_mut();
    if let Some(remotes) = doc.get_mut("remote").and_then(Item::as_table_mut) {
        remotes.remove(name);
        if remotes.is_empty() {
            doc.remove("remote");
        }
    }
    config.save(store.context().fs.as_ref())?;
    Ok(())
}

const CONTENT_LINES: &str = "# contents travel through the remote (celltime push / pull); git carries maps and logs\npacks/\nobjects/\n";

/// Lists `packs/` and `objects/` in `persist/.gitignore` (keeping what it says), so git
/// carries maps and logs and the remote carries contents. Returns false when they were there.
pub fn ignore_contents_in_git(store: &Store) -> Result<bool> {
    let fs = store.context().fs.as_ref();
    let path = store.persist_dir().join(GITIGNORE);
    let current = match fs.read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => gitignore_text(),
        Err(e) => return Err(e).at(&path).map_err(Into::into),
    };
    let listed = |pattern: &str| current.lines().any(|l| l.trim() == pattern);
    if listed("packs/") && listed("objects/") {
        return Ok(false);
    }
    let mut text = current.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(CONTENT_LINES);
    fs.create_dir_all(store.persist_dir())
        .at(store.persist_dir())?;
    write_atomic(fs, &path, text.as_bytes()).at(&path)?;
    Ok(true)
}
