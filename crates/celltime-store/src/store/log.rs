//! Transaction log segments: `log/<segment>.jsonl`, appended only by the process that
//! created the segment, one checksummed record per line:
//!
//! ```text
//! {"b3":"<16 hex: first 8 bytes of BLAKE3 of the rec text>","rec":<record JSON>}\n
//! ```
//!
//! A bad or unterminated *last* line is a torn write and is ignored; a bad line followed by
//! good ones is corruption and is reported with its line number.

use super::error::{IoContext, Result};
use super::fs::Fs;
use super::wire::WireEntry;
use crate::model::{EntryId, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const SEGMENT_SUFFIX: &str = ".jsonl";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum Record {
    Put {
        at: Timestamp,
        entry: Box<WireEntry>,
    },
    Remove {
        at: Timestamp,
        ids: Vec<EntryId>,
    },
    Pin {
        at: Timestamp,
        ids: Vec<EntryId>,
    },
    Unpin {
        at: Timestamp,
        ids: Vec<EntryId>,
    },
    /// Uses (cache hits) at `used_at`, which may be earlier than the record's `at`.
    Used {
        at: Timestamp,
        ids: Vec<EntryId>,
        used_at: Timestamp,
    },
    /// A user chose these runs as the ones marimo is served from now on (`served = at`).
    Serve {
        at: Timestamp,
        ids: Vec<EntryId>,
    },
}

impl Record {
    pub fn at(&self) -> Timestamp {
        match self {
            Record::Put { at, .. }
            | Record::Remove { at, .. }
            | Record::Pin { at, .. }
            | Record::Unpin { at, .. }
            | Record::Used { at, .. }
            | Record::Serve { at, .. } => *at,
        }
    }
}

const PREFIX: &[u8] = b"{\"b3\":\"";
const MIDDLE: &[u8] = b"\",\"rec\":";
const CHECK_HEX: usize = 16;

fn checksum(rec: &[u8]) -> String {
    let digest = blake3::hash(rec);
    digest.to_hex()[..CHECK_HEX].to_string()
}

/// One framed, checksummed line (with its newline).
pub fn encode(record: &Record) -> Vec<u8> {
    encode_line(record)
}

/// Any value as one framed, checksummed line: the framing of log segments, also used by the
/// operation log (`crate::ops`).
pub fn encode_line<T: Serialize>(value: &T) -> Vec<u8> {
    let rec = serde_json::to_vec(value).expect("records serialise");
    let mut line = Vec::with_capacity(rec.len() + 40);
    line.extend_from_slice(PREFIX);
    line.extend_from_slice(checksum(&rec).as_bytes());
    line.extend_from_slice(MIDDLE);
    line.extend_from_slice(&rec);
    line.extend_from_slice(b"}\n");
    line
}

/// Checks a line's framing and checksum and parses its record.
fn decode_line<T: DeserializeOwned>(line: &[u8]) -> std::result::Result<T, String> {
    let rest = line
        .strip_prefix(PREFIX)
        .ok_or("line does not start with {\"b3\":\"")?;
    if rest.len() < CHECK_HEX + MIDDLE.len() + 1 {
        return Err("line is too short".into());
    }
    let (sum, rest) = rest.split_at(CHECK_HEX);
    let rec = rest
        .strip_prefix(MIDDLE)
        .and_then(|r| r.strip_suffix(b"}"))
        .ok_or("line is not framed as {\"b3\":…,\"rec\":…}")?;
    if checksum(rec).as_bytes() != sum {
        return Err("checksum mismatch".into());
    }
    serde_json::from_slice(rec).map_err(|e| format!("invalid record: {e}"))
}

/// What reading a segment from some offset found.
#[derive(Debug)]
pub struct SegmentRead<T = Record> {
    /// Records with the byte offset of their line.
    pub records: Vec<(u64, T)>,
    /// Offset just after the last valid line: where folding may resume.
    pub valid_end: u64,
    /// Bytes after `valid_end` that form an incomplete or bad final line.
    pub torn_bytes: u64,
    /// A bad line followed by more lines: (1-based line number counted from `from`, reason).
    pub corrupt: Option<(usize, String)>,
}

/// Reads records from `from` to the end. Never fails on content, only on I/O.
pub fn read_segment(fs: &dyn Fs, path: &Path, from: u64) -> Result<SegmentRead> {
    let bytes = fs.read_from(path, from).at(path)?;
    Ok(parse_segment(&bytes, from))
}

pub fn parse_segment(bytes: &[u8], from: u64) -> SegmentRead {
    parse_lines(bytes, from)
}

/// Framed lines of any record type; damage is judged as for log segments (§9.3).
pub fn parse_lines<T: DeserializeOwned>(bytes: &[u8], from: u64) -> SegmentRead<T> {
    let mut read = SegmentRead {
        records: Vec::new(),
        valid_end: from,
        torn_bytes: 0,
        corrupt: None,
    };
    let mut offset = 0usize;
    let mut line_number = 0usize;
    while offset < bytes.len() {
        line_number += 1;
        let Some(newline) = bytes[offset..].iter().position(|&b| b == b'\n') else {
            read.torn_bytes = (bytes.len() - offset) as u64;
            break;
        };
        let line = &bytes[offset..offset + newline];
        let next = offset + newline + 1;
        match decode_line(line) {
            Ok(record) => {
                read.records.push((from + offset as u64, record));
                read.valid_end = from + next as u64;
            }
            Err(_) if next >= bytes.len() => {
                read.torn_bytes = (bytes.len() - offset) as u64;
                break;
            }
            Err(reason) => {
                read.corrupt = Some((line_number, reason));
                break;
            }
        }
        offset = next;
    }
    read
}

/// Appends records as one write and makes them durable before returning.
pub fn append<T: Serialize>(fs: &dyn Fs, path: &Path, records: &[T]) -> Result<u64> {
    let mut buffer = Vec::new();
    for record in records {
        buffer.extend_from_slice(&encode_line(record));
    }
    fs.append(path, &buffer).at(path)?;
    fs.sync_file(path).at(path)?;
    Ok(buffer.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: i64) -> Record {
        Record::Pin {
            at: Timestamp(n),
            ids: vec![EntryId(n as u128)],
        }
    }

    fn lines(records: &[Record]) -> Vec<u8> {
        records.iter().flat_map(encode).collect()
    }

    #[test]
    fn round_trip() {
        let bytes = lines(&[sample(1), sample(2)]);
        let read = parse_segment(&bytes, 0);
        assert_eq!(read.records.len(), 2);
        assert_eq!(read.records[1].1, sample(2));
        assert_eq!(read.valid_end, bytes.len() as u64);
        assert!(read.corrupt.is_none());
    }

    #[test]
    fn every_truncation_keeps_the_complete_prefix() {
        let bytes = lines(&[sample(1), sample(2), sample(3)]);
        let first_two = lines(&[sample(1), sample(2)]).len();
        for cut in first_two..bytes.len() {
            let read = parse_segment(&bytes[..cut], 0);
            assert_eq!(read.records.len(), 2, "cut at {cut}");
            assert!(read.corrupt.is_none(), "cut at {cut}");
            assert_eq!(read.valid_end as usize, first_two);
        }
    }

    #[test]
    fn a_flipped_byte_in_the_middle_is_corruption_with_its_line() {
        let mut bytes = lines(&[sample(1), sample(2), sample(3)]);
        let second = encode(&sample(1)).len() + 30;
        bytes[second] ^= 0x01;
        let read = parse_segment(&bytes, 0);
        assert_eq!(read.records.len(), 1);
        assert_eq!(read.corrupt.as_ref().unwrap().0, 2);
    }

    #[test]
    fn a_bad_last_line_is_a_torn_tail() {
        let mut bytes = lines(&[sample(1), sample(2)]);
        let len = bytes.len();
        bytes[len - 5] ^= 0x01;
        let read = parse_segment(&bytes, 0);
        assert_eq!(read.records.len(), 1);
        assert!(read.corrupt.is_none());
        assert!(read.torn_bytes > 0);
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    /// The exact bytes docs/FORMAT.md shows; a change here is a format change.
    #[test]
    fn encoding_is_stable() {
        let record = Record::Pin {
            at: "2026-11-25T10:00:00.000Z".parse().unwrap(),
            ids: vec!["3f2a9c1e4b5d6a7f8091a2b3c4d5e6f7".parse().unwrap()],
        };
        let line = String::from_utf8(encode(&record)).unwrap();
        assert_eq!(
            line,
            "{\"b3\":\"88345bfdf6cc5341\",\"rec\":{\"op\":\"pin\",\"at\":\"2026-11-25T10:00:00.000Z\",\"ids\":[\"3f2a9c1e4b5d6a7f8091a2b3c4d5e6f7\"]}}\n"
        );
    }
}
