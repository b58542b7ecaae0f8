//! `--notebook GLOB`: the one matcher of notebook keys (`analysis/*`, `**/eda`, `run-??`), by
//! `globset`, for `ls`, `prune`, the UI's "mark by policy" and saved policies alike.
//!
//! `*` and `?` stay within one path segment; `**` as a whole segment crosses segments, and
//! `**/` also matches no segment at all, as in `.gitignore`.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// A pattern that does not compile, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--notebook {pattern:?}: {reason}")]
pub struct GlobError {
    pub pattern: String,
    pub reason: String,
}

/// Every `--notebook` pattern, compiled once; no pattern matches every notebook.
#[derive(Debug, Clone)]
pub struct NotebookGlobs {
    set: GlobSet,
    any: bool,
}

impl NotebookGlobs {
    pub fn new(patterns: &[String]) -> Result<NotebookGlobs, GlobError> {
        let mut set = GlobSetBuilder::new();
        for pattern in patterns {
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| GlobError {
                    pattern: pattern.clone(),
                    reason: e.kind().to_string(),
                })?;
            set.add(glob);
        }
        let set = set.build().map_err(|e| GlobError {
            pattern: patterns.join(" "),
            reason: e.to_string(),
        })?;
        Ok(NotebookGlobs {
            set,
            any: patterns.is_empty(),
        })
    }

    /// Does notebook key `notebook` match a pattern (or were there none)?
    pub fn matches(&self, notebook: &str) -> bool {
        self.any || self.set.is_match(notebook)
    }
}

#[cfg(test)]
mod tests {
    use super::NotebookGlobs;

    #[test]
    fn segments_and_stars() {
        let cases = [
            ("analysis/*", "analysis/eda", true),
            ("analysis/*", "analysis/deep/eda", false),
            ("analysis/**", "analysis/deep/eda", true),
            ("**/eda", "eda", true),
            ("**/eda", "a/b/eda", true),
            ("**/eda", "a/b/xeda", false),
            ("a/**/z", "a/z", true),
            ("a/**/z", "a/b/c/z", true),
            ("run-??", "run-01", true),
            ("run-??", "run-1", false),
            ("?", "/", false),
            ("*", "", true),
            ("eda", "eda", true),
            ("eda", "eda2", false),
            ("*eda*", "my/eda", false),
        ];
        for (pattern, text, expected) in cases {
            let globs = NotebookGlobs::new(&[pattern.to_string()]).unwrap();
            assert_eq!(globs.matches(text), expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn bad_patterns_are_usage_errors() {
        let err = NotebookGlobs::new(&["analysis/[".to_string()]).unwrap_err();
        assert!(err.to_string().contains("analysis/["), "{err}");
        assert!(NotebookGlobs::new(&[]).unwrap().matches("any/thing"));
    }
}
