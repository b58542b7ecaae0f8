//! How the results of two runs differ: for each variable, output and console stream, added,
//! removed, changed or the same; tables by shape, columns, dtypes and changed cells; numbers
//! with absolute and relative deltas; text by words; images by dimensions and pixels.
//!
//! One structure serves `celltime diff --parts …` (text or `--json`), the TUI's "compare with
//! the marked base" and its comparison of non-deterministic alternatives.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::doc::{DocBuilder, Limits, Line, Role};
use super::output::{self, Decoded};
use super::table::thousands;
use super::{Doc, image};
use celltime_pyvalue::table::{Cell, Table, Values};
use celltime_pyvalue::value::{PyValue, RenderOptions, render_inline};
use celltime_store::model::PartKind;

/// Changed cells and words listed before the rest are only counted.
pub const MAX_LISTED: usize = 20;
/// Words of a text change listed before the rest are only counted.
pub const MAX_WORD_CHANGES: usize = 200;

/// One part of a run, with its bytes.
#[derive(Debug, Clone)]
pub struct PartData {
    pub kind: PartKind,
    pub label: String,
    pub format: String,
    pub bytes: Vec<u8>,
}

/// One run, as the diff names it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRef {
    pub id: String,
    pub notebook: String,
    pub cell: String,
    pub created_at: String,
}

/// The whole comparison (`celltime diff --parts … --json` prints it as
/// `celltime.results-diff.v1`).
#[derive(Debug, Clone, Serialize)]
pub struct ResultsDiff {
    pub base: RunRef,
    pub other: RunRef,
    pub parts: Vec<PartDiff>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Removed,
    Changed,
    Same,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartDiff {
    pub kind: &'static str,
    pub label: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

/// What changed inside a part.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Table(TableChange),
    Number(NumberChange),
    Text(TextChange),
    Image(ImageChange),
    /// Bytes that are neither (binary data of unknown form).
    Bytes {
        from_size: u64,
        to_size: u64,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct TableChange {
    /// `[rows, columns]` before and after.
    pub from_shape: [u64; 2],
    pub to_shape: [u64; 2],
    pub columns_added: Vec<String>,
    pub columns_removed: Vec<String>,
    pub dtypes_changed: Vec<DtypeChange>,
    /// Cells compared: common columns × common rows (by position).
    pub cells_compared: u64,
    pub cells_changed: u64,
    /// The first changed cells, at most [`MAX_LISTED`].
    pub cells: Vec<CellChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DtypeChange {
    pub column: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CellChange {
    pub row: u64,
    pub column: String,
    pub from: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<Delta>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Delta {
    pub absolute: f64,
    /// Relative to the old value; absent when it was zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NumberChange {
    pub from: String,
    pub to: String,
    pub delta: Delta,
}

#[derive(Debug, Clone, Serialize)]
pub struct TextChange {
    pub words_added: u64,
    pub words_removed: u64,
    /// The words in order, at most [`MAX_WORD_CHANGES`] changed ones listed.
    pub words: Vec<WordOp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WordOp {
    pub op: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageChange {
    pub from_size: Option<[u32; 2]>,
    pub to_size: Option<[u32; 2]>,
    /// None when the pixels could not be compared (a format whose pixels are not decoded and
    /// whose bytes differ).
    pub pixels_differ: Option<bool>,
}

fn kind_name(kind: PartKind) -> &'static str {
    kind.name()
}

/// Compares the parts of the kinds asked for, matched by kind and label, in the base's order
/// (parts only in `other` last).
pub fn diff_parts(base: &[PartData], other: &[PartData], kinds: &[PartKind]) -> Vec<PartDiff> {
    let wanted = |p: &&PartData| kinds.contains(&p.kind);
    let mut out = Vec::new();
    for a in base.iter().filter(wanted) {
        match other
            .iter()
            .find(|b| b.kind == a.kind && b.label == a.label)
        {
            Some(b) if a.bytes == b.bytes => out.push(part(a, Status::Same, None)),
            Some(b) => {
                let change = compare(a, b);
                let status = if change.is_none() {
                    Status::Same
                } else {
                    Status::Changed
                };
                out.push(part(a, status, change));
            }
            None => out.push(part(a, Status::Removed, None)),
        }
    }
    for b in other.iter().filter(wanted) {
        if !base.iter().any(|a| a.kind == b.kind && a.label == b.label) {
            out.push(part(b, Status::Added, None));
        }
    }
    out
}

fn part(p: &PartData, status: Status, change: Option<Change>) -> PartDiff {
    PartDiff {
        kind: kind_name(p.kind),
        label: p.label.clone(),
        status,
        change,
    }
}

/// What changed between two parts whose bytes differ; None when they decode to the same.
fn compare(a: &PartData, b: &PartData) -> Option<Change> {
    match a.kind {
        PartKind::Variables => compare_values(
            output::decode_variable(&a.format, &a.bytes),
            output::decode_variable(&b.format, &b.bytes),
        ),
        PartKind::Outputs if a.label.starts_with("image/") && a.label != "image/svg+xml" => {
            Some(Change::Image(compare_images(&a.bytes, &b.bytes)))
        }
        PartKind::Outputs => {
            let text = |p: &PartData| {
                output::output(&p.label, &p.bytes, &Limits::default(), false).to_text()
            };
            words(&text(a), &text(b)).map(Change::Text)
        }
        _ => words(
            &String::from_utf8_lossy(&a.bytes),
            &String::from_utf8_lossy(&b.bytes),
        )
        .map(Change::Text),
    }
}

fn compare_values(a: Decoded, b: Decoded) -> Option<Change> {
    match (a, b) {
        (Decoded::Table(a), Decoded::Table(b)) => {
            let change = compare_tables(&a, &b);
            let same = change.from_shape == change.to_shape
                && change.cells_changed == 0
                && change.columns_added.is_empty()
                && change.columns_removed.is_empty()
                && change.dtypes_changed.is_empty();
            (!same).then_some(Change::Table(change))
        }
        (Decoded::Value { value: a, .. }, Decoded::Value { value: b, .. }) => {
            if let (Some(x), Some(y)) = (number(&a), number(&b)) {
                let (from, to) = (value_text(&a), value_text(&b));
                return (from != to).then(|| {
                    Change::Number(NumberChange {
                        from,
                        to,
                        delta: delta(x, y),
                    })
                });
            }
            words(&value_text(&a), &value_text(&b)).map(Change::Text)
        }
        (Decoded::Text(a), Decoded::Text(b)) => words(&a, &b).map(Change::Text),
        (a, b) => {
            let (a, b) = (a.text(), b.text());
            words(&a, &b).map(Change::Text)
        }
    }
}

fn value_text(v: &PyValue) -> String {
    let opts = RenderOptions {
        max_items: 200,
        max_str_chars: 2_000,
        max_array_values: 200,
        ..RenderOptions::default()
    };
    render_inline(v, &opts)
}

/// A Python number (int, float, a numpy scalar or 0-d array) as f64.
fn number(v: &PyValue) -> Option<f64> {
    match v {
        PyValue::Int(i) => Some(*i as f64),
        PyValue::Float(f) => Some(*f),
        PyValue::BigInt(s) => s.parse().ok(),
        PyValue::NdArray(a) if a.shape.is_empty() => {
            let values = Values::Numpy {
                array: std::sync::Arc::new((**a).clone()),
                column: 0,
            };
            values.cell(0).as_f64()
        }
        _ => None,
    }
}

fn delta(from: f64, to: f64) -> Delta {
    let absolute = to - from;
    Delta {
        absolute,
        relative: (from != 0.0 && from.is_finite()).then(|| absolute / from.abs()),
    }
}

/// Tables by shape, column names, dtypes and the cells of common columns and rows (by
/// position). Columns stored the same way are compared as bytes, so two million-row frames
/// cost a memory comparison; only the listed cells are formatted.
pub fn compare_tables(a: &Table, b: &Table) -> TableChange {
    let names = |t: &Table| -> Vec<String> { t.all_columns().map(|c| c.name.clone()).collect() };
    let (names_a, names_b) = (names(a), names(b));
    let mut change = TableChange {
        from_shape: [a.rows, a.all_columns().count() as u64],
        to_shape: [b.rows, b.all_columns().count() as u64],
        columns_added: names_b
            .iter()
            .filter(|n| !names_a.contains(n))
            .cloned()
            .collect(),
        columns_removed: names_a
            .iter()
            .filter(|n| !names_b.contains(n))
            .cloned()
            .collect(),
        dtypes_changed: Vec::new(),
        cells_compared: 0,
        cells_changed: 0,
        cells: Vec::new(),
    };
    let rows = a.rows.min(b.rows);
    for ca in a.all_columns() {
        let Some(cb) = b.all_columns().find(|c| c.name == ca.name) else {
            continue;
        };
        if ca.dtype != cb.dtype {
            change.dtypes_changed.push(DtypeChange {
                column: ca.name.clone(),
                from: ca.dtype.clone(),
                to: cb.dtype.clone(),
            });
        }
        change.cells_compared += rows;
        let mut on_change = |row: u64| {
            let (x, y) = (ca.values.cell(row), cb.values.cell(row));
            if x.same(&y) {
                return;
            }
            change.cells_changed += 1;
            if change.cells.len() < MAX_LISTED {
                change.cells.push(cell_change(row, &ca.name, &x, &y));
            }
        };
        match ca.values.same_raw(&cb.values) {
            Some((size, x, y)) => {
                let n = rows as usize * size;
                // Whole runs of equal bytes are skipped at memcmp speed.
                const RUN: usize = 4096;
                let (x, y) = (&x[..n.min(x.len())], &y[..n.min(y.len())]);
                for (k, (cx, cy)) in x.chunks(RUN * size).zip(y.chunks(RUN * size)).enumerate() {
                    if cx == cy {
                        continue;
                    }
                    for (i, (ex, ey)) in cx.chunks(size).zip(cy.chunks(size)).enumerate() {
                        if ex != ey {
                            on_change((k * RUN + i) as u64);
                        }
                    }
                }
            }
            None => (0..rows).for_each(&mut on_change),
        }
    }
    change
}

fn cell_change(row: u64, column: &str, from: &Cell, to: &Cell) -> CellChange {
    let delta = match (from.as_f64(), to.as_f64()) {
        (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Some(delta(x, y)),
        _ => None,
    };
    CellChange {
        row,
        column: column.to_string(),
        from: from.text(),
        to: to.text(),
        delta,
    }
}

/// A word-level diff, or None when the texts are equal.
fn words(a: &str, b: &str) -> Option<TextChange> {
    if a == b {
        return None;
    }
    let diff = TextDiff::from_words(a, b);
    let mut change = TextChange {
        words_added: 0,
        words_removed: 0,
        words: Vec::new(),
    };
    let mut listed = 0;
    for c in diff.iter_all_changes() {
        let op = match c.tag() {
            ChangeTag::Equal => "equal",
            ChangeTag::Insert => "insert",
            ChangeTag::Delete => "delete",
        };
        let text = c.value().to_string();
        let is_word = !text.trim().is_empty();
        match c.tag() {
            ChangeTag::Insert if is_word => change.words_added += 1,
            ChangeTag::Delete if is_word => change.words_removed += 1,
            _ => {}
        }
        if c.tag() != ChangeTag::Equal {
            listed += 1;
        }
        if listed <= MAX_WORD_CHANGES {
            match change.words.last_mut() {
                Some(last) if last.op == op => last.text.push_str(&text),
                _ => change.words.push(WordOp { op, text }),
            }
        }
    }
    Some(change)
}

/// Dimensions from the headers; pixels compared decoded for PNG, as bytes otherwise.
fn compare_images(a: &[u8], b: &[u8]) -> ImageChange {
    let size = |bytes: &[u8]| image::dimensions(bytes).map(|(w, h)| [w, h]);
    let (from_size, to_size) = (size(a), size(b));
    let pixels_differ = if from_size != to_size {
        Some(true)
    } else {
        match (image::png_pixels(a), image::png_pixels(b)) {
            (Some(x), Some(y)) => Some(x != y),
            _ if a == b => Some(false),
            _ => None,
        }
    };
    ImageChange {
        from_size,
        to_size,
        pixels_differ,
    }
}

/// The diff as display lines: one heading per part, then what changed.
pub fn render(diff: &ResultsDiff, limits: &Limits) -> Doc {
    let mut out = DocBuilder::new(*limits);
    let short = |r: &RunRef| r.id.chars().take(8).collect::<String>();
    out.push_line(Line::plain(
        &format!("results {} → {}", short(&diff.base), short(&diff.other)),
        Role::Header,
    ));
    if diff.parts.is_empty() {
        out.push_line(Line::plain("no parts of the kinds asked for", Role::Dim));
    }
    let (mut same, mut changed) = (0, 0);
    for p in &diff.parts {
        let mut head = Line::default();
        head.push(&format!("{} · {}  ", p.kind, p.label), Role::Text);
        let (word, role) = match p.status {
            Status::Added => ("added", Role::Added),
            Status::Removed => ("removed", Role::Removed),
            Status::Changed => ("changed", Role::Warning),
            Status::Same => ("same", Role::Dim),
        };
        head.push(word, role);
        match p.status {
            Status::Same => same += 1,
            _ => changed += 1,
        }
        if let Some(Change::Number(n)) = &p.change {
            head.push(
                &format!(": {} → {} ({})", n.from, n.to, delta_text(&n.delta)),
                Role::Text,
            );
        }
        out.push_line(head);
        match &p.change {
            Some(Change::Table(t)) => table_lines(&mut out, t),
            Some(Change::Text(t)) => text_lines(&mut out, t),
            Some(Change::Image(i)) => {
                let size = |s: Option<[u32; 2]>| s.map_or("?".into(), |[w, h]| format!("{w}×{h}"));
                let pixels = match i.pixels_differ {
                    Some(true) => "pixels differ",
                    Some(false) => "same pixels",
                    None => "bytes differ (pixels not compared)",
                };
                let text = format!(
                    "  image {} → {}, {pixels}",
                    size(i.from_size),
                    size(i.to_size)
                );
                out.push_line(Line::plain(&text, Role::Text));
            }
            Some(Change::Bytes { from_size, to_size }) => {
                let text = format!("  {from_size} → {to_size} bytes");
                out.push_line(Line::plain(&text, Role::Text));
            }
            Some(Change::Number(_)) | None => {}
        }
    }
    out.push_line(Line::plain(
        &format!("{changed} changed, {same} the same"),
        Role::Dim,
    ));
    out.finish()
}

fn delta_text(d: &Delta) -> String {
    let abs = number_text(d.absolute, true);
    match d.relative {
        Some(r) => format!("{abs}, {}%", number_text(r * 100.0, true)),
        None => abs,
    }
}

/// A delta to at most 6 significant digits, signed.
fn number_text(x: f64, signed: bool) -> String {
    let text = if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-4) {
        format!("{x:.5e}")
    } else {
        let s = format!("{x:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    };
    if signed && x >= 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

fn table_lines(out: &mut DocBuilder, t: &TableChange) {
    let shape = |[r, c]: [u64; 2]| format!("{} rows × {c} columns", thousands(r));
    let mut text = format!("  shape {} → {}", shape(t.from_shape), shape(t.to_shape));
    if t.from_shape == t.to_shape {
        text = format!("  shape {} (unchanged)", shape(t.to_shape));
    }
    out.push_line(Line::plain(&text, Role::Text));
    if !t.columns_added.is_empty() {
        out.push_line(Line::plain(
            &format!("  columns added: {}", t.columns_added.join(", ")),
            Role::Added,
        ));
    }
    if !t.columns_removed.is_empty() {
        out.push_line(Line::plain(
            &format!("  columns removed: {}", t.columns_removed.join(", ")),
            Role::Removed,
        ));
    }
    for d in &t.dtypes_changed {
        out.push_line(Line::plain(
            &format!("  dtype of {}: {} → {}", d.column, d.from, d.to),
            Role::Text,
        ));
    }
    out.push_line(Line::plain(
        &format!(
            "  {} of {} cells changed",
            thousands(t.cells_changed),
            thousands(t.cells_compared)
        ),
        Role::Text,
    ));
    for c in &t.cells {
        let mut line = Line::default();
        line.push(&format!("    row {}, {}: ", c.row, c.column), Role::Dim);
        line.push(&c.from, Role::Removed);
        line.push(" → ", Role::Dim);
        line.push(&c.to, Role::Added);
        if let Some(d) = &c.delta {
            line.push(&format!(" ({})", delta_text(d)), Role::Dim);
        }
        out.push_line(line);
    }
    if t.cells_changed > t.cells.len() as u64 {
        out.push_line(Line::plain(
            &format!(
                "    … {} more changed cells",
                thousands(t.cells_changed - t.cells.len() as u64)
            ),
            Role::Dim,
        ));
    }
}

/// The text with removals as `[-old-]` and additions as `{+new+}` (git's word-diff marks, so
/// the change reads without colour too).
fn text_lines(out: &mut DocBuilder, t: &TextChange) {
    out.push_line(Line::plain(
        &format!(
            "  {} words added, {} removed",
            t.words_added, t.words_removed
        ),
        Role::Dim,
    ));
    let mut line = Line::plain("  ", Role::Text);
    for w in &t.words {
        for (i, piece) in w.text.split('\n').enumerate() {
            if i > 0 {
                out.push_line(std::mem::replace(&mut line, Line::plain("  ", Role::Text)));
            }
            if piece.is_empty() {
                continue;
            }
            match w.op {
                "insert" => line.push(&format!("{{+{piece}+}}"), Role::AddedEmph),
                "delete" => line.push(&format!("[-{piece}-]"), Role::RemovedEmph),
                _ => line.push(piece, Role::Text),
            }
        }
    }
    if line.width() > 2 {
        out.push_line(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(label: &str, format: &str, bytes: &[u8]) -> PartData {
        PartData {
            kind: PartKind::Variables,
            label: label.into(),
            format: format.into(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn numbers_show_absolute_and_relative_deltas() {
        let a = [variable("n", "json", b"4")];
        let b = [variable("n", "json", b"5")];
        let diff = diff_parts(&a, &b, &[PartKind::Variables]);
        let Some(Change::Number(n)) = &diff[0].change else {
            panic!("{diff:?}");
        };
        assert_eq!((n.from.as_str(), n.to.as_str()), ("4", "5"));
        assert_eq!(n.delta.absolute, 1.0);
        assert_eq!(n.delta.relative, Some(0.25));
        assert_eq!(delta_text(&n.delta), "+1, +25%");
    }

    #[test]
    fn parts_are_matched_by_kind_and_label() {
        let a = [
            variable("x", "json", b"[1]"),
            variable("gone", "json", b"1"),
        ];
        let b = [variable("x", "json", b"[1]"), variable("new", "json", b"2")];
        let diff = diff_parts(&a, &b, &[PartKind::Variables]);
        let status: Vec<(&str, Status)> =
            diff.iter().map(|p| (p.label.as_str(), p.status)).collect();
        assert_eq!(
            status,
            [
                ("x", Status::Same),
                ("gone", Status::Removed),
                ("new", Status::Added)
            ]
        );
        assert!(diff_parts(&a, &b, &[PartKind::Console]).is_empty());
    }

    #[test]
    fn text_changes_by_words() {
        let c = words("the total is 10 today", "the total is 12 today").unwrap();
        assert_eq!((c.words_added, c.words_removed), (1, 1));
        let mut out = DocBuilder::new(Limits::default());
        text_lines(&mut out, &c);
        assert_eq!(
            out.finish().to_text(),
            "  1 words added, 1 removed\n  the total is [-10-]{+12+} today"
        );
        assert!(words("same", "same").is_none());
    }
}
