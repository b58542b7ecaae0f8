//! marimo's session snapshot `__marimo__/session/<notebook file>.json` (docs/MARIMO-CACHE.md §8): the
//! outputs and console text of each cell from the last kernel run. Not part of the cache, but
//! the only place outputs live.

use serde::Deserialize;
use std::path::Path;

/// Larger snapshots are not read (they would hold huge outputs); listings carry on without.
const MAX_SESSION_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionCell {
    /// marimo's positional cell id (`Hbol`, …).
    pub id: String,
    /// (mime type, bytes); empty outputs are left out.
    pub outputs: Vec<(String, Vec<u8>)>,
    /// (`stdout` | `stderr`, text), each stream joined in order.
    pub console: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct RawSession {
    #[serde(default)]
    cells: Vec<RawCell>,
}

#[derive(Deserialize)]
struct RawCell {
    #[serde(default)]
    id: String,
    #[serde(default)]
    outputs: Vec<RawOutput>,
    #[serde(default)]
    console: Vec<RawConsole>,
}

#[derive(Deserialize)]
struct RawOutput {
    #[serde(default)]
    data: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct RawConsole {
    #[serde(default)]
    name: String,
    #[serde(default)]
    text: serde_json::Value,
}

/// The snapshot of the notebook file `file_name` (e.g. `notebook.py`), if there is a
/// readable one. A damaged snapshot is no snapshot: outputs are extras.
pub fn load(session_dir: &Path, file_name: &str) -> Option<Vec<SessionCell>> {
    let path = session_dir.join(format!("{file_name}.json"));
    parse(&crate::store::fs::read_regular(&path, MAX_SESSION_BYTES).ok()?).ok()
}

pub fn parse(bytes: &[u8]) -> Result<Vec<SessionCell>, String> {
    let raw: RawSession =
        serde_json::from_slice(bytes).map_err(|e| format!("not a marimo session snapshot: {e}"))?;
    Ok(raw.cells.into_iter().map(cell_of).collect())
}

fn cell_of(raw: RawCell) -> SessionCell {
    let mut outputs = Vec::new();
    for output in raw.outputs {
        for (mime, value) in output.data {
            let bytes = match value {
                serde_json::Value::String(s) => s.into_bytes(),
                other => serde_json::to_vec(&other).unwrap_or_default(),
            };
            if !bytes.is_empty() {
                outputs.push((mime, bytes));
            }
        }
    }
    let mut console: Vec<(String, String)> = Vec::new();
    for line in raw.console {
        let text = match line.text {
            serde_json::Value::String(s) => s,
            _ => continue,
        };
        if !matches!(line.name.as_str(), "stdout" | "stderr") || text.is_empty() {
            continue;
        }
        match console.iter_mut().find(|(name, _)| *name == line.name) {
            Some((_, joined)) => joined.push_str(&text),
            None => console.push((line.name, text)),
        }
    }
    SessionCell {
        id: raw.id,
        outputs,
        console,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_and_console() {
        let cells = parse(br#"{"version":"1","cells":[{"id":"Hbol","outputs":[{"type":"data","data":{"text/plain":""}}],"console":[]},
            {"id":"MJUe","outputs":[{"type":"data","data":{"text/html":"<b>1</b>","application/json":{"a":1}}}],
             "console":[{"type":"stream","name":"stdout","text":"a"},{"type":"stream","name":"stdout","text":"b"},{"type":"stream","name":"stderr","text":"w"}]}]}"#).unwrap();
        assert!(cells[0].outputs.is_empty());
        assert_eq!(cells[1].outputs.len(), 2);
        assert_eq!(
            cells[1].console,
            vec![
                ("stdout".into(), "ab".into()),
                ("stderr".into(), "w".into())
            ]
        );
        assert!(parse(b"[").is_err());
    }
}
