//! The normalised policy: what every way in (flags, text, `persist.toml`) produces, what the
//! planner reads and what the JSON report records.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::model::{GlobError, NotebookGlobs};
use crate::units::{Count, Size, Span, ValueError};

/// How candidates are grouped before the keep rules run (restic `--group-by`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum GroupBy {
    #[default]
    NotebookCell,
    Notebook,
    None,
}

impl GroupBy {
    pub fn as_str(&self) -> &'static str {
        match self {
            GroupBy::NotebookCell => "notebook,cell",
            GroupBy::Notebook => "notebook",
            GroupBy::None => "none",
        }
    }
}

impl FromStr for GroupBy {
    type Err = ValueError;

    fn from_str(input: &str) -> Result<Self, ValueError> {
        match input.trim() {
            "notebook,cell" | "cell,notebook" => Ok(GroupBy::NotebookCell),
            "notebook" => Ok(GroupBy::Notebook),
            "none" => Ok(GroupBy::None),
            _ => Err(ValueError::Invalid {
                input: input.to_string(),
                expected: "notebook,cell | notebook | none",
            }),
        }
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for GroupBy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Why a policy could not be built or applied. Every variant but `InvalidInput` is a usage
/// error (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("no policy given; nothing removed")]
    Empty,
    #[error(
        "--unsafe-allow-remove-all is refused without a scope filter: add --notebook GLOB or --cell NAME"
    )]
    UnsafeWithoutScope,
    /// A flag-level error from the policy text, as clap words it.
    #[error("{0}")]
    Usage(String),
    #[error("[prune] {key}: {message}")]
    Config { key: String, message: String },
    /// The backend handed the planner an entry that names a content it did not size.
    #[error("entry {entry} refers to content {content}, but only {sizes} content sizes were given")]
    InvalidInput {
        entry: usize,
        content: u32,
        sizes: usize,
    },
}

impl From<GlobError> for PolicyError {
    fn from(e: GlobError) -> PolicyError {
        PolicyError::Usage(e.to_string())
    }
}

impl PolicyError {
    /// A mistake in what the user asked for (as opposed to inconsistent input data).
    pub fn is_usage(&self) -> bool {
        !matches!(self, PolicyError::InvalidInput { .. })
    }
}

/// A retention policy in normal form: patterns sorted and deduplicated, zero keep rules
/// dropped (as in restic, `--keep-last 0` is no rule at all). Build it with
/// [`Policy::from_args`], [`Policy::from_text`] or [`Policy::from_toml`], which all check it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub notebook: Vec<String>,
    pub cell: Vec<String>,
    pub group_by: GroupBy,
    pub keep_last: Option<Count>,
    pub keep_within: Option<Span>,
    pub keep_daily: Option<Count>,
    pub keep_weekly: Option<Count>,
    pub keep_monthly: Option<Count>,
    pub keep_versions: Option<u32>,
    pub max_age: Option<Span>,
    pub max_size: Option<Size>,
    pub max_entries: Option<u32>,
    pub unsafe_allow_remove_all: bool,
}

impl Policy {
    /// Puts the policy in normal form and refuses the empty policy and an unscoped
    /// `--unsafe-allow-remove-all`.
    pub fn normalised(mut self) -> Result<Policy, PolicyError> {
        self.notebook.sort();
        self.notebook.dedup();
        self.cell.sort();
        self.cell.dedup();
        for count in [
            &mut self.keep_last,
            &mut self.keep_daily,
            &mut self.keep_weekly,
            &mut self.keep_monthly,
        ] {
            *count = count.filter(|c| !c.is_zero());
        }
        self.keep_within = self.keep_within.filter(|s| !s.is_zero());
        self.keep_versions = self.keep_versions.filter(|&n| n > 0);
        self.check()?;
        Ok(self)
    }

    /// The refusals, also applied by the planner to hand-built policies.
    pub fn check(&self) -> Result<(), PolicyError> {
        if !self.has_keep_rules() && !self.has_budgets() {
            return Err(PolicyError::Empty);
        }
        if self.unsafe_allow_remove_all && self.notebook.is_empty() && self.cell.is_empty() {
            return Err(PolicyError::UnsafeWithoutScope);
        }
        NotebookGlobs::new(&self.notebook).map(|_| ())?;
        Ok(())
    }

    /// Does the `--notebook` scope take in this notebook (any does when there is none)?
    pub fn takes_notebook(&self, notebook: &str) -> bool {
        NotebookGlobs::new(&self.notebook).is_ok_and(|globs| globs.matches(notebook))
    }

    pub fn has_keep_rules(&self) -> bool {
        let counts = [
            self.keep_last,
            self.keep_daily,
            self.keep_weekly,
            self.keep_monthly,
        ];
        counts.iter().flatten().any(|c| !c.is_zero())
            || self.keep_within.is_some_and(|s| !s.is_zero())
            || self.keep_versions.is_some_and(|n| n > 0)
    }

    pub fn has_budgets(&self) -> bool {
        self.max_age.is_some() || self.max_size.is_some() || self.max_entries.is_some()
    }

    /// Whether planning each notebook on its own gives the plan of all of them at once: no
    /// group spans notebooks, and no budget counts across them (`--max-age` judges each entry
    /// by itself; contents are never shared between notebooks). Then a prune holds one
    /// notebook at a time.
    pub fn plans_notebooks_apart(&self) -> bool {
        self.group_by != GroupBy::None && self.max_size.is_none() && self.max_entries.is_none()
    }

    /// The policy as flags, in a fixed order, quoted so that [`Policy::from_text`] reads it
    /// back to an equal policy.
    pub fn to_text(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        let mut flag = |name: &str, value: Option<String>| match value {
            // `--flag=-x` keeps a value that starts with '-' from being read as a flag.
            Some(v) if v.starts_with('-') => words.push(format!("--{name}={}", quote(&v))),
            Some(v) => words.push(format!("--{name} {}", quote(&v))),
            None => words.push(format!("--{name}")),
        };
        for glob in &self.notebook {
            flag("notebook", Some(glob.clone()));
        }
        for cell in &self.cell {
            flag("cell", Some(cell.clone()));
        }
        if self.group_by != GroupBy::default() {
            flag("group-by", Some(self.group_by.to_string()));
        }
        let values = [
            ("keep-last", self.keep_last.map(|v| v.to_string())),
            ("keep-within", self.keep_within.map(|v| v.to_string())),
            ("keep-daily", self.keep_daily.map(|v| v.to_string())),
            ("keep-weekly", self.keep_weekly.map(|v| v.to_string())),
            ("keep-monthly", self.keep_monthly.map(|v| v.to_string())),
            ("keep-versions", self.keep_versions.map(|v| v.to_string())),
            ("max-age", self.max_age.map(|v| v.to_string())),
            ("max-size", self.max_size.map(|v| v.to_string())),
            ("max-entries", self.max_entries.map(|v| v.to_string())),
        ];
        for (name, value) in values {
            if value.is_some() {
                flag(name, value);
            }
        }
        if self.unsafe_allow_remove_all {
            flag("unsafe-allow-remove-all", None);
        }
        words.join(" ")
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// Single-quotes a word when the policy-text splitter would otherwise cut or change it.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && !word
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '"');
    if plain {
        word.to_string()
    } else {
        // A single quote cannot appear inside '...', so close, add it in "...", reopen.
        format!("'{}'", word.replace('\'', "'\"'\"'"))
    }
}
