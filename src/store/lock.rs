//! The writer lock: an OS lock on `.lock`, released when its process dies, so it never goes
//! stale. It orders processes on one machine; machines sharing a synced folder never need it
//! because each writes only its own files.

use super::error::{Result, StoreError};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
pub fn acquire(path: &Path, mode: LockMode, timeout: Duration) -> Result<StoreLock> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        let attempt = match mode {
            LockMode::Shared => file.try_lock_shared(),
            LockMode::Exclusive => file.try_lock(),
        };
        match attempt {
            Ok(()) => return Ok(StoreLock { _file: file }),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::Busy {
                    path: PathBuf::from(path),
                });
            }
            Err(TryLockError::Error(source)) => {
                return Err(StoreError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
