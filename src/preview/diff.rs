//! Diffs of two code snapshots: one structure that renders both unified and side by side,
//! with word-level emphasis inside changed lines (line-level above a size cap).

use super::doc::{Line, Role};
use similar::{Algorithm, ChangeTag, DiffOp, InlineChangeOptions, TextDiff};
use std::time::Duration;

/// Above this many bytes on both sides together, changed lines are coloured whole (two
/// 5,000-line snapshots take about 5 ms word by word; see `benches/tui.rs`).
pub const WORD_DIFF_MAX_BYTES: usize = 1024 * 1024;
/// A bound on pathological inputs; similar falls back to a coarser diff when it is reached.
const DIFF_TIMEOUT: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    Context,
    Removed,
    Added,
    /// `@@ -a,b +c,d @@`
    Hunk,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: DiffKind,
    pub old_no: Option<u32>,
    pub new_no: Option<u32>,
    pub line: Line,
}

/// A side-by-side row: indices into [`CodeDiff::lines`] for the old and the new column.
pub type SplitRow = (Option<u32>, Option<u32>);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeDiff {
    /// Unified order.
    pub lines: Vec<DiffLine>,
    pub split: Vec<SplitRow>,
    pub added: usize,
    pub removed: usize,
    pub word_level: bool,
    pub identical: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct DiffOptions {
    /// Unchanged lines shown around each change.
    pub context: usize,
    pub word_max_bytes: usize,
}

impl Default for DiffOptions {
    fn default() -> DiffOptions {
        DiffOptions {
            context: 3,
            word_max_bytes: WORD_DIFF_MAX_BYTES,
        }
    }
}

pub fn diff_code(old: &str, new: &str, options: &DiffOptions) -> CodeDiff {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old, new);
    let word_level = old.len() + new.len() <= options.word_max_bytes;
    let mut out = CodeDiff {
        word_level,
        identical: old == new,
        ..CodeDiff::default()
    };
    let mut inline = InlineChangeOptions::new();
    inline.semantic_cleanup(true);
    for group in diff.grouped_ops(options.context) {
        push_hunk_header(&mut out, &group);
        for op in &group {
            if word_level {
                for change in diff.iter_inline_changes_with_options(op, inline) {
                    let values: Vec<(bool, String)> = change
                        .iter_strings_lossy()
                        .map(|(emph, text)| (emph, text.into_owned()))
                        .collect();
                    out.push(
                        change.tag(),
                        change.old_index(),
                        change.new_index(),
                        &values,
                    );
                }
            } else {
                for change in diff.iter_changes(op) {
                    let text = change.value().to_string();
                    out.push(
                        change.tag(),
                        change.old_index(),
                        change.new_index(),
                        &[(false, text)],
                    );
                }
            }
        }
    }
    out.split = pair_rows(&out.lines);
    out
}

fn push_hunk_header(out: &mut CodeDiff, group: &[DiffOp]) {
    let (Some(first), Some(last)) = (group.first(), group.last()) else {
        return;
    };
    let old = first.old_range().start..last.old_range().end;
    let new = first.new_range().start..last.new_range().end;
    let text = format!(
        "@@ -{},{} +{},{} @@",
        old.start + 1,
        old.len(),
        new.start + 1,
        new.len()
    );
    out.lines.push(DiffLine {
        kind: DiffKind::Hunk,
        old_no: None,
        new_no: None,
        line: Line::plain(&text, Role::Header),
    });
}

impl CodeDiff {
    fn push(
        &mut self,
        tag: ChangeTag,
        old: Option<usize>,
        new: Option<usize>,
        values: &[(bool, String)],
    ) {
        let (kind, plain, emph) = match tag {
            ChangeTag::Equal => (DiffKind::Context, Role::Text, Role::Text),
            ChangeTag::Delete => {
                self.removed += 1;
                (DiffKind::Removed, Role::Removed, Role::RemovedEmph)
            }
            ChangeTag::Insert => {
                self.added += 1;
                (DiffKind::Added, Role::Added, Role::AddedEmph)
            }
        };
        let mut line = Line::default();
        for (emphasised, text) in values {
            let text = text.trim_end_matches(['\n', '\r']);
            line.push(text, if *emphasised { emph } else { plain });
        }
        self.lines.push(DiffLine {
            kind,
            old_no: old.map(|n| n as u32 + 1),
            new_no: new.map(|n| n as u32 + 1),
            line,
        });
    }
}

/// Pairs each run of removed lines with the added lines that follow it, row by row.
fn pair_rows(lines: &[DiffLine]) -> Vec<SplitRow> {
    let mut rows = Vec::with_capacity(lines.len());
    let mut removed: Vec<u32> = Vec::new();
    let mut added: Vec<u32> = Vec::new();
    let flush = |rows: &mut Vec<SplitRow>, removed: &mut Vec<u32>, added: &mut Vec<u32>| {
        for k in 0..removed.len().max(added.len()) {
            rows.push((removed.get(k).copied(), added.get(k).copied()));
        }
        removed.clear();
        added.clear();
    };
    for (i, line) in lines.iter().enumerate() {
        let i = i as u32;
        match line.kind {
            DiffKind::Removed => {
                if !added.is_empty() {
                    flush(&mut rows, &mut removed, &mut added);
                }
                removed.push(i);
            }
            DiffKind::Added => added.push(i),
            DiffKind::Context | DiffKind::Hunk => {
                flush(&mut rows, &mut removed, &mut added);
                rows.push((Some(i), Some(i)));
            }
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(diff: &CodeDiff) -> Vec<DiffKind> {
        diff.lines.iter().map(|l| l.kind).collect()
    }

    #[test]
    fn unified_lines_with_word_emphasis() {
        let old = "a = 1\nb = compute(a, 10)\nc = 3\n";
        let new = "a = 1\nb = compute(a, 20)\nc = 3\n";
        let diff = diff_code(old, new, &DiffOptions::default());
        assert_eq!(
            kinds(&diff),
            [
                DiffKind::Hunk,
                DiffKind::Context,
                DiffKind::Removed,
                DiffKind::Added,
                DiffKind::Context
            ]
        );
        assert_eq!((diff.added, diff.removed), (1, 1));
        let added = &diff.lines[3].line;
        let emph: Vec<&str> = added
            .spans
            .iter()
            .filter(|s| s.role == Role::AddedEmph)
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(emph, ["20"]);
        assert_eq!(diff.lines[3].new_no, Some(2));
        assert_eq!(diff.lines[2].old_no, Some(2));
    }

    #[test]
    fn split_rows_pair_removed_with_added() {
        let diff = diff_code("x\na\nb\ny\n", "x\nA\ny\nz\n", &DiffOptions::default());
        let shape: Vec<(Option<DiffKind>, Option<DiffKind>)> = diff
            .split
            .iter()
            .map(|(l, r)| {
                (
                    l.map(|i| diff.lines[i as usize].kind),
                    r.map(|i| diff.lines[i as usize].kind),
                )
            })
            .collect();
        use DiffKind::*;
        assert_eq!(
            shape,
            [
                (Some(Hunk), Some(Hunk)),
                (Some(Context), Some(Context)),
                (Some(Removed), Some(Added)),
                (Some(Removed), None),
                (Some(Context), Some(Context)),
                (None, Some(Added)),
            ]
        );
    }

    #[test]
    fn large_inputs_fall_back_to_line_level() {
        let options = DiffOptions {
            word_max_bytes: 4,
            ..DiffOptions::default()
        };
        let diff = diff_code("value = 1\n", "value = 2\n", &options);
        assert!(!diff.word_level);
        assert!(
            diff.lines
                .iter()
                .flat_map(|l| &l.line.spans)
                .all(|s| s.role != Role::AddedEmph && s.role != Role::RemovedEmph)
        );
    }

    #[test]
    fn identical_inputs_have_no_lines() {
        let diff = diff_code("a\n", "a\n", &DiffOptions::default());
        assert!(diff.identical);
        assert!(diff.lines.is_empty());
    }
}
