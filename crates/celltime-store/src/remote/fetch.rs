//! Reading through to the remotes: the store's content reader asks here for a content this
//! machine does not hold (a fresh clone carries maps, not contents), so `show`, `diff`, the
//! TUI's previews and a marimo cache hit get a teammate's pushed run on first use.

use super::catalog::Catalog;
use super::connect::Patience;
use super::{Remote, RemoteError, Result, activity};
use crate::model::{ContentHash, NotebookKey};
use crate::store::{Config, ContentSource, RemoteSettings};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a remote that failed a read is left alone: a notebook opened offline, or with a
/// server that does not answer, waits for it once, not at every cache lookup.
pub const REST: Duration = Duration::from_secs(30);

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
        resting: Mutex::new(HashMap::new()),
    }))
}

/// Connects on first use, and keeps each notebook's catalog until a content is not in it.
pub struct ReadThrough {
    remotes: Vec<RemoteSettings>,
    writer: String,
    connected: Mutex<HashMap<String, Arc<Connected>>>,
    /// Remotes whose last read failed (not a damaged content): since when, and why.
    resting: Mutex<HashMap<String, (Instant, String)>>,
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

    /// The content from one remote; the error says whether the remote itself failed (it
    /// could not be reached or listed) rather than one of its objects being damaged.
    fn fetch_from(
        &self,
        settings: &RemoteSettings,
        key: &NotebookKey,
        hash: ContentHash,
        size: u64,
    ) -> Result<Option<Vec<u8>>, (RemoteError, bool)> {
        let _busy = activity::begin(&settings.name, key.as_str(), size);
        let failed = |e| (e, true);
        let connected = self.connect(settings).map_err(failed)?;
        let mut catalog = connected.catalog(key, false).map_err(failed)?;
        if !catalog.readable(hash) {
            catalog = connected.catalog(key, true).map_err(failed)?;
        }
        let remote = &connected.remote;
        let mut last_error = None;
        for (bundle, range) in catalog.locations(hash) {
            let path = &bundle.listed.path;
            match remote.block_on(remote.get_range_if_there(path, range)) {
                Ok(Some(bytes)) if ContentHash::of(&bytes) == hash => {
                    return Ok(Some(bytes.to_vec()));
                }
                Ok(Some(_)) => last_error = Some((remote.tampered(path, hash), false)),
                Ok(None) => {
                    let gone = remote.object_error(
                        path,
                        "gone since it was listed (a gc on the remote removed it); try again",
                    );
                    last_error = Some((gone, false));
                }
                Err(e) => last_error = Some((e, true)),
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

    /// Why a remote that failed within [`REST`] is not asked now.
    fn resting(&self, name: &str) -> Option<String> {
        let resting = self.resting.lock().expect("resting remotes");
        let (since, why) = resting.get(name)?;
        (since.elapsed() < REST).then(|| {
            format!(
                "{why} (not asked again for {} s)",
                REST.saturating_sub(since.elapsed()).as_secs().max(1)
            )
        })
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
            if let Some(why) = self.resting(&settings.name) {
                errors.push(why);
                continue;
            }
            match self.fetch_from(settings, notebook, hash, size) {
                Ok(Some(bytes)) => return Ok(Some(bytes)),
                Ok(None) => {}
                Err((e, remote_failed)) => {
                    if remote_failed {
                        self.resting
                            .lock()
                            .expect("resting remotes")
                            .insert(settings.name.clone(), (Instant::now(), e.to_string()));
                    }
                    errors.push(e.to_string());
                }
            }
        }
        if errors.is_empty() {
            Ok(None)
        } else {
            Err(errors.join("; "))
        }
    }
}
