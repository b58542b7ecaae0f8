//! Reading one entry's values: the `Cache` of a pickle or json entry, or a lazy manifest and
//! its blobs. Bounded: files over [`MAX_ENTRY_BYTES`] are refused, and the decoders stop at
//! their limits.

use super::error::{AtPath, LegacyError, Result};
use super::lazy::{self, SignatureStatus};
use super::names::Loader;
use super::scan::LegacyEntry;
use crate::store::fs::read_regular;
use celltime_pyvalue::pickle::{self, Limits};
use celltime_pyvalue::pyjson;
use celltime_pyvalue::value::{FunctionStub, MarimoCache, PyValue};
use std::path::Path;

/// The largest entry or blob file read.
pub const MAX_ENTRY_BYTES: u64 = 256 << 20;

pub fn limits() -> Limits {
    Limits {
        max_input: MAX_ENTRY_BYTES as usize,
        ..Limits::default()
    }
}

/// Reads `<root>/<rel>`: a regular file (links are not followed) of bounded size.
pub fn read_file(root: &Path, rel: &str) -> Result<Vec<u8>> {
    let path = root.join(rel);
    read_regular(&path, MAX_ENTRY_BYTES).at(&path)
}

/// Where a value is.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// Decoded from the entry file (pickle/json entries, lazy inline items).
    Inline(PyValue),
    /// A blob file of a lazy entry (relative to the cache root), with its format.
    Blob {
        rel: String,
        format: String,
        size: u64,
    },
    /// The manifest points at a blob that is not there.
    Missing(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// The variable name, or `return` for a function's return value (a keyword, so never a
    /// variable name).
    pub name: String,
    pub slot: Slot,
}

/// An entry's contents and facts.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub cache_type: String,
    pub hash: String,
    pub version: Option<i64>,
    pub runtime: Option<f64>,
    pub stateful_refs: Vec<String>,
    pub values: Vec<Value>,
    /// Lazy entries only.
    pub signature: Option<SignatureStatus>,
    /// Lazy entries with `blob_hashes`: (blob, matches).
    pub blob_hashes: Vec<(String, bool)>,
}

impl Decoded {
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|v| v.name == name)
    }

    /// Function stubs among the values: their source and the notebook file they came from.
    pub fn function_stubs(&self) -> Vec<&FunctionStub> {
        self.values
            .iter()
            .filter_map(|v| match &v.slot {
                Slot::Inline(PyValue::FunctionStub(s)) => Some(s.as_ref()),
                _ => None,
            })
            .collect()
    }
}

pub fn decode_entry(root: &Path, entry: &LegacyEntry) -> Result<Decoded> {
    let bytes = read_file(root, &entry.rel_path)?;
    let path = root.join(&entry.rel_path);
    match entry.name.loader {
        Loader::Pickle => {
            let value = pickle::decode(&bytes, &limits())
                .map_err(|e| LegacyError::invalid(&path, format!("unreadable pickle: {e}")))?;
            match value {
                PyValue::Cache(cache) => Ok(from_cache(*cache)),
                _ => Err(LegacyError::invalid(
                    &path,
                    "the pickle holds no marimo Cache object",
                )),
            }
        }
        Loader::Json => {
            let value = pyjson::parse(&bytes, pyjson::DEFAULT_MAX_DEPTH)
                .map_err(|e| LegacyError::invalid(&path, format!("unreadable JSON: {e}")))?;
            from_json(value).ok_or_else(|| LegacyError::invalid(&path, "not a marimo cache object"))
        }
        Loader::Lazy => {
            let manifest = lazy::parse(&bytes).map_err(|e| LegacyError::invalid(&path, e))?;
            Ok(from_manifest(root, entry, &bytes, manifest))
        }
    }
}

fn from_cache(cache: MarimoCache) -> Decoded {
    let mut values: Vec<Value> = cache
        .defs
        .iter()
        .map(|(name, v)| Value {
            name: name.clone(),
            slot: Slot::Inline(v.clone()),
        })
        .collect();
    if let Some(ret) = cache.meta_get("return") {
        values.push(Value {
            name: "return".into(),
            slot: Slot::Inline(ret.clone()),
        });
    }
    Decoded {
        version: as_int(cache.meta_get("version")),
        runtime: as_float(cache.meta_get("runtime")),
        cache_type: cache.cache_type,
        hash: cache.hash,
        stateful_refs: cache.stateful_refs,
        values,
        signature: None,
        blob_hashes: Vec::new(),
    }
}

fn as_int(v: Option<&PyValue>) -> Option<i64> {
    match v? {
        PyValue::Int(i) => Some(*i),
        _ => None,
    }
}

fn as_float(v: Option<&PyValue>) -> Option<f64> {
    match v? {
        PyValue::Float(f) => Some(*f),
        PyValue::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn get<'a>(dict: &'a [(PyValue, PyValue)], key: &str) -> Option<&'a PyValue> {
    dict.iter()
        .find(|(k, _)| matches!(k, PyValue::Str(s) if s == key))
        .map(|(_, v)| v)
}

fn text(v: Option<&PyValue>) -> String {
    match v {
        Some(PyValue::Str(s)) => s.clone(),
        _ => String::new(),
    }
}

/// `json.dumps(dataclasses.asdict(cache))`: the same fields as the pickle's `Cache`.
fn from_json(value: PyValue) -> Option<Decoded> {
    let PyValue::Dict(top) = value else {
        return None;
    };
    let Some(PyValue::Dict(defs)) = get(&top, "defs") else {
        return None;
    };
    let meta = match get(&top, "meta") {
        Some(PyValue::Dict(m)) => m.clone(),
        _ => Vec::new(),
    };
    let mut values: Vec<Value> = defs
        .iter()
        .filter_map(|(k, v)| match k {
            PyValue::Str(name) => Some(Value {
                name: name.clone(),
                slot: Slot::Inline(v.clone()),
            }),
            _ => None,
        })
        .collect();
    if let Some(ret) = get(&meta, "return") {
        values.push(Value {
            name: "return".into(),
            slot: Slot::Inline(ret.clone()),
        });
    }
    let stateful_refs = match get(&top, "stateful_refs") {
        Some(PyValue::List(items)) => items.iter().map(|i| text(Some(i))).collect(),
        _ => Vec::new(),
    };
    Some(Decoded {
        cache_type: text(get(&top, "cache_type")),
        hash: text(get(&top, "hash")),
        version: as_int(get(&meta, "version")),
        runtime: as_float(get(&meta, "runtime")),
        stateful_refs,
        values,
        signature: None,
        blob_hashes: Vec::new(),
    })
}

fn from_manifest(root: &Path, entry: &LegacyEntry, raw: &[u8], m: lazy::Manifest) -> Decoded {
    let mut values: Vec<Value> = m
        .defs
        .iter()
        .map(|(name, item)| Value {
            name: name.clone(),
            slot: slot_of(entry, item),
        })
        .collect();
    if let Some(ret) = &m.meta.return_value
        && (ret.is_blob() || ret.inline_value() != PyValue::None)
    {
        values.push(Value {
            name: "return".into(),
            slot: slot_of(entry, ret),
        });
    }
    let blob_hashes = m
        .meta
        .blob_hashes
        .iter()
        .map(|(key, expected)| {
            let ok = entry.blobs().iter().any(|b| b.rel == *key)
                && read_file(root, key).is_ok_and(|bytes| lazy::sha256_hex(&bytes) == *expected);
            (key.clone(), ok)
        })
        .collect();
    Decoded {
        signature: Some(lazy::check_signature(raw, &m)),
        blob_hashes,
        cache_type: m.cache_type,
        hash: m.hash,
        version: m.meta.version,
        runtime: None,
        stateful_refs: m.stateful_refs,
        values,
    }
}

/// A reference is only followed to a blob of this entry's own folder: a manifest cannot make
/// celltime read anything else.
fn slot_of(entry: &LegacyEntry, item: &lazy::Item) -> Slot {
    let Some(reference) = &item.reference else {
        return Slot::Inline(item.inline_value());
    };
    match entry.blobs().iter().find(|b| b.rel == *reference) {
        Some(blob) => Slot::Blob {
            rel: blob.rel.clone(),
            format: blob
                .rel
                .rsplit_once('.')
                .map_or("bin", |(_, ext)| ext)
                .to_string(),
            size: blob.size,
        },
        None => Slot::Missing(reference.clone()),
    }
}

/// The preview text of one value, as `show` and the TUI print it. A function or class defined
/// in the notebook is kept as its source, so the source is shown too.
pub fn render_value(value: &PyValue) -> String {
    let mut text =
        celltime_pyvalue::value::render(value, &celltime_pyvalue::value::RenderOptions::default())
            .join("\n");
    text.push('\n');
    let source = match value {
        PyValue::FunctionStub(stub) => Some(&stub.code),
        PyValue::ClassStub(stub) => Some(&stub.code),
        _ => None,
    };
    if let Some(code) = source {
        let shown: String = code.chars().take(64 * 1024).collect();
        text.push_str(&shown);
        if !shown.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}
