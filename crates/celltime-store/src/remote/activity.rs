//! Fetches in flight in this process, so a UI can say what it is waiting for while a read
//! that fell through to a remote runs on a worker thread.

use std::sync::Mutex;
use std::time::Instant;

/// One content being fetched from a remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetching {
    pub remote: String,
    pub notebook: String,
    pub bytes: u64,
    pub since: Instant,
}

static IN_FLIGHT: Mutex<Vec<(u64, Fetching)>> = Mutex::new(Vec::new());
static NEXT: Mutex<u64> = Mutex::new(0);

/// The fetches running now, oldest first.
pub fn fetching() -> Vec<Fetching> {
    IN_FLIGHT
        .lock()
        .map(|v| v.iter().map(|(_, f)| f.clone()).collect())
        .unwrap_or_default()
}

/// Registers a fetch until the guard is dropped.
pub(crate) fn begin(remote: &str, notebook: &str, bytes: u64) -> Guard {
    let id = {
        let mut next = NEXT.lock().expect("fetch counter");
        *next += 1;
        *next
    };
    if let Ok(mut v) = IN_FLIGHT.lock() {
        v.push((
            id,
            Fetching {
                remote: remote.to_string(),
                notebook: notebook.to_string(),
                bytes,
                since: Instant::now(),
            },
        ));
    }
    Guard(id)
}

#[derive(Debug)]
pub(crate) struct Guard(u64);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(mut v) = IN_FLIGHT.lock() {
            v.retain(|(id, _)| *id != self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fetch_is_listed_until_its_guard_drops() {
        let guard = begin("origin", "nb-activity-test", 42);
        assert!(
            fetching()
                .iter()
                .any(|f| f.notebook == "nb-activity-test" && f.bytes == 42)
        );
        drop(guard);
        assert!(!fetching().iter().any(|f| f.notebook == "nb-activity-test"));
    }
}
