//! marimo's lazy-loader manifests (`<block>/<P>_<hash>.jsonl`, docs/MARIMO-CACHE.md §6): parsing, the
//! integrity checks of signed manifests, and what each item stands for.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
use celltime_pyvalue::value::{ClassStub, FunctionStub, ModuleStub, PyValue, QualName};
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

/// The manifest: one compact msgspec JSON object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Manifest {
    pub hash: String,
    pub cache_type: String,
    pub defs: BTreeMap<String, Item>,
    pub stateful_refs: Vec<String>,
    pub meta: Meta,
    pub ui_defs: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Meta {
    pub version: Option<i64>,
    pub return_value: Option<Item>,
    pub blob_hashes: BTreeMap<String, String>,
    pub signer_public_key: Option<String>,
    pub signature: Option<String>,
}

/// One value: at most one value field is set; `{}` is None.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Item {
    pub primitive: Option<serde_json::Value>,
    pub reference: Option<String>,
    pub module: Option<String>,
    pub module_version: Option<String>,
    pub import_ref: Option<Vec<String>>,
    pub function: Option<Vec<serde_json::Value>>,
    pub class_def: Option<Vec<serde_json::Value>>,
    pub unserializable_type: Option<String>,
    pub special_float: Option<String>,
    pub hash: Option<String>,
    pub type_hint: Option<String>,
}

pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
    // serde_json bounds nesting (128 levels), so hostile manifests fail rather than recurse.
    serde_json::from_slice(bytes).map_err(|e| format!("not a lazy-cache manifest: {e}"))
}

impl Item {
    /// True when the item's value lives in a blob file.
    pub fn is_blob(&self) -> bool {
        self.reference.is_some()
    }

    /// The value of an inline item, as the other decoders would give it.
    pub fn inline_value(&self) -> PyValue {
        if let Some(p) = &self.primitive {
            return json_value(p);
        }
        if let Some(f) = &self.special_float {
            return PyValue::Float(match f.as_str() {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => f64::NAN,
            });
        }
        if let Some(name) = &self.module {
            return PyValue::ModuleStub(ModuleStub {
                name: name.clone(),
                version: self.module_version.clone().unwrap_or_default(),
            });
        }
        if let Some(parts) = &self.import_ref {
            let module = parts.first().cloned().unwrap_or_default();
            let name = parts.get(1).cloned().unwrap_or_default();
            return PyValue::Global(QualName::new(module, name));
        }
        if let Some(fields) = &self.function {
            return PyValue::FunctionStub(Box::new(FunctionStub {
                code: str_at(fields, 0),
                filename: str_at(fields, 1),
                lineno: fields.get(2).and_then(|v| v.as_i64()).unwrap_or(0),
                is_cached: fields.get(3).and_then(|v| v.as_bool()).unwrap_or(false),
            }));
        }
        if let Some(fields) = &self.class_def {
            return PyValue::ClassStub(Box::new(ClassStub {
                code: str_at(fields, 0),
                qualname: str_at(fields, 1),
            }));
        }
        if let Some(t) = &self.unserializable_type {
            return PyValue::Str(format!("<not saved: {t} could not be serialised>"));
        }
        PyValue::None
    }
}

fn str_at(fields: &[serde_json::Value], at: usize) -> String {
    fields
        .get(at)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Recursion is bounded: serde_json refused anything deeper than its recursion limit.
fn json_value(v: &serde_json::Value) -> PyValue {
    use serde_json::Value as J;
    match v {
        J::Null => PyValue::None,
        J::Bool(b) => PyValue::Bool(*b),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => PyValue::Int(i),
            (None, Some(f)) if n.is_f64() => PyValue::Float(f),
            _ => PyValue::BigInt(n.to_string()),
        },
        J::String(s) => PyValue::Str(s.clone()),
        J::Array(items) => PyValue::List(items.iter().map(json_value).collect()),
        J::Object(map) => PyValue::Dict(
            map.iter()
                .map(|(k, v)| (PyValue::Str(k.clone()), json_value(v)))
                .collect(),
        ),
    }
}

/// What the signature of a manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    Unsigned,
    /// Valid for the embedded key. Whether that key is trusted is marimo's configuration.
    Verified {
        fingerprint: String,
    },
    Invalid {
        reason: String,
    },
}

impl std::fmt::Display for SignatureStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureStatus::Unsigned => f.write_str("unsigned"),
            SignatureStatus::Verified { fingerprint } => write!(
                f,
                "valid Ed25519 signature by {fingerprint} (whether that key is trusted is not checked)"
            ),
            SignatureStatus::Invalid { reason } => write!(f, "INVALID: {reason}"),
        }
    }
}

const SIGNING_CONTEXT: &[u8] = b"marimo-cache-manifest:v1:";
/// DER SubjectPublicKeyInfo prefix of an Ed25519 key; the 32 key bytes follow.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Checks the signature with marimo's recipe: the signed message is the context string plus
/// the manifest bytes without the `,"signature":"…"` member (it is written last).
pub fn check_signature(raw: &[u8], manifest: &Manifest) -> SignatureStatus {
    let (Some(pem), Some(signature)) = (&manifest.meta.signer_public_key, &manifest.meta.signature)
    else {
        return SignatureStatus::Unsigned;
    };
    match verify(raw, pem, signature) {
        Ok(fingerprint) => SignatureStatus::Verified { fingerprint },
        Err(reason) => SignatureStatus::Invalid { reason },
    }
}

fn verify(raw: &[u8], pem: &str, signature: &str) -> Result<String, String> {
    let der = pem_body(pem)?;
    let key_bytes: [u8; 32] = der
        .strip_prefix(&ED25519_SPKI_PREFIX[..])
        .and_then(|k| k.try_into().ok())
        .ok_or("the public key is not an Ed25519 SubjectPublicKeyInfo")?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|e| format!("bad public key: {e}"))?;
    let sig_bytes: [u8; 64] = URL_SAFE
        .decode(signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the signature is not 64 bytes of url-safe base64")?;
    let member = format!(",\"signature\":\"{signature}\"");
    let at =
        find(raw, member.as_bytes()).ok_or("the signature member is not where marimo writes it")?;
    let mut message = SIGNING_CONTEXT.to_vec();
    message.extend_from_slice(&raw[..at]);
    message.extend_from_slice(&raw[at + member.len()..]);
    key.verify(&message, &Signature::from_bytes(&sig_bytes))
        .map_err(|_| "the signature does not match the manifest".to_string())?;
    Ok(format!(
        "SHA256:{}",
        STANDARD_NO_PAD.encode(Sha256::digest(&der))
    ))
}

fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    STANDARD
        .decode(body)
        .map_err(|_| "the public key is not PEM".to_string())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_items() {
        let m = parse(br#"{"hash":"h","cache_type":"Pure","defs":{"a":{"primitive":42},"b":{"special_float":"-inf"},"c":{},"np":{"module":"numpy","module_version":"2"}},"stateful_refs":[],"meta":{"version":6,"return_value":{}}}"#).unwrap();
        assert_eq!(m.defs["a"].inline_value(), PyValue::Int(42));
        assert_eq!(
            m.defs["b"].inline_value(),
            PyValue::Float(f64::NEG_INFINITY)
        );
        assert_eq!(m.defs["c"].inline_value(), PyValue::None);
        assert!(matches!(m.defs["np"].inline_value(), PyValue::ModuleStub(s) if s.name == "numpy"));
        assert_eq!(m.meta.version, Some(6));
        assert_eq!(check_signature(b"{}", &m), SignatureStatus::Unsigned);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse(b"{\"defs\": [").is_err());
        assert!(parse(&[b'['; 10_000]).is_err());
    }
}
