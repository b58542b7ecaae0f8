//! The writer lock: an OS lock on `.lock`, released when its process dies, so it never goes
//! stale. It orders processes on one machine; machines sharing a synced folder never need it
//! because each writes only its own files.

use super::error::{Result, StoreError};
use super::fs::{explain_link, no_links_no_blocking};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Shared,
    Exclusive,
}

/// Waits up to `timeout` for the lock at `path` (created if missing).
///
/// After a failed first try the wait is a blocking lock in a helper thread: the kernel queues
/// the waiter and wakes it when the lock is released, so a process that locks in a tight loop
/// (a kernel writing runs) cannot starve it the way polling would be starved.
/// A `.lock` that is a link (even a dangling one) or not a regular file is refused: following
/// it would create or lock a file outside the store.
pub fn acquire(path: &Path, mode: LockMode, timeout: Duration) -> Result<StoreLock> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    no_links_no_blocking(&mut options);
    let file = options
        .open(path)
        .map_err(|source| io_error(path, explain_link(path, source)))?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(StoreError::invalid(
            path,
            None,
            "not a regular file; remove it (celltime makes a new one)",
        ));
    }
    let attempt = match mode {
        LockMode::Shared => file.try_lock_shared(),
        LockMode::Exclusive => file.try_lock(),
    };
    match attempt {
        Ok(()) => return Ok(StoreLock { _file: file }),
        Err(TryLockError::Error(source)) => return Err(io_error(path, source)),
        Err(TryLockError::WouldBlock) if timeout.is_zero() => return Err(busy(path)),
        Err(TryLockError::WouldBlock) => {}
    }
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let locked = match mode {
            LockMode::Shared => file.lock_shared(),
            LockMode::Exclusive => file.lock(),
        };
        // If the caller gave up meanwhile, the send fails and dropping the file releases the lock.
        let _ = sender.send(locked.map(|()| file));
    });
    match receiver.recv_timeout(timeout) {
        Ok(Ok(file)) => Ok(StoreLock { _file: file }),
        Ok(Err(source)) => Err(io_error(path, source)),
        Err(_) => Err(busy(path)),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn busy(path: &Path) -> StoreError {
    StoreError::Busy {
        path: PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiter_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".lock");
        let held = acquire(&path, LockMode::Exclusive, Duration::ZERO).unwrap();
        let waiting = {
            let path = path.clone();
            std::thread::spawn(move || {
                acquire(&path, LockMode::Exclusive, Duration::from_secs(60)).is_ok()
            })
        };
        drop(held);
        assert!(waiting.join().unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_is_refused_and_nothing_is_created_where_it_points() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        let path = dir.path().join(".lock");
        std::os::unix::fs::symlink(&outside, &path).unwrap();
        let err = acquire(&path, LockMode::Shared, Duration::ZERO).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(!outside.exists());
    }

    #[test]
    fn exclusive_excludes_and_releases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".lock");
        let held = acquire(&path, LockMode::Exclusive, Duration::ZERO).unwrap();
        let err = acquire(&path, LockMode::Shared, Duration::ZERO).unwrap_err();
        assert!(matches!(err, StoreError::Busy { .. }));
        drop(held);
        let _a = acquire(&path, LockMode::Shared, Duration::ZERO).unwrap();
        let _b = acquire(&path, LockMode::Shared, Duration::ZERO).unwrap();
    }
}
