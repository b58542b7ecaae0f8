//! Python values as data, never as code.
//!
//! - [`pickle`]: a pickle VM (protocols 0–5) that builds a tree of values instead of calling
//!   anything: unknown classes stay names with their arguments and state;
//! - [`npy`]: numpy's `.npy` files; [`pyjson`]: JSON as Python writes it (`NaN`, `Infinity`);
//! - [`table`]: pandas and polars frames and Arrow IPC files as tables;
//! - [`value`]: the value tree ([`PyValue`]) and a `repr`-like renderer with limits.
//!
//! Decoding is bounded (depth, sizes, counts) so hostile input costs little.

pub mod npy;
pub mod pickle;
pub mod pyjson;
#[cfg(feature = "tables")]
pub mod table;
pub mod value;

pub use value::PyValue;
