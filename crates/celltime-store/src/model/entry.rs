//! Entries and their content parts.

use super::keys::{
    CellKey, ContentHash, ExecKey, KeyError, MarimoKey, ModuleHash, NotebookKey, Version,
};
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kinds of content an entry may hold. Any may be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartKind {
    /// The module's code snapshot.
    Code,
    /// Variables, as pickle, json, npy, …; labelled by variable name, or empty for the whole namespace.
    Variables,
    /// Rendered outputs, labelled by mime type.
    Outputs,
    /// Console text, labelled `stdout` or `stderr`.
    Console,
    /// Contents of watched files, labelled by path.
    Watched,
}

impl PartKind {
    pub const ALL: [PartKind; 5] = [
        PartKind::Code,
        PartKind::Variables,
        PartKind::Outputs,
        PartKind::Console,
        PartKind::Watched,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PartKind::Code => "code",
            PartKind::Variables => "variables",
            PartKind::Outputs => "outputs",
            PartKind::Console => "console",
            PartKind::Watched => "watched",
        }
    }

    /// A bit for [`PartMask`].
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for PartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PartKind {
    type Err = KeyError;
    fn from_str(text: &str) -> Result<PartKind, KeyError> {
        PartKind::ALL
            .into_iter()
            .find(|k| k.name() == text)
            .ok_or_else(|| KeyError {
                what: "part",
                value: text.to_string(),
                reason: "expected one of code, variables, outputs, console, watched".into(),
            })
    }
}

/// Which kinds of parts an entry has, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PartMask(pub u8);

impl PartMask {
    pub fn all() -> PartMask {
        PartMask(PartKind::ALL.iter().fold(0, |bits, k| bits | k.bit()))
    }

    pub fn with(self, kind: PartKind) -> PartMask {
        PartMask(self.0 | kind.bit())
    }

    pub fn contains(self, kind: PartKind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn of(kinds: &[PartKind]) -> PartMask {
        kinds.iter().fold(PartMask(0), |mask, k| mask.with(*k))
    }
}

/// A part as stored: what it is, and the content it points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PartRef {
    pub kind: PartKind,
    /// Variable name, mime type, stream or path; empty where the kind has none.
    pub label: String,
    /// The serialisation of a variables part (`pickle`, `json`, `npy`, …); empty otherwise.
    pub format: String,
    pub content: ContentHash,
    pub size: u64,
}

/// A part to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPart {
    pub kind: PartKind,
    pub label: String,
    pub format: String,
    pub bytes: Vec<u8>,
}

impl NewPart {
    pub fn code(source: &str) -> NewPart {
        NewPart::new(PartKind::Code, "", "", source.as_bytes().to_vec())
    }

    pub fn variables(name: &str, format: &str, bytes: Vec<u8>) -> NewPart {
        NewPart::new(PartKind::Variables, name, format, bytes)
    }

    pub fn output(mime: &str, bytes: Vec<u8>) -> NewPart {
        NewPart::new(PartKind::Outputs, mime, "", bytes)
    }

    pub fn console(stream: &str, text: &str) -> NewPart {
        NewPart::new(PartKind::Console, stream, "", text.as_bytes().to_vec())
    }

    pub fn watched(path: &str, bytes: Vec<u8>) -> NewPart {
        NewPart::new(PartKind::Watched, path, "", bytes)
    }

    pub fn new(kind: PartKind, label: &str, format: &str, bytes: Vec<u8>) -> NewPart {
        NewPart {
            kind,
            label: label.to_string(),
            format: format.to_string(),
            bytes,
        }
    }
}

/// Checks a part's label and format for its kind; the store refuses parts that fail.
pub fn check_part_labels(kind: PartKind, label: &str, format: &str) -> Result<(), KeyError> {
    let fail = |what: &'static str, value: &str, reason: &str| {
        Err(KeyError {
            what,
            value: value.chars().take(80).collect(),
            reason: reason.to_string(),
        })
    };
    if label.len() > 1024 || label.chars().any(char::is_control) {
        return fail(
            "part label",
            label,
            "labels are at most 1024 bytes, without control characters",
        );
    }
    match kind {
        PartKind::Variables => {
            let valid = !format.is_empty()
                && format.len() <= 32
                && format
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b));
            if !valid {
                return fail(
                    "variables format",
                    format,
                    "a format such as pickle, json or npy is required",
                );
            }
        }
        _ if !format.is_empty() => {
            return fail("part format", format, "only variables parts carry a format");
        }
        PartKind::Outputs if label.is_empty() => {
            return fail("output mime type", label, "outputs need a mime type");
        }
        PartKind::Console if label != "stdout" && label != "stderr" => {
            return fail("console stream", label, "expected stdout or stderr");
        }
        PartKind::Watched if label.is_empty() => {
            return fail("watched path", label, "watched contents need their path");
        }
        PartKind::Code if !label.is_empty() => {
            return fail("code label", label, "code parts have no label");
        }
        _ => {}
    }
    Ok(())
}

/// What `put` takes. `created_at` defaults to now.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub notebook: NotebookKey,
    pub cell: CellKey,
    pub module: ModuleHash,
    pub version: Version,
    pub created_at: Option<Timestamp>,
    pub parts: Vec<NewPart>,
    pub parents: Vec<ExecKey>,
    pub pinned: bool,
    /// marimo's own key for the run (`<block>/<prefix><hash>.<ext>`), when marimo wrote it.
    pub marimo_key: Option<MarimoKey>,
}

impl NewEntry {
    pub fn new(notebook: NotebookKey, cell: CellKey, module: ModuleHash) -> NewEntry {
        NewEntry {
            notebook,
            cell,
            module,
            version: Version::default(),
            created_at: None,
            parts: Vec::new(),
            parents: Vec::new(),
            pinned: false,
            marimo_key: None,
        }
    }
}

/// An entry as the store knows it, with its parts and retention state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: ExecKey,
    pub parts: Vec<PartRef>,
    pub parents: Vec<ExecKey>,
    pub pinned: bool,
    pub last_used: Option<Timestamp>,
    /// marimo's own key for the run, which links it to a file in `__marimo__/cache/`.
    pub marimo_key: Option<MarimoKey>,
    /// The last time a user chose this run as the one marimo is served (`celltime serve`).
    pub served: Option<Timestamp>,
}

impl Entry {
    /// Sum of the sizes of its parts (shared contents counted in each entry).
    pub fn size(&self) -> u64 {
        self.parts.iter().map(|p| p.size).sum()
    }

    /// When this run last became the one served: its creation, or a later explicit choice.
    pub fn standing(&self) -> Timestamp {
        self.served
            .map_or(self.key.created_at, |s| s.max(self.key.created_at))
    }

    pub fn mask(&self) -> PartMask {
        self.parts
            .iter()
            .fold(PartMask::default(), |mask, p| mask.with(p.kind))
    }
}
