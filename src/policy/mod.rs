//! Retention policies.

pub mod units;
