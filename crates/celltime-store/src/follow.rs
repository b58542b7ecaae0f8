//! Following a workspace as it changes: file-system notifications (`notify`: inotify, FSEvents,
//! kqueue, ReadDirectoryChangesW) on celltime's store and marimo's cache folder, debounced into
//! one [`Changed`] per burst of writes. No polling. The TUI, `import --watch` and the Python
//! side share it.
//!
//! A folder that does not exist yet (no marimo run so far), or that is deleted and made again,
//! is followed through its nearest existing parent: its creation re-arms the watch. Access
//! events (celltime's own reads open files too) and celltime's own scratch files (`.lock`,
//! `.index/`, `.ops/`, temp files, the cache's trash) are not changes.

use notify::event::EventKind;
use notify::{Config, Event, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Quiet time that ends a burst of writes: short enough that a new run shows within a
/// second, long enough that one run's files arrive as one change.
pub const DEBOUNCE: Duration = Duration::from_millis(200);
/// The longest a change waits while writes keep coming.
const MAX_DELAY: Duration = Duration::from_millis(800);

/// What changed in one burst.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changed {
    /// Something in celltime's store (entries, maps, logs, contents).
    pub store: bool,
    /// Something in marimo's cache folder (or the folder itself appeared or vanished).
    pub cache: bool,
    /// The watcher reported a problem (events may have been lost): listings should be
    /// rebuilt from disk, which is what a change asks for anyway.
    pub error: Option<String>,
}

impl Changed {
    pub fn any(&self) -> bool {
        self.store || self.cache || self.error.is_some()
    }
}

/// The folders to follow; either may not exist yet.
#[derive(Debug, Clone)]
pub struct Targets {
    pub store: PathBuf,
    pub cache: PathBuf,
}

enum Msg {
    Event(notify::Result<Event>),
    Stop,
}

/// A running follower; dropping it stops it.
pub struct Follow {
    stop: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl Follow {
    /// Starts following `targets`, calling `on_change` once per debounced burst of changes,
    /// from a thread of its own.
    pub fn start(
        targets: Targets,
        mut on_change: impl FnMut(Changed) + Send + 'static,
    ) -> notify::Result<Follow> {
        let (tx, rx) = channel::<Msg>();
        let events = tx.clone();
        let watcher = RecommendedWatcher::new(
            move |event| {
                let _ = events.send(Msg::Event(event));
            },
            Config::default().with_follow_symlinks(false),
        )?;
        let mut armed = Armed {
            watcher,
            watched: BTreeSet::new(),
            targets,
            rearm: false,
        };
        armed.arm();
        let thread = std::thread::Builder::new()
            .name("celltime-follow".into())
            .spawn(move || armed.run(&rx, &mut on_change))
            .map_err(|e| notify::Error::generic(&e.to_string()))?;
        Ok(Follow {
            stop: tx,
            thread: Some(thread),
        })
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.stop.send(Msg::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Armed {
    watcher: RecommendedWatcher,
    /// (path, recursive) pairs being watched.
    watched: BTreeSet<(PathBuf, bool)>,
    targets: Targets,
    /// A target or one of its parents appeared, vanished or moved: watch afresh.
    rearm: bool,
}

impl Armed {
    /// Watches each target recursively where it exists, and its nearest existing parent
    /// non-recursively (to see it appear, vanish and come back). Returns which targets got a
    /// new watch: whatever was written into them before it counts as changed.
    fn arm(&mut self) -> Changed {
        let targets = [self.targets.store.clone(), self.targets.cache.clone()];
        if std::mem::take(&mut self.rearm) {
            // A folder deleted and made again between two looks is a new folder: its old
            // watch (if the platform kept one) no longer sees anything.
            for target in &targets {
                let _ = self.watcher.unwatch(target);
                self.watched.remove(&(target.clone(), true));
            }
        }
        self.watched.retain(|(path, _)| path.exists());
        let mut fresh = [false; 2];
        for (at, target) in targets.iter().enumerate() {
            if target.is_dir() {
                fresh[at] = self.watch(target, true);
            }
            if let Some(parent) = nearest_existing_parent(target) {
                self.watch(&parent, false);
            }
        }
        Changed {
            store: fresh[0],
            cache: fresh[1],
            error: None,
        }
    }

    /// Adds a watch; true when it is new.
    fn watch(&mut self, path: &Path, recursive: bool) -> bool {
        let key = (path.to_path_buf(), recursive);
        if self.watched.contains(&key) {
            return false;
        }
        let mode = if recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        let added = self.watcher.watch(path, mode).is_ok();
        if added {
            self.watched.insert(key);
        }
        added
    }

    fn run(&mut self, rx: &Receiver<Msg>, on_change: &mut impl FnMut(Changed)) {
        loop {
            let mut changed = Changed::default();
            // Wait for the first change of a burst.
            loop {
                match rx.recv() {
                    Ok(Msg::Event(event)) => {
                        self.note(event, &mut changed);
                        if changed.any() {
                            break;
                        }
                    }
                    Ok(Msg::Stop) | Err(_) => return,
                }
            }
            // Then until the writes pause.
            let started = Instant::now();
            loop {
                let left = MAX_DELAY.saturating_sub(started.elapsed());
                match rx.recv_timeout(DEBOUNCE.min(left)) {
                    Ok(Msg::Event(event)) => self.note(event, &mut changed),
                    Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    Err(RecvTimeoutError::Timeout) => break,
                }
                if started.elapsed() >= MAX_DELAY {
                    break;
                }
            }
            let fresh = self.arm();
            changed.store |= fresh.store;
            changed.cache |= fresh.cache;
            on_change(changed);
        }
    }

    fn note(&mut self, event: notify::Result<Event>, changed: &mut Changed) {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                changed.error = Some(e.to_string());
                return;
            }
        };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let targets = [&self.targets.store, &self.targets.cache];
        if event
            .paths
            .iter()
            .any(|p| targets.iter().any(|t| t.starts_with(p)))
        {
            // A target, or a folder on the way to it, changed: watch afresh right away, so
            // the writes that follow in a new folder are seen.
            self.rearm = true;
            let fresh = self.arm();
            changed.store |= fresh.store;
            changed.cache |= fresh.cache;
        }
        for path in &event.paths {
            match classify(&self.targets, path) {
                Some(Side::Store) => changed.store = true,
                Some(Side::Cache) => changed.cache = true,
                None => {}
            }
        }
    }
}

enum Side {
    Store,
    Cache,
}

/// Which target a changed path belongs to, if the change matters.
fn classify(targets: &Targets, path: &Path) -> Option<Side> {
    let (side, rel) = if let Ok(rel) = path.strip_prefix(&targets.store) {
        (Side::Store, rel)
    } else if let Ok(rel) = path.strip_prefix(&targets.cache) {
        (Side::Cache, rel)
    } else {
        return None;
    };
    let scratch = rel.components().any(|c| {
        let name = c.as_os_str().to_string_lossy();
        name == ".lock"
            || name == ".index"
            || name == crate::ops::OPS_DIR
            || name == crate::legacy::trash::TRASH_DIR
            || name.starts_with(".tmp-")
            || name.ends_with("-journal")
    });
    (!scratch).then_some(side)
}

fn nearest_existing_parent(path: &Path) -> Option<PathBuf> {
    let mut at = path.parent();
    while let Some(dir) = at {
        if dir.is_dir() {
            return Some(dir.to_path_buf());
        }
        at = dir.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Targets {
        Targets {
            store: PathBuf::from("/w/__marimo__/persist"),
            cache: PathBuf::from("/w/__marimo__/cache"),
        }
    }

    #[test]
    fn scratch_files_and_other_folders_are_not_changes() {
        let t = targets();
        let side = |p: &str| classify(&t, Path::new(p)).map(|s| matches!(s, Side::Store));
        assert_eq!(side("/w/__marimo__/persist/nb/log/a.jsonl"), Some(true));
        assert_eq!(
            side("/w/__marimo__/persist"),
            Some(true),
            "the store appeared"
        );
        assert_eq!(side("/w/__marimo__/cache/block/P_x.pickle"), Some(false));
        for quiet in [
            "/w/__marimo__/persist/nb/.lock",
            "/w/__marimo__/persist/nb/.index/map-1.bin",
            "/w/__marimo__/persist/.ops/w-1.jsonl",
            "/w/__marimo__/persist/nb/.tmp-map.toml-1",
            "/w/__marimo__/cache/.celltime-trash/b/x.pickle",
            "/w/__marimo__/session/nb.py.json",
        ] {
            assert_eq!(side(quiet), None, "{quiet}");
        }
    }
}
