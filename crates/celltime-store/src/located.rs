//! `path:line: message`: the one shape of a problem found in a file, shared by store errors,
//! the damage readers tolerate, `verify`'s report, marimo-cache errors and the UI's config
//! errors.

use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The longest message a [`Located`] keeps.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// A message about a file, and the 1-based line it is about where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl Located {
    /// A message longer than [`MAX_MESSAGE_CHARS`] (one that repeats a huge input) is cut.
    pub fn new(path: &Path, line: Option<usize>, message: impl Into<String>) -> Located {
        let message = message.into();
        Located {
            path: path.to_path_buf(),
            line,
            message: match celltime_text::excerpt(&message, MAX_MESSAGE_CHARS) {
                std::borrow::Cow::Borrowed(_) => message,
                std::borrow::Cow::Owned(cut) => cut,
            },
        }
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for Located {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_path_line_and_message() {
        let at = Located::new(Path::new("nb/map.toml"), Some(3), "bad value");
        assert_eq!(at.to_string(), "nb/map.toml:3: bad value");
        let at = Located::new(Path::new("nb/map.toml"), None, "not UTF-8 text");
        assert_eq!(at.to_string(), "nb/map.toml: not UTF-8 text");
    }
}
