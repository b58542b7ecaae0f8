//! marimo's own types: the `Cache` every pickle entry holds and the stub classes.

use crate::value::{
    ClassStub, FunctionStub, MarimoCache, ModuleStub, PyObject, PyValue, UIElementStub,
};

/// The attribute dict given to BUILD, if every key is a str.
fn attr_fields(obj: &PyObject) -> Option<&[(PyValue, PyValue)]> {
    match &obj.state {
        Some(PyValue::Dict(d)) if d.iter().all(|(k, _)| matches!(k, PyValue::Str(_))) => {
            Some(d.as_slice())
        }
        _ => None,
    }
}

fn field<'a>(fields: &'a [(PyValue, PyValue)], name: &str) -> Option<&'a PyValue> {
    fields
        .iter()
        .find(|(k, _)| matches!(k, PyValue::Str(s) if s == name))
        .map(|(_, v)| v)
}

fn only_keys(fields: &[(PyValue, PyValue)], allowed: &[&str]) -> bool {
    fields
        .iter()
        .all(|(k, _)| matches!(k, PyValue::Str(s) if allowed.contains(&s.as_str())))
}

fn field_str(fields: &[(PyValue, PyValue)], name: &str) -> Option<String> {
    match field(fields, name) {
        Some(PyValue::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Moves a str-keyed dict into `(String, value)` pairs; other keys are dropped, so callers
/// check the keys first.
fn into_str_pairs(pairs: Vec<(PyValue, PyValue)>) -> Vec<(String, PyValue)> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| match k {
            PyValue::Str(s) => Some((s, v)),
            _ => None,
        })
        .collect()
}

fn is_str_dict(v: &PyValue) -> bool {
    matches!(v, PyValue::Dict(d) if d.iter().all(|(k, _)| matches!(k, PyValue::Str(_))))
}

/// marimo's stub classes, recognised only when their state has exactly the expected shape
/// (anything unexpected stays a generic object, so nothing is hidden).
pub(super) fn marimo_stub(obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let stub = (|| {
        if !obj.args.is_empty() || !obj.items.is_empty() || !obj.dict_items.is_empty() {
            return None;
        }
        let f = attr_fields(&obj)?;
        match obj.class.name.as_str() {
            "ModuleStub" if only_keys(f, &["name", "hash", "version"]) => {
                Some(PyValue::ModuleStub(ModuleStub {
                    name: field_str(f, "name")?,
                    version: match field(f, "version") {
                        None | Some(PyValue::None) => String::new(),
                        Some(PyValue::Str(s)) => s.clone(),
                        Some(_) => return None,
                    },
                }))
            }
            "FunctionStub" if only_keys(f, &["code", "filename", "lineno", "is_cached"]) => {
                Some(PyValue::FunctionStub(Box::new(FunctionStub {
                    code: field_str(f, "code")?,
                    filename: field_str(f, "filename").unwrap_or_default(),
                    lineno: match field(f, "lineno") {
                        Some(PyValue::Int(n)) => *n,
                        None => 0,
                        Some(_) => return None,
                    },
                    is_cached: match field(f, "is_cached") {
                        Some(PyValue::Bool(b)) => *b,
                        None => false,
                        Some(_) => return None,
                    },
                })))
            }
            "ClassStub" if only_keys(f, &["qualname", "code"]) => {
                Some(PyValue::ClassStub(Box::new(ClassStub {
                    qualname: field_str(f, "qualname")?,
                    code: field_str(f, "code")?,
                })))
            }
            "UIElementStub" if only_keys(f, &["args", "cls", "data"]) => {
                let data = field(f, "data")?;
                if !is_str_dict(data) {
                    return None;
                }
                let PyValue::Dict(data) = data.clone() else {
                    return None;
                };
                Some(PyValue::UIElementStub(Box::new(UIElementStub {
                    class: field(f, "cls")?.clone(),
                    args: field(f, "args").cloned().unwrap_or(PyValue::None),
                    data: into_str_pairs(data),
                })))
            }
            _ => None,
        }
    })();
    stub.ok_or(obj)
}

/// `marimo._save.cache.Cache`: NEWOBJ + BUILD with the dataclass fields as state.
pub(super) fn marimo_cache(mut obj: Box<PyObject>) -> Result<PyValue, Box<PyObject>> {
    let ok = (|| {
        if !obj.args.is_empty() || !obj.items.is_empty() || !obj.dict_items.is_empty() {
            return None;
        }
        let f = attr_fields(&obj)?;
        let defs_ok = is_str_dict(field(f, "defs")?);
        let strs_ok = matches!(field(f, "hash")?, PyValue::Str(_))
            && matches!(field(f, "cache_type")?, PyValue::Str(_));
        let refs_ok = match field(f, "stateful_refs") {
            None => true,
            Some(PyValue::Set(v) | PyValue::FrozenSet(v) | PyValue::List(v)) => {
                v.iter().all(|x| matches!(x, PyValue::Str(_)))
            }
            Some(_) => false,
        };
        let hit_ok = matches!(field(f, "hit"), None | Some(PyValue::Bool(_)));
        let meta_ok = field(f, "meta").is_none_or(is_str_dict);
        (defs_ok && strs_ok && refs_ok && hit_ok && meta_ok).then_some(())
    })();
    if ok.is_none() {
        return Err(obj);
    }
    let Some(PyValue::Dict(fields)) = obj.state.take() else {
        return Err(obj);
    };
    let mut cache = MarimoCache {
        defs: Vec::new(),
        hash: String::new(),
        cache_type: String::new(),
        stateful_refs: Vec::new(),
        hit: false,
        meta: Vec::new(),
        extra: Vec::new(),
    };
    for (key, value) in into_str_pairs(fields) {
        match (key.as_str(), value) {
            ("defs", PyValue::Dict(d)) => cache.defs = into_str_pairs(d),
            ("meta", PyValue::Dict(d)) => cache.meta = into_str_pairs(d),
            ("hash", PyValue::Str(s)) => cache.hash = s,
            ("cache_type", PyValue::Str(s)) => cache.cache_type = s,
            ("hit", PyValue::Bool(b)) => cache.hit = b,
            ("stateful_refs", PyValue::Set(v) | PyValue::FrozenSet(v) | PyValue::List(v)) => {
                cache.stateful_refs = v
                    .into_iter()
                    .filter_map(|x| match x {
                        PyValue::Str(s) => Some(s),
                        _ => None,
                    })
                    .collect();
            }
            (_, value) => cache.extra.push((key, value)),
        }
    }
    Ok(PyValue::Cache(Box::new(cache)))
}
