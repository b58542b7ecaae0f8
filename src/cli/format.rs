//! How the CLI shows sizes, times and parts to people. Machine output (`--json`) uses RFC 3339
//! and bytes instead.

use celltime_store::model::{PartKind, PartMask, Timestamp, Zone};
use chrono::{Datelike, Timelike};

pub use celltime_store::units::human_bytes as size;
pub use celltime_store::units::{count, plural};

/// Local time, to the second: `2026-11-25 10:00:00`. (Written field by field: chrono's
/// format strings are re-parsed on every call, which shows on listings of 100,000 rows.)
pub fn time(ts: Timestamp) -> String {
    let local = Zone::Local.at(ts);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// One letter per part kind present: `c`ode, `v`ariables, `o`utputs, `s`tdout/err, `w`atched.
pub fn parts(mask: PartMask) -> String {
    PartKind::ALL
        .iter()
        .map(|k| {
            if mask.contains(*k) {
                k.name()
                    .chars()
                    .next()
                    .map_or('-', |c| if *k == PartKind::Console { 's' } else { c })
            } else {
                '-'
            }
        })
        .collect()
}

/// Left-aligned columns separated by two spaces; the last column is not padded. Cells are
/// escaped first (names come from the workspace), so columns line up as they show.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<std::borrow::Cow<'_, str>>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| celltime_text::escape_line(cell))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                out.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for row in &rows {
        line(row.iter().map(|cell| cell.as_ref()).collect(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_show_letters() {
        let mask = PartMask::of(&[PartKind::Code, PartKind::Console]);
        assert_eq!(parts(mask), "c--s-");
    }

    #[test]
    fn table_cells_are_escaped_before_they_are_measured() {
        let rows = vec![
            vec!["a\u{1b}]0;t\u{7}".to_string(), "x".to_string()],
            vec!["bbbbbbbbbbbbbb".to_string(), "y".to_string()],
        ];
        assert_eq!(
            table(&["N", "V"], &rows),
            "N               V\na^[]0;t^G       x\nbbbbbbbbbbbbbb  y\n"
        );
    }
}
