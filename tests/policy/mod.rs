//! Retention-policy planner: golden plans, properties, parse errors and reports.
//! One test binary; the modules live in tests/policy/.

mod edges;
mod fixture;
mod golden;
mod parse;
mod props;
mod report;
