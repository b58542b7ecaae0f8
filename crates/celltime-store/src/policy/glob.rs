//! Glob matching of notebook keys (`analysis/*`, `**/eda`, `run-??`), by `globset`.
//!
//! `*` and `?` stay within one path segment; `**` as a whole segment crosses segments, and
//! `**/` also matches no segment at all, as in `.gitignore`.

use super::rules::PolicyError;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// One matcher for all `--notebook` patterns; a bad pattern is a usage error naming it.
pub(crate) fn compile(patterns: &[String]) -> Result<GlobSet, PolicyError> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| PolicyError::Usage(format!("--notebook {pattern:?}: {}", e.kind())))?;
        set.add(glob);
    }
    set.build()
        .map_err(|e| PolicyError::Usage(format!("--notebook: {e}")))
}

#[cfg(test)]
mod tests {
    use super::compile;

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
            let set = compile(&[pattern.to_string()]).unwrap();
            assert_eq!(set.is_match(text), expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn bad_patterns_are_usage_errors() {
        let err = compile(&["analysis/[".to_string()]).unwrap_err();
        assert!(err.to_string().contains("analysis/["), "{err}");
    }
}
