//! The legacy backend on real marimo 0.25.2 caches (`tests/fixtures/marimo/`), always on a
//! copy in a temporary folder with file times set by the test (git keeps no mtimes).

pub mod fixture;

mod cli;
mod import;
mod props;
mod read;
mod scan;
mod trash;
