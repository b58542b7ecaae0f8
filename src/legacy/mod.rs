//! Readers for marimo's legacy `__marimo__/cache` files. Nothing here executes Python:
//! pickles are interpreted as data only.

pub mod npy;
pub mod pickle;
pub mod pyjson;
pub mod value;
