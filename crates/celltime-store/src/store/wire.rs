//! The serialised form of an entry, shared by `map.toml` tables and log `put` records, and its
//! conversion to and from the model with full validation.

use crate::model::{
    CellKey, ContentHash, Entry, ExecKey, KeyError, MarimoKey, ModuleHash, NotebookKey, PartKind,
    PartRef, Timestamp, Version, check_part_labels,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireContent {
    pub content: ContentHash,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireVariables {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub format: String,
    pub content: ContentHash,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireOutput {
    pub mime: String,
    pub content: ContentHash,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireStream {
    pub stream: String,
    pub content: ContentHash,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireWatched {
    pub path: String,
    pub content: ContentHash,
    pub size: u64,
}

/// An execution key of a parent; `notebook` is omitted when it is the entry's own notebook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook: Option<String>,
    pub cell: String,
    pub module: String,
    #[serde(default = "default_version")]
    pub version: String,
    pub created: Timestamp,
}

fn default_version() -> String {
    "0".to_string()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The body of an entry: everything but the key.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireBody {
    #[serde(default, skip_serializing_if = "is_false")]
    pub pinned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marimo_key: Option<MarimoKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<WireContent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<WireVariables>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<WireOutput>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub console: Vec<WireStream>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watched: Vec<WireWatched>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<WireKey>,
}

/// A whole entry as a log `put` record carries it: the key fields, then the body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireEntry {
    pub cell: String,
    pub module: String,
    #[serde(default = "default_version")]
    pub version: String,
    pub created: Timestamp,
    pub body: WireBody,
}

impl WireBody {
    pub fn from_entry(entry: &Entry) -> WireBody {
        let mut body = WireBody {
            pinned: entry.pinned,
            last_used: entry.last_used,
            served: entry.served,
            marimo_key: entry.marimo_key.clone(),
            ..WireBody::default()
        };
        for part in &entry.parts {
            let (content, size) = (part.content, part.size);
            match part.kind {
                PartKind::Code => body.code = Some(WireContent { content, size }),
                PartKind::Variables => body.variables.push(WireVariables {
                    name: part.label.clone(),
                    format: part.format.clone(),
                    content,
                    size,
                }),
                PartKind::Outputs => body.outputs.push(WireOutput {
                    mime: part.label.clone(),
                    content,
                    size,
                }),
                PartKind::Console => body.console.push(WireStream {
                    stream: part.label.clone(),
                    content,
                    size,
                }),
                PartKind::Watched => body.watched.push(WireWatched {
                    path: part.label.clone(),
                    content,
                    size,
                }),
            }
        }
        body.parents = entry
            .parents
            .iter()
            .map(|p| WireKey {
                notebook: (p.notebook != entry.key.notebook).then(|| p.notebook.to_string()),
                cell: p.cell.to_string(),
                module: p.module.to_string(),
                version: p.version.to_string(),
                created: p.created_at,
            })
            .collect();
        body
    }

    /// Validates and converts to a model entry.
    pub fn into_entry(self, key: ExecKey) -> Result<Entry, KeyError> {
        let mut parts = Vec::new();
        let mut push = |kind, label: String, format: String, content, size| {
            check_part_labels(kind, &label, &format)?;
            parts.push(PartRef {
                kind,
                label,
                format,
                content,
                size,
            });
            Ok::<(), KeyError>(())
        };
        if let Some(code) = self.code {
            push(
                PartKind::Code,
                String::new(),
                String::new(),
                code.content,
                code.size,
            )?;
        }
        for v in self.variables {
            push(PartKind::Variables, v.name, v.format, v.content, v.size)?;
        }
        for o in self.outputs {
            push(PartKind::Outputs, o.mime, String::new(), o.content, o.size)?;
        }
        for c in self.console {
            push(
                PartKind::Console,
                c.stream,
                String::new(),
                c.content,
                c.size,
            )?;
        }
        for w in self.watched {
            push(PartKind::Watched, w.path, String::new(), w.content, w.size)?;
        }
        let parents = self
            .parents
            .into_iter()
            .map(|p| {
                Ok(ExecKey {
                    notebook: match p.notebook {
                        Some(n) => NotebookKey::new(&n)?,
                        None => key.notebook.clone(),
                    },
                    cell: CellKey::new(&p.cell)?,
                    module: ModuleHash::new(&p.module)?,
                    version: Version::new(&p.version)?,
                    created_at: p.created,
                })
            })
            .collect::<Result<Vec<_>, KeyError>>()?;
        Ok(Entry {
            key,
            parts,
            parents,
            pinned: self.pinned,
            last_used: self.last_used,
            marimo_key: self.marimo_key,
            served: self.served,
        })
    }
}

/// Builds and validates an execution key from its serialised parts.
pub fn exec_key(
    notebook: &NotebookKey,
    cell: &str,
    module: &str,
    version: &str,
    created: Timestamp,
) -> Result<ExecKey, KeyError> {
    Ok(ExecKey {
        notebook: notebook.clone(),
        cell: CellKey::new(cell)?,
        module: ModuleHash::new(module)?,
        version: Version::new(version)?,
        created_at: created,
    })
}

impl WireEntry {
    pub fn from_entry(entry: &Entry) -> WireEntry {
        WireEntry {
            cell: entry.key.cell.to_string(),
            module: entry.key.module.to_string(),
            version: entry.key.version.to_string(),
            created: entry.key.created_at,
            body: WireBody::from_entry(entry),
        }
    }

    pub fn into_entry(self, notebook: &NotebookKey) -> Result<Entry, KeyError> {
        let key = exec_key(
            notebook,
            &self.cell,
            &self.module,
            &self.version,
            self.created,
        )?;
        self.body.into_entry(key)
    }
}
