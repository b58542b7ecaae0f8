//! The small records a remote notebook folder keeps besides its bundles: roots (what a push
//! references: gc keeps them) and marks (bundles a gc condemned: deleted by a later gc).

use crate::model::ContentHash;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

const ROOTS_MAGIC: &[u8; 8] = b"CTROOTS\0";
const ROOTS_VERSION: u32 = 1;

/// A roots file: every content a push's notebook referenced when it committed.
pub fn encode_roots(hashes: &HashSet<ContentHash>) -> Vec<u8> {
    let mut sorted: Vec<&ContentHash> = hashes.iter().collect();
    sorted.sort();
    let mut out = Vec::with_capacity(16 + 32 * sorted.len());
    out.extend_from_slice(ROOTS_MAGIC);
    out.extend_from_slice(&ROOTS_VERSION.to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for hash in sorted {
        out.extend_from_slice(&hash.0);
    }
    out
}

pub fn decode_roots(bytes: &[u8]) -> Result<Vec<ContentHash>, String> {
    if bytes.len() < 16 || &bytes[..8] != ROOTS_MAGIC {
        return Err("not a celltime roots file".into());
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != ROOTS_VERSION {
        return Err(format!(
            "roots version {version} is newer than this celltime understands; upgrade celltime"
        ));
    }
    let count = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    let body = &bytes[16..];
    if body.len() != count * 32 {
        return Err(format!(
            "roots file says {count} contents but holds {} bytes",
            body.len()
        ));
    }
    Ok(body
        .chunks_exact(32)
        .map(|c| ContentHash(c.try_into().expect("32 bytes")))
        .collect())
}

/// A gc mark: the bundles one gc run condemned. A later run deletes them once the mark is
/// older than the grace period and no root present then needs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    pub schema: String,
    pub notebook: String,
    /// Bundle file names (in `packs/`).
    pub bundles: Vec<String>,
}

pub const MARK_SCHEMA: &str = "celltime.remote-mark.v1";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_round_trip_and_refuse_damage() {
        let hashes: HashSet<ContentHash> = (0..5u8).map(|i| ContentHash::of(&[i])).collect();
        let bytes = encode_roots(&hashes);
        let back: HashSet<ContentHash> = decode_roots(&bytes).unwrap().into_iter().collect();
        assert_eq!(back, hashes);
        assert!(decode_roots(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_roots(b"CTBUNDLE\x01\0\0\0\0\0\0\0").is_err());
    }
}
