//! The properties the fuzz targets check, shared with `tests/fuzz_regressions.rs` of this crate (which
//! includes this file with `#[path]`), so every committed corpus file is replayed through
//! exactly the checks the fuzzer used. Each check panics when a property is broken.

use celltime_store::model::{ContentHash, NotebookKey};
use celltime_store::store::log::{encode, parse_segment};
use celltime_store::store::map::{parse_map, parse_map_general, render_map};
use std::path::Path;

/// The notebook a map declares (`notebook = "…"` in `[map]`), so real maps of any notebook
/// are read to the end; anything else is read as `analysis/eda`.
pub fn declared_notebook(text: &str) -> NotebookKey {
    let mut in_map = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_map = line == "[map]";
        } else if in_map
            && let Some(rest) = line.strip_prefix("notebook")
            && let Some(value) = rest.trim().strip_prefix('=')
            && let Some(quoted) = value.trim().strip_prefix('"')
            && let Some((key, _)) = quoted.split_once('"')
            && let Ok(key) = NotebookKey::new(key)
        {
            return key;
        }
    }
    NotebookKey::new("analysis/eda").expect("a valid key")
}

/// The entry tables (`entry.<cell>.<module>.<version>.<created_at>`) a strict TOML reader
/// finds in `text`; `None` when it refuses the text (a table declared twice, …).
pub fn strict_entry_tables(text: &str) -> Option<usize> {
    fn leaves(value: &toml::Value, depth: usize) -> usize {
        match value {
            _ if depth == 0 => 1,
            toml::Value::Table(table) => table.values().map(|v| leaves(v, depth - 1)).sum(),
            _ => 0,
        }
    }
    let table: toml::Table = text.parse().ok()?;
    Some(table.get("entry").map_or(0, |entry| leaves(entry, 4)))
}

/// `map_parse`: a map that parses renders to the canonical text, which parses back to the
/// same entries, log positions and merged copies (as the general TOML reader reads them too),
/// and renders to itself; and a map without conflict markers is accepted only if a strict TOML
/// reader accepts it too, with every entry table it declares (no table silently replaced by
/// another, no instant spelled twice). Returns whether the input parsed at all.
pub fn check_map(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let notebook = declared_notebook(text);
    let path = Path::new("map.toml");
    let Ok((parsed, conflicted)) = parse_map(path, text, &notebook) else {
        return false;
    };
    if !conflicted {
        let declared = strict_entry_tables(text)
            .unwrap_or_else(|| panic!("accepted a map strict TOML refuses:\n{text}"));
        assert_eq!(
            parsed.index.entries().len(),
            declared,
            "entries lost or invented:\n{text}"
        );
    }
    let rendered = render_map(&parsed);
    let (again, conflicted) = parse_map(path, &rendered, &notebook)
        .unwrap_or_else(|e| panic!("the rendered map does not parse: {e}\n{rendered}"));
    assert!(
        !conflicted,
        "the rendered map has conflict markers:\n{rendered}"
    );
    assert_eq!(again.index.entries(), parsed.index.entries(), "{rendered}");
    assert_eq!(again.log_pos, parsed.log_pos, "{rendered}");
    assert_eq!(again.merged, parsed.merged, "{rendered}");
    assert_eq!(render_map(&again), rendered, "rendering is not canonical");
    // The canonical text is read by the fast reader; the general TOML reader must agree.
    let general = parse_map_general(path, &rendered, &notebook)
        .unwrap_or_else(|e| panic!("the general reader refuses the rendered map: {e}\n{rendered}"));
    assert_eq!(general.index.entries(), again.index.entries(), "{rendered}");
    assert_eq!(general.log_pos, again.log_pos, "{rendered}");
    assert_eq!(general.merged, again.merged, "{rendered}");
    true
}

/// `log_parse`: reading a segment never panics, and what it reports agrees with the bytes;
/// the same holds once every framed line's checksum is made right, which lets mutated records
/// through the checksum to the record parser. Returns how many records were read (as given).
pub fn check_segment(data: &[u8]) -> usize {
    let records = check_segment_bytes(data);
    if let Some(fixed) = fix_checksums(data) {
        check_segment_bytes(&fixed);
    }
    records
}

/// `data` with the checksum of every line framed as `{"b3":"<16>","rec":…}` replaced by the
/// right one; `None` when no line changes.
pub fn fix_checksums(data: &[u8]) -> Option<Vec<u8>> {
    const PREFIX: &[u8] = b"{\"b3\":\"";
    const MIDDLE: &[u8] = b"\",\"rec\":";
    let mut out = Vec::with_capacity(data.len());
    let mut changed = false;
    for line in data.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let rec = body
            .strip_prefix(PREFIX)
            .filter(|rest| rest.len() >= 16)
            .and_then(|rest| rest[16..].strip_prefix(MIDDLE))
            .and_then(|rest| rest.strip_suffix(b"}"));
        match rec {
            Some(rec) => {
                // A content hash is the BLAKE3 of the bytes, as the checksum is.
                let sum = &ContentHash::of(rec).to_hex()[..16];
                let start = out.len();
                out.extend_from_slice(PREFIX);
                out.extend_from_slice(sum.as_bytes());
                out.extend_from_slice(MIDDLE);
                out.extend_from_slice(rec);
                out.push(b'}');
                out.extend_from_slice(&line[body.len()..]);
                changed |= out[start..] != *line;
            }
            None => out.extend_from_slice(line),
        }
    }
    changed.then_some(out)
}

fn check_segment_bytes(data: &[u8]) -> usize {
    let read = parse_segment(data, 0);
    let len = data.len() as u64;
    assert!(
        read.valid_end <= len,
        "valid_end {} > {len}",
        read.valid_end
    );
    assert!(
        read.valid_end == 0 || data[read.valid_end as usize - 1] == b'\n',
        "valid_end {} is not at a line end",
        read.valid_end
    );
    assert!(
        !(read.torn_bytes > 0 && read.corrupt.is_some()),
        "torn tail reported together with corruption: {:?}",
        read.corrupt
    );
    if read.corrupt.is_none() {
        assert_eq!(
            read.valid_end + read.torn_bytes,
            len,
            "bytes unaccounted for"
        );
    } else {
        assert!(
            read.valid_end < len,
            "corruption reported after the last byte"
        );
    }
    if let Some((line, _)) = &read.corrupt {
        assert_eq!(
            *line,
            read.records.len() + 1,
            "corruption on the wrong line"
        );
    }
    let mut previous: Option<u64> = None;
    for (offset, record) in &read.records {
        assert!(
            previous.is_none_or(|p| p < *offset),
            "offsets do not increase"
        );
        assert!(
            *offset < read.valid_end,
            "record at {offset} after valid_end"
        );
        let start = *offset as usize;
        assert!(
            start == 0 || data[start - 1] == b'\n',
            "record not at a line start"
        );
        previous = Some(*offset);
        // What celltime would write for this record reads back as the same record.
        let line = encode(record);
        let back = parse_segment(&line, 7);
        assert!(
            back.corrupt.is_none() && back.torn_bytes == 0,
            "re-encoded record does not read back: {back:?}\n{}",
            String::from_utf8_lossy(&line)
        );
        assert_eq!(back.valid_end, 7 + line.len() as u64);
        assert_eq!(back.records.len(), 1);
        assert_eq!(back.records[0].0, 7);
        assert_eq!(
            &back.records[0].1, record,
            "re-encoded record reads differently"
        );
    }
    // Reading from a later position is the same reading, shifted.
    let shifted = parse_segment(data, 1000);
    assert_eq!(shifted.records.len(), read.records.len());
    assert_eq!(shifted.valid_end, read.valid_end + 1000);
    assert_eq!(shifted.torn_bytes, read.torn_bytes);
    assert_eq!(shifted.corrupt, read.corrupt);
    read.records.len()
}
