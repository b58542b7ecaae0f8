//! Named crash points for tests: with the `failpoints` feature, a process whose
//! `CELLTIME_FAILPOINT` names a point (comma-separated) aborts there, as a crash would.
//! Without the feature every point compiles to nothing.

#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    use std::sync::OnceLock;
    static ARMED: OnceLock<Vec<String>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| {
        std::env::var("CELLTIME_FAILPOINT")
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    });
    if armed.iter().any(|a| a == name) {
        eprintln!("celltime: failpoint {name}: aborting");
        std::process::abort();
    }
}

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &str) {}
