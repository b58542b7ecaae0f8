//! Reading through to the remotes: the store's content reader asks here for a content this
//! machine does not hold (a fresh clone carries maps, not contents), so `show`, `diff`, the
//! TUI's previews and a marimo cache hit get a teammate's pushed run on first use.

use super::catalog::Catalog;
use super::connect::Patience;
use super::{Remote, Result, activity};
use crate::model::{ContentHash, NotebookKey};
use crate::store::{Config, ContentSource, RemoteSettings};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The content source of a store whose `persist.toml` names remotes to fetch from.
pub fn read_through(config: &Config, writer: &str) -> Option<Arc<dyn ContentSource>> {
    let remotes: Vec<RemoteSettings> = config.remotes.iter().filter(|r| r.fetch).cloned().collect();
    if remotes.is_empty() {
        return None;
    }
    Some(Arc::new(ReadThrough {
        remotes,
        writer: writer.to_string(),
        connected: Mutex::new(HashMap::new()),
    }))
}

/// Connects on first use, and keeps each notebook's catalog until a content is not in it.
pub struct ReadThrough {
    remotes: Vec<RemoteSettings>,
    writer: String,
    connected: Mutex<HashMap<String, Arc<Connected>>>,
}

impl std::fmt::Debug for ReadThrough {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.remotes.iter().map(|r| r.name.as_str()).collect();
        f.debug_struct("ReadThrough")
            .field("remotes", &names)
            .finish()
    }
}

struct Connected {
    remote: Remote,
    catalogs: Mutex<HashMap<NotebookKey, Arc<Catalog>>>,
}

impl Connected {
    fn catalog(&self, key: &NotebookKey, fresh: bool) -> Result<Arc<Catalog>> {
        if !fresh && let Some(found) = self.catalogs.lock().expect("catalogs").get(key) {
            return Ok(found.clone());
        }
        let catalog = Arc::new(self.remote.block_on(self.remote.catalog(key))?);
        self.catalogs
            .lock()
            .expect("catalogs")
            .insert(key.clone(), catalog.clone());
        Ok(catalog)
    }
}

impl ReadThrough {
    fn connect(&self, settings: &RemoteSettings) -> Result<Arc<Connected>> {
        let mut connected = self.connected.lock().expect("connections");
        if let Some(found) = connected.get(&settings.name) {
            return Ok(found.clone());
        }
        let remote = Remote::connect(settings, &self.writer, Patience::Interactive)?;
        let made = Arc::new(Connected {
            remote,
            catalogs: Mutex::new(HashMap::new()),
        });
        connected.insert(settings.name.clone(), made.clone());
        Ok(made)
    }

    fn fetch_from(
        &self,
        settings: &RemoteSettings,
        key: &NotebookKey,
        hash: ContentHash,
        size: u64,
    ) -> Result<Option<Vec<u8>>> {
        let _busy = activity::begin(&settings.name, key.as_str(), size);
        let connected = self.connect(settings)?;
        let mut catalog = connected.catalog(key, false)?;
        if !catalog.readable(hash) {
            catalog = connected.catalog(key, true)?;
        }
        let remote = &connected.remote;
        let mut last_error = None;
        for (bundle, range) in catalog.locations(hash) {
            let path = &bundle.listed.path;
            match remote.block_on(remote.get_range(path, range)) {
                Ok(bytes) if ContentHash::of(&bytes) == hash => return Ok(Some(bytes.to_vec())),
                Ok(_) => last_error = Some(remote.tampered(path, hash)),
                Err(e) => last_error = Some(e),
            }
        }
        match last_error {
            None => Ok(None),
            Some(error) => {
                // A bundle swept by a gc since the listing: list again next time.
                connected.catalogs.lock().expect("catalogs").remove(key);
                Err(error)
            }
        }
    }
}

impl ContentSource for ReadThrough {
    fn fetch(
        &self,
        notebook: &NotebookKey,
        hash: ContentHash,
        size: u64,
    ) -> std::result::Result<Option<Vec<u8>>, String> {
        let mut errors = Vec::new();
        for settings in &self.remotes {
            match self.fetch_from(settings, notebook, hash, size) {
                Ok(Some(bytes)) => return Ok(Some(bytes)),
                Ok(None) => {}
                Err(e) => errors.push(e.to_string()),
            }
        }
        if errors.is_empty() {
            Ok(None)
        } else {
            Err(errors.join("; "))
        }
    }
}
