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
/// A writer continues its machine's newest segment until it reaches this size (consolidation
/// normally retires segments long before).
pub const SEGMENT_ROLLOVER: u64 = 8 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "op",
    rename_all = "lowercase",
    deny_unknown_fields,
    try_from = "RawRecord"
)]
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

/// A record as read, before its op's fields are checked. serde reads an internally tagged
/// enum through a buffered copy of every value; this reads each line once.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    op: Op,
    at: Timestamp,
    entry: Option<Box<WireEntry>>,
    ids: Option<Vec<EntryId>>,
    used_at: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Op {
    Put,
    Remove,
    Pin,
    Unpin,
    Used,
    Serve,
}

impl TryFrom<RawRecord> for Record {
    type Error = String;

    fn try_from(raw: RawRecord) -> std::result::Result<Record, String> {
        let RawRecord {
            op,
            at,
            entry,
            ids,
            used_at,
        } = raw;
        let record = match (op, entry, ids, used_at) {
            (Op::Put, Some(entry), None, None) => Record::Put { at, entry },
            (Op::Remove, None, Some(ids), None) => Record::Remove { at, ids },
            (Op::Pin, None, Some(ids), None) => Record::Pin { at, ids },
            (Op::Unpin, None, Some(ids), None) => Record::Unpin { at, ids },
            (Op::Used, None, Some(ids), Some(used_at)) => Record::Used { at, ids, used_at },
            (Op::Serve, None, Some(ids), None) => Record::Serve { at, ids },
            _ => return Err("fields do not match the record's op".into()),
        };
        Ok(record)
    }
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
    let expected = std::str::from_utf8(sum)
        .ok()
        .and_then(crate::model::decode_hex::<{ CHECK_HEX / 2 }>);
    let digest = blake3::hash(rec);
    let lower_case = !sum.iter().any(u8::is_ascii_uppercase);
    if !lower_case || expected.is_none_or(|e| e[..] != digest.as_bytes()[..CHECK_HEX / 2]) {
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
pub fn parse_lines<T: DeserializeOwned + Send>(bytes: &[u8], from: u64) -> SegmentRead<T> {
    parse_in_pieces(
        bytes,
        from,
        crate::parallel::piece_count(bytes.len(), PARALLEL_PIECE),
    )
}

/// Lines are independent, so large tails are decoded on all cores; the pieces are then
/// joined in order, stopping at the first bad line as a sequential read would.
fn parse_in_pieces<T: DeserializeOwned + Send>(
    bytes: &[u8],
    from: u64,
    count: usize,
) -> SegmentRead<T> {
    let pieces = crate::parallel::line_pieces(bytes, count);
    let decoded = crate::parallel::map_shares(&pieces, |share| {
        share
            .iter()
            .map(|range| decode_lines(&bytes[range.clone()], range.start))
            .collect::<Vec<_>>()
    });
    let mut read = SegmentRead {
        records: Vec::new(),
        valid_end: from,
        torn_bytes: 0,
        corrupt: None,
    };
    let mut lines_before = 0;
    for piece in decoded.into_iter().flatten() {
        let complete = piece.records.last().map(|(_, end, _)| *end);
        read.records.extend(
            piece
                .records
                .into_iter()
                .map(|(offset, _, record)| (from + offset as u64, record)),
        );
        if let Some(end) = complete {
            read.valid_end = from + end as u64;
        }
        match piece.stop {
            None => lines_before += piece.lines,
            Some(Stop::Unterminated { offset }) => {
                read.torn_bytes = (bytes.len() - offset) as u64;
                break;
            }
            Some(Stop::Bad { offset, next, .. }) if next >= bytes.len() => {
                read.torn_bytes = (bytes.len() - offset) as u64;
                break;
            }
            Some(Stop::Bad { reason, .. }) => {
                read.corrupt = Some((lines_before + piece.lines, reason));
                break;
            }
        }
    }
    read
}

/// Below this many bytes per piece a log tail is read on one thread.
const PARALLEL_PIECE: usize = 1 << 20;

/// Why decoding a piece stopped early.
enum Stop {
    /// The last bytes have no newline.
    Unterminated { offset: usize },
    /// A line that does not decode, and where the line after it starts.
    Bad {
        offset: usize,
        next: usize,
        reason: String,
    },
}

/// The lines of one piece: records with their offset and the offset after their line, the
/// number of lines read (the bad one included), and why it stopped early, if it did.
struct Piece<T> {
    records: Vec<(usize, usize, T)>,
    lines: usize,
    stop: Option<Stop>,
}

fn decode_lines<T: DeserializeOwned>(bytes: &[u8], base: usize) -> Piece<T> {
    let mut piece = Piece {
        records: Vec::new(),
        lines: 0,
        stop: None,
    };
    let mut offset = 0usize;
    while offset < bytes.len() {
        let Some(newline) = memchr::memchr(b'\n', &bytes[offset..]) else {
            piece.stop = Some(Stop::Unterminated {
                offset: base + offset,
            });
            break;
        };
        piece.lines += 1;
        let next = offset + newline + 1;
        match decode_line(&bytes[offset..offset + newline]) {
            Ok(record) => piece.records.push((base + offset, base + next, record)),
            Err(reason) => {
                piece.stop = Some(Stop::Bad {
                    offset: base + offset,
                    next: base + next,
                    reason,
                });
                break;
            }
        }
        offset = next;
    }
    piece
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

    /// Reading in pieces on several threads finds exactly what one sequential pass finds,
    /// wherever a tail is cut or a byte is damaged.
    #[test]
    fn pieces_read_as_one_pass_does() {
        let whole = lines(&(1..=9).map(sample).collect::<Vec<_>>());
        let summary = |read: SegmentRead| {
            (
                read.records,
                read.valid_end,
                read.torn_bytes,
                read.corrupt.map(|(line, _)| line),
            )
        };
        for damage in (0..whole.len()).step_by(13) {
            let mut bytes = whole.clone();
            bytes[damage] ^= 0x01;
            for cut in (damage..=bytes.len()).step_by(17) {
                let bytes = &bytes[..cut];
                let one = summary(parse_in_pieces(bytes, 5, 1));
                for count in [2, 3, 4] {
                    assert_eq!(
                        summary(parse_in_pieces(bytes, 5, count)),
                        one,
                        "damage {damage}, cut {cut}, {count} pieces"
                    );
                }
            }
        }
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
