//! The Python-value decoders on real CPython, numpy and marimo output (fixtures made by
//! `tests/data/make.py`, committed with it).

#[cfg(feature = "tables")]
mod frames;
mod fuzz_corpus;
mod pickle_decode;
mod values_corpus;
