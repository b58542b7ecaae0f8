//! Tables (pandas and polars frames, Arrow files) as display lines: a heading with the shape,
//! column labels and dtypes, the first and last rows with numbers right-aligned, and how much
//! is hidden. Only the rows shown are formatted, so a million-row frame costs what is visible.

use super::Doc;
use super::doc::{DocBuilder, Limits, Line, Role};
use celltime_pyvalue::table::{Cell, Table, TableKind};

/// Rows shown from each end of a table too long to show whole.
pub const EDGE_ROWS: u64 = 10;
/// Columns shown before the rest are only counted.
pub const MAX_COLUMNS: usize = 40;
/// Characters of a cell shown before it is cut with `…`.
const MAX_CELL_CHARS: usize = 40;

/// The rows a preview shows: all of a short table, else the first and last [`EDGE_ROWS`].
pub fn shown_rows(rows: u64) -> Vec<u64> {
    if rows <= 2 * EDGE_ROWS + 2 {
        (0..rows).collect()
    } else {
        (0..EDGE_ROWS).chain(rows - EDGE_ROWS..rows).collect()
    }
}

/// `pandas.DataFrame · 1,000,000 rows × 20 columns`.
pub fn heading(table: &Table) -> String {
    let rows = thousands(table.rows);
    let columns = table.columns.len();
    match table.kind {
        TableKind::PandasSeries | TableKind::PolarsSeries => {
            format!("{} · {rows} rows", table.kind.name())
        }
        _ => format!(
            "{} · {rows} rows × {columns} column{}",
            table.kind.name(),
            if columns == 1 { "" } else { "s" }
        ),
    }
}

pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One displayed column: header, dtype, and its shown cells.
struct Shown {
    name: String,
    dtype: String,
    cells: Vec<Cell>,
    width: usize,
    /// Right-aligned: every shown cell is a number (or missing).
    numeric: bool,
    role: Role,
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_CELL_CHARS {
        return text.to_string();
    }
    let mut t: String = text.chars().take(MAX_CELL_CHARS - 1).collect();
    t.push('…');
    t
}

/// Renders the table: heading, labels, dtypes, the first and last rows, and what is hidden.
pub fn render(table: &Table, limits: &Limits) -> Doc {
    let rows = shown_rows(table.rows);
    let mut shown: Vec<Shown> = Vec::new();
    // A frame without its own index gets row numbers, as pandas prints them.
    if table.index.is_none() && !matches!(table.kind, TableKind::Arrow | TableKind::MarimoTable) {
        let cells: Vec<Cell> = rows.iter().map(|&r| Cell::Int(r.into())).collect();
        shown.push(column("", "", cells, Role::Dim));
    }
    for (i, c) in table.all_columns().enumerate() {
        if i == MAX_COLUMNS {
            break;
        }
        let cells = rows.iter().map(|&r| c.values.cell(r)).collect();
        let role = if i == 0 && table.index.is_some() {
            Role::Dim
        } else {
            Role::Text
        };
        shown.push(column(&c.name, &c.dtype, cells, role));
    }
    let mut out = DocBuilder::new(*limits);
    out.push_line(Line::plain(&heading(table), Role::Header));
    out.push_line(grid_line(&shown, |c| (c.name.clone(), Role::Header)));
    out.push_line(grid_line(&shown, |c| (c.dtype.clone(), Role::Dim)));
    for k in 0..rows.len() {
        if k as u64 == EDGE_ROWS && rows.len() as u64 == 2 * EDGE_ROWS {
            let hidden = table.rows - 2 * EDGE_ROWS;
            let note = format!(
                "… {} of {} rows hidden",
                thousands(hidden),
                thousands(table.rows)
            );
            out.push_line(Line::plain(&note, Role::Dim));
        }
        out.push_line(grid_line(&shown, |c| {
            let cell = &c.cells[k];
            let role = match cell {
                Cell::Null => Role::Dim,
                Cell::Int(_) | Cell::Float(_) => Role::Number,
                Cell::Bool(_) => Role::Constant,
                Cell::Text(_) => c.role,
            };
            (cut(&cell.text()), role)
        }));
    }
    let total_columns = table.all_columns().count();
    if total_columns > MAX_COLUMNS {
        let note = format!(
            "… {} more columns not shown",
            thousands((total_columns - MAX_COLUMNS) as u64)
        );
        out.push_line(Line::plain(&note, Role::Dim));
    }
    let mut doc = out.finish();
    for line in &mut doc.lines {
        line.grid = true;
    }
    doc
}

fn column(name: &str, dtype: &str, cells: Vec<Cell>, role: Role) -> Shown {
    let numeric = cells.iter().all(|c| c.is_number() || *c == Cell::Null);
    let width = cells
        .iter()
        .map(|c| cut(&c.text()).chars().count())
        .chain([name.chars().count(), dtype.chars().count()])
        .max()
        .unwrap_or(0)
        .min(MAX_CELL_CHARS);
    Shown {
        name: cut(name),
        dtype: cut(dtype),
        cells,
        width,
        numeric,
        role,
    }
}

/// One row of the grid: each column's text padded to its width, two spaces apart.
fn grid_line(columns: &[Shown], text: impl Fn(&Shown) -> (String, Role)) -> Line {
    let mut line = Line::default();
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            line.push("  ", Role::Text);
        }
        let (t, role) = text(c);
        let pad = c.width.saturating_sub(t.chars().count());
        if c.numeric {
            line.push(&" ".repeat(pad), Role::Text);
            line.push(&t, role);
        } else {
            line.push(&t, role);
            if i + 1 < columns.len() {
                line.push(&" ".repeat(pad), Role::Text);
            }
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use celltime_pyvalue::table::{Column, Values};
    use std::sync::Arc;

    fn ints(name: &str, rows: u64) -> Column {
        let data: Vec<u8> = (0..rows as i64)
            .flat_map(|v| (v * 3).to_le_bytes())
            .collect();
        Column {
            name: name.into(),
            dtype: "int64".into(),
            values: Values::Numpy {
                array: Arc::new(celltime_pyvalue::value::NdArray::new(
                    "<i8".into(),
                    vec![rows],
                    false,
                    data,
                )),
                column: 0,
            },
        }
    }

    #[test]
    fn long_tables_show_both_ends_and_what_is_hidden() {
        let table = Table {
            kind: TableKind::PandasDataFrame,
            rows: 1000,
            index: None,
            columns: vec![ints("value", 1000)],
        };
        let text = render(&table, &Limits::default()).to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "pandas.DataFrame · 1,000 rows × 1 column");
        assert_eq!(lines[1], "     value");
        assert_eq!(lines[2], "     int64");
        assert_eq!(lines[3], "  0      0");
        assert_eq!(lines[13], "… 980 of 1,000 rows hidden");
        assert_eq!(lines[14], "990   2970");
        assert_eq!(lines.len(), 24);
    }
}
