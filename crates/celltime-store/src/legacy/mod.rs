//! marimo's legacy `__marimo__/cache` folder: reading, previewing, pruning (through a trash
//! that can be undone) and importing into celltime's store. Nothing here executes Python:
//! pickles are interpreted as data only.
//!
//! - [`scan`]: find the cache folder and list its entries ([`names`] says what names mean);
//! - [`decode`]: one entry's values (pickle, json and [`lazy`] manifests, decoded by
//!   [`celltime_pyvalue`]);
//! - [`source`], [`session`], [`link`]: tie entries to notebooks, cells, code and outputs;
//! - [`history`]: all of it as a [`crate::model::History`];
//! - [`trash`]: reversible removal; [`import`]: copying into the store, once or watching.

pub mod decode;
pub mod error;
pub mod history;
pub mod import;
pub mod lazy;
pub mod link;
pub mod names;
pub mod scan;
pub mod session;
pub mod source;
pub mod trash;

pub use error::LegacyError;
pub use history::LegacyHistory;
pub use import::{ImportKeys, ImportProgress, ImportReport, Watcher, import, import_with, watch};
