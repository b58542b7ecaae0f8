//! The index as bytes, for snapshots (`.index/`): its tables as fixed-width little-endian
//! records, read back with bounds checks and no per-field decoding. A snapshot is derived
//! data that anyone may have damaged, so every reference is checked: a damaged snapshot is
//! refused (`None`), never trusted and never a panic.

use super::NO_STRING;
use super::{Interner, NotebookIndex, ParentRow, PartRow, Row};
use crate::model::{
    CellKey, ContentHash, EntryId, MarimoKey, ModuleHash, NotebookKey, PartKind, Version,
};
use std::io::Read;
use std::sync::OnceLock;

const ROW: usize = 16 + 4 * 3 + 8 * 3 + 4 + 2 + 2 + 4 + 8 + 4 + 1;
const PART: usize = 1 + 4 * 3;
const PARENT: usize = 4 * 4 + 8;
const CONTENT: usize = 32 + 8;

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_u32(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

impl NotebookIndex {
    /// Appends the index's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        // Sized up front: a large index grown by doubling is copied over and over.
        let strings: usize = self.strings.strings.iter().map(|s| s.len() + 4).sum();
        out.reserve(
            64 + self.notebook.as_str().len()
                + strings
                + self.contents.len() * 40
                + self.rows.len() * 77
                + self.parts.len() * 13
                + self.parents.len() * 24,
        );
        put_text(out, self.notebook.as_str());
        out.push(u8::from(self.sorted));
        put_u32(out, self.strings.strings.len());
        for text in &self.strings.strings {
            put_text(out, text);
        }
        put_u32(out, self.contents.len());
        for (hash, size) in &self.contents {
            out.extend_from_slice(&hash.0);
            out.extend_from_slice(&size.to_le_bytes());
        }
        put_u32(out, self.rows.len());
        for r in &self.rows {
            out.extend_from_slice(&r.id.0.to_le_bytes());
            for n in [r.cell, r.module, r.version] {
                out.extend_from_slice(&n.to_le_bytes());
            }
            for n in [r.created_at, r.last_used] {
                out.extend_from_slice(&n.to_le_bytes());
            }
            out.extend_from_slice(&r.size.to_le_bytes());
            out.extend_from_slice(&r.parts_start.to_le_bytes());
            out.extend_from_slice(&r.parts_len.to_le_bytes());
            out.extend_from_slice(&r.parents_len.to_le_bytes());
            out.extend_from_slice(&r.parents_start.to_le_bytes());
            out.extend_from_slice(&r.served.to_le_bytes());
            out.extend_from_slice(&r.marimo_key.to_le_bytes());
            out.push(u8::from(r.pinned) | u8::from(r.alive) << 1);
        }
        put_u32(out, self.parts.len());
        for p in &self.parts {
            out.push(p.kind as u8);
            for n in [p.label, p.format, p.content] {
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        put_u32(out, self.parents.len());
        for p in &self.parents {
            for n in [p.notebook, p.cell, p.module, p.version] {
                out.extend_from_slice(&n.to_le_bytes());
            }
            out.extend_from_slice(&p.created_at.to_le_bytes());
        }
    }

    /// An index from [`NotebookIndex::encode`]'s bytes, and the bytes after it; `None` if
    /// they are not such bytes.
    pub fn decode(bytes: &[u8]) -> Option<(NotebookIndex, &[u8])> {
        let mut reader = bytes;
        let index = NotebookIndex::read_from(&mut reader)?;
        Some((index, reader))
    }

    /// An index read from a stream of [`NotebookIndex::encode`]'s bytes, a block at a time: a
    /// snapshot is decoded without first being copied whole into memory.
    pub fn read_from(reader: &mut dyn Read) -> Option<NotebookIndex> {
        let mut at = Bytes::new(reader);
        let notebook = NotebookKey::new(&at.text()?).ok()?;
        let sorted = match at.u8()? {
            0 => false,
            1 => true,
            _ => return None,
        };
        let strings: Vec<Box<str>> = (0..at.u32()?)
            .map(|_| at.text().map(String::into_boxed_str))
            .collect::<Option<_>>()?;
        let contents = at.table(CONTENT, |r| {
            Some((ContentHash(r[..32].try_into().ok()?), u64_at(r, 32)))
        })?;
        let rows = at.table(ROW, |r| {
            let flags = r[76];
            (flags <= 3).then(|| Row {
                id: EntryId(u128::from_le_bytes(r[..16].try_into().expect("16 bytes"))),
                cell: u32_at(r, 16),
                module: u32_at(r, 20),
                version: u32_at(r, 24),
                created_at: i64_at(r, 28),
                last_used: i64_at(r, 36),
                size: u64_at(r, 44),
                parts_start: u32_at(r, 52),
                parts_len: u16_at(r, 56),
                parents_len: u16_at(r, 58),
                parents_start: u32_at(r, 60),
                served: i64_at(r, 64),
                marimo_key: u32_at(r, 72),
                pinned: flags & 1 != 0,
                alive: flags & 2 != 0,
            })
        })?;
        let parts = at.table(PART, |r| {
            Some(PartRow {
                kind: *PartKind::ALL.get(r[0] as usize)?,
                label: u32_at(r, 1),
                format: u32_at(r, 5),
                content: u32_at(r, 9),
            })
        })?;
        let parents = at.table(PARENT, |r| {
            Some(ParentRow {
                notebook: u32_at(r, 0),
                cell: u32_at(r, 4),
                module: u32_at(r, 8),
                version: u32_at(r, 12),
                created_at: i64_at(r, 16),
            })
        })?;
        let index = NotebookIndex {
            notebook,
            strings: Interner {
                strings,
                ..Interner::default()
            },
            contents,
            rows,
            parts,
            parents,
            sorted,
            by_id: OnceLock::new(),
            content_ix: None,
            bulk: false,
            by_module: None,
        };
        index.is_consistent().then_some(index)
    }

    /// Every reference points inside its table, and the strings rows use as keys are valid
    /// keys (materialising a row trusts both).
    fn is_consistent(&self) -> bool {
        let strings = self.strings.strings.len();
        let in_range = |id: u32, len: usize| (id as usize) < len;
        let span_ok = |start: u32, len: u16, total: usize| {
            (start as usize)
                .checked_add(len as usize)
                .is_some_and(|end| end <= total)
        };
        let mut checked = vec![0u8; strings];
        let mut key_ok = |id: u32, bit: u8, check: fn(&str) -> bool| {
            let seen = &mut checked[id as usize];
            if *seen & bit == 0 {
                if !check(&self.strings.strings[id as usize]) {
                    return false;
                }
                *seen |= bit;
            }
            true
        };
        let rows_ok = self.rows.iter().all(|r| {
            [r.cell, r.module, r.version]
                .iter()
                .all(|&s| in_range(s, strings))
                && span_ok(r.parts_start, r.parts_len, self.parts.len())
                && span_ok(r.parents_start, r.parents_len, self.parents.len())
                && key_ok(r.cell, 1, |s| CellKey::check(s).is_ok())
                && key_ok(r.module, 2, |s| ModuleHash::check(s).is_ok())
                && key_ok(r.version, 4, |s| Version::check(s).is_ok())
                && (r.marimo_key == NO_STRING
                    || in_range(r.marimo_key, strings)
                        && key_ok(r.marimo_key, 8, |s| MarimoKey::check(s).is_ok()))
        });
        rows_ok
            && self.parts.iter().all(|p| {
                in_range(p.label, strings)
                    && in_range(p.format, strings)
                    && in_range(p.content, self.contents.len())
            })
            && self.parents.iter().all(|p| {
                [p.notebook, p.cell, p.module, p.version]
                    .iter()
                    .all(|&s| in_range(s, strings))
            })
    }
}

fn u16_at(r: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(r[at..at + 2].try_into().expect("2 bytes"))
}

fn u32_at(r: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(r[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(r: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(r[at..at + 8].try_into().expect("8 bytes"))
}

fn i64_at(r: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(r[at..at + 8].try_into().expect("8 bytes"))
}

/// Reads the encoded tables from a stream, through one reused block.
struct Bytes<'r> {
    reader: &'r mut dyn Read,
    block: Vec<u8>,
}

/// Records decoded per read: a block of at most this many bytes.
const BLOCK: usize = 256 << 10;

impl<'r> Bytes<'r> {
    fn new(reader: &'r mut dyn Read) -> Bytes<'r> {
        Bytes {
            reader,
            block: Vec::new(),
        }
    }

    /// The next `n` bytes, or `None` if the stream ends first.
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        self.block.clear();
        let read = (&mut *self.reader)
            .take(n as u64)
            .read_to_end(&mut self.block)
            .ok()?;
        (read == n).then_some(&self.block[..])
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32_at(self.take(4)?, 0))
    }

    fn text(&mut self) -> Option<String> {
        let len = self.u32()? as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }

    /// A count, then that many records of `width` bytes, read a block at a time.
    fn table<T>(&mut self, width: usize, read: impl Fn(&[u8]) -> Option<T>) -> Option<Vec<T>> {
        let count = self.u32()? as usize;
        let per_block = (BLOCK / width).max(1);
        // The count is checked against the bytes as they come: a damaged count cannot make
        // room for more than one block of records ahead of them.
        let mut records = Vec::with_capacity(count.min(per_block));
        let mut left = count;
        while left > 0 {
            let batch = left.min(per_block);
            let bytes = self.take(batch.checked_mul(width)?)?;
            for record in bytes.chunks_exact(width) {
                records.push(read(record)?);
            }
            left -= batch;
        }
        Some(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entry, ExecKey, PartRef, Timestamp};

    fn index() -> NotebookIndex {
        let nb = NotebookKey::new("nb").unwrap();
        let mut index = NotebookIndex::new(nb.clone());
        for n in 0..5 {
            let key = |cell: &str, ms| ExecKey {
                notebook: nb.clone(),
                cell: CellKey::new(cell).unwrap(),
                module: ModuleHash::new("m").unwrap(),
                version: Version::default(),
                created_at: Timestamp(ms),
            };
            index.insert(&Entry {
                key: key("c", n),
                parts: vec![PartRef {
                    kind: PartKind::Outputs,
                    label: "text/plain".into(),
                    format: String::new(),
                    content: ContentHash::of(&[n as u8]),
                    size: n as u64,
                }],
                parents: vec![key("p", 100 + n)],
                pinned: n % 2 == 0,
                last_used: Some(Timestamp(n * 7)),
                marimo_key: (n % 2 == 1)
                    .then(|| MarimoKey::new(&format!("c/C_m{n}.pickle")).unwrap()),
                served: (n == 3).then_some(Timestamp(50)),
            });
        }
        index.remove(key_id(&index, 2));
        index
    }

    fn key_id(index: &NotebookIndex, n: usize) -> EntryId {
        index.views()[n].id
    }

    #[test]
    fn encode_then_decode_is_the_same_index() {
        let index = index();
        let mut bytes = Vec::new();
        index.encode(&mut bytes);
        bytes.extend_from_slice(b"after");
        let (back, rest) = NotebookIndex::decode(&bytes).unwrap();
        assert_eq!(rest, b"after");
        assert_eq!(back.entries(), index.entries());
        assert_eq!(back.len(), index.len());
        let mut again = Vec::new();
        back.encode(&mut again);
        assert_eq!(again, bytes[..bytes.len() - 5]);
    }

    #[test]
    fn damaged_bytes_are_refused_never_trusted() {
        let mut bytes = Vec::new();
        index().encode(&mut bytes);
        for cut in 0..bytes.len() {
            assert!(
                NotebookIndex::decode(&bytes[..cut]).is_none(),
                "cut at {cut}"
            );
        }
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0xff;
            if let Some((index, _)) = NotebookIndex::decode(&damaged) {
                // Whatever a damaged snapshot says, reading it never panics.
                let _ = index.entries();
                let _ = index.summary();
            }
        }
    }
}
