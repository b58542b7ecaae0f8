//! Bundles: how contents travel. A bundle is one immutable remote object holding one or more
//! contents behind a table of their hashes and lengths, so many small contents cost one
//! request (restic's packs, bazel's remote cache), and a reader fetches any one of them with a
//! range request after reading the table.
//!
//! ```text
//! "CTBUNDLE"            8 bytes
//! version               u32 LE = 1
//! count                 u32 LE
//! count × (hash, len)   32 bytes BLAKE3, u64 LE
//! contents              concatenated in table order
//! ```

use crate::model::ContentHash;
use std::ops::Range;

pub const MAGIC: &[u8; 8] = b"CTBUNDLE";
pub const VERSION: u32 = 1;
const FIXED: usize = 16;
const ROW: usize = 40;
/// Bytes a reader fetches first: the whole table of a bundle of up to 1,600 contents.
pub const HEAD_PROBE: u64 = 64 * 1024;

/// The table of a bundle: where each content lies in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleTable {
    pub rows: Vec<(ContentHash, Range<u64>)>,
    /// Header length plus every content: what the object's size must be.
    pub total: u64,
}

/// What is wrong with a bundle's bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("not a celltime bundle (bad magic)")]
    Magic,
    #[error("bundle version {0} is newer than this celltime understands; upgrade celltime")]
    Version(u32),
    /// The table needs more bytes than were read: read this many from the start.
    #[error("bundle table needs {0} bytes")]
    Short(u64),
    #[error("bundle table overflows")]
    Overflow,
}

/// The header length of a bundle of `count` contents.
pub fn header_len(count: usize) -> u64 {
    (FIXED + ROW * count) as u64
}

/// The header of a bundle holding `contents` in this order.
pub fn header(contents: &[(ContentHash, u64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header_len(contents.len()) as usize);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(contents.len() as u32).to_le_bytes());
    for (hash, len) in contents {
        out.extend_from_slice(&hash.0);
        out.extend_from_slice(&len.to_le_bytes());
    }
    out
}

/// Parses the table from the first bytes of a bundle.
pub fn parse_table(head: &[u8]) -> Result<BundleTable, BundleError> {
    if head.len() < FIXED {
        return Err(BundleError::Short(FIXED as u64));
    }
    if &head[..8] != MAGIC {
        return Err(BundleError::Magic);
    }
    let version = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(BundleError::Version(version));
    }
    let count = u32::from_le_bytes(head[12..16].try_into().expect("4 bytes")) as usize;
    let needed = header_len(count);
    if (head.len() as u64) < needed {
        return Err(BundleError::Short(needed));
    }
    let mut offset = needed;
    let mut rows = Vec::with_capacity(count);
    for i in 0..count {
        let row = &head[FIXED + i * ROW..FIXED + (i + 1) * ROW];
        let hash = ContentHash(row[..32].try_into().expect("32 bytes"));
        let len = u64::from_le_bytes(row[32..].try_into().expect("8 bytes"));
        let end = offset.checked_add(len).ok_or(BundleError::Overflow)?;
        rows.push((hash, offset..end));
        offset = end;
    }
    Ok(BundleTable {
        rows,
        total: offset,
    })
}

/// Builds bundles of small contents in memory, up to a target size.
#[derive(Debug, Default)]
pub struct BundleBuilder {
    contents: Vec<(ContentHash, u64)>,
    body: Vec<u8>,
}

impl BundleBuilder {
    pub fn push(&mut self, hash: ContentHash, bytes: &[u8]) {
        self.contents.push((hash, bytes.len() as u64));
        self.body.extend_from_slice(bytes);
    }

    pub fn is_empty(&self) -> bool {
        self.contents.is_empty()
    }

    /// The bundle's size so far.
    pub fn size(&self) -> u64 {
        header_len(self.contents.len()) + self.body.len() as u64
    }

    /// The bundle's bytes, and the contents it holds with their sizes.
    pub fn finish(self) -> (Vec<u8>, Vec<(ContentHash, u64)>) {
        let mut bytes = header(&self.contents);
        bytes.extend_from_slice(&self.body);
        (bytes, self.contents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_bundle_parses_back_to_its_contents() {
        let mut builder = BundleBuilder::default();
        let items: [&[u8]; 3] = [b"alpha", b"", b"gamma gamma"];
        for item in items {
            builder.push(ContentHash::of(item), item);
        }
        let (bytes, contents) = builder.finish();
        assert_eq!(contents.len(), 3);
        let table = parse_table(&bytes).unwrap();
        assert_eq!(table.total, bytes.len() as u64);
        for ((hash, range), item) in table.rows.iter().zip(items) {
            assert_eq!(*hash, ContentHash::of(item));
            assert_eq!(&bytes[range.start as usize..range.end as usize], item);
        }
    }

    #[test]
    fn a_short_head_says_how_much_to_read() {
        let mut builder = BundleBuilder::default();
        for i in 0..10u8 {
            builder.push(ContentHash::of(&[i]), &[i]);
        }
        let (bytes, _) = builder.finish();
        assert_eq!(
            parse_table(&bytes[..20]),
            Err(BundleError::Short(header_len(10)))
        );
        assert_eq!(parse_table(b"NOTABUNDLE012345"), Err(BundleError::Magic));
        let mut newer = bytes.clone();
        newer[8] = 2;
        assert_eq!(parse_table(&newer), Err(BundleError::Version(2)));
    }

    #[test]
    fn lengths_that_overflow_are_refused() {
        let header = header(&[(ContentHash([1; 32]), u64::MAX), (ContentHash([2; 32]), 10)]);
        assert_eq!(parse_table(&header), Err(BundleError::Overflow));
    }
}
