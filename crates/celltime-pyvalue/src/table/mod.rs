//! Data frames as tables: pandas `DataFrame`/`Series` and polars `DataFrame`/`Series` pickles,
//! and Arrow IPC files (`.arrow`, `.feather`, marimo's lazy blobs), read as data without
//! running anything.
//!
//! A [`Table`] keeps its columns as decoded (numpy blocks, Arrow arrays, Python objects) and
//! formats a cell only when it is asked for, so a preview of a million rows costs the rows it
//! shows. Rendering tables to display lines belongs to the program (`src/preview/table.rs`).

mod columnar;
mod pandas;

use std::sync::Arc;

use arrow_array::{Array, ArrayRef};

use crate::value::numpy::Cell as NumpyCell;
use crate::value::{NdArray, PyValue, RenderOptions, render_inline};

pub use columnar::read_ipc;

/// What a table was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    PandasDataFrame,
    PandasSeries,
    PolarsDataFrame,
    PolarsSeries,
    /// An Arrow IPC file or stream.
    Arrow,
    /// The rows marimo put in its table output (`<marimo-table>`).
    MarimoTable,
}

impl TableKind {
    pub fn name(self) -> &'static str {
        match self {
            TableKind::PandasDataFrame => "pandas.DataFrame",
            TableKind::PandasSeries => "pandas.Series",
            TableKind::PolarsDataFrame => "polars.DataFrame",
            TableKind::PolarsSeries => "polars.Series",
            TableKind::Arrow => "Arrow table",
            TableKind::MarimoTable => "marimo table",
        }
    }
}

/// A decoded frame.
#[derive(Debug, Clone)]
pub struct Table {
    pub kind: TableKind,
    pub rows: u64,
    /// pandas' row labels, unless they are the default `0..rows`.
    pub index: Option<Column>,
    pub columns: Vec<Column>,
}

/// One column: its label, dtype as the library names it, and its values.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub dtype: String,
    pub values: Values,
}

/// Column values, as stored.
#[derive(Debug, Clone)]
pub enum Values {
    /// Column `column` of a numpy block shaped `(columns, rows)` (a 1-d array is one column).
    Numpy { array: Arc<NdArray>, column: u64 },
    /// Python objects (an object array, or a list).
    Objects(Arc<Vec<PyValue>>),
    /// Arrow arrays, one after another (a chunked column).
    Arrow(Vec<ArrayRef>),
    /// `RangeIndex(start, stop, step)`.
    Range { start: i64, step: i64 },
    /// pandas `Categorical`: integer codes into the categories, -1 for missing.
    Categorical {
        codes: Box<Values>,
        categories: Box<Values>,
    },
}

/// One cell: numbers stay numbers (for alignment and deltas), everything else is text in the
/// form Python prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Text(String),
}

impl Cell {
    pub fn is_number(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Float(_))
    }

    /// The value as f64, for numeric deltas.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The text shown: floats as their shortest round trip, missing values as pandas does.
    pub fn text(&self) -> String {
        match self {
            Cell::Null => "<NA>".into(),
            Cell::Bool(b) => if *b { "True" } else { "False" }.into(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => crate::value::text::py_float_repr(*f),
            Cell::Text(s) => s.clone(),
        }
    }

    /// Equal as stored: NaN equals NaN (both missing), -0.0 differs from 0.0 only in text.
    pub fn same(&self, other: &Cell) -> bool {
        match (self, other) {
            (Cell::Float(a), Cell::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (a, b) => a == b,
        }
    }
}

impl From<NumpyCell> for Cell {
    fn from(c: NumpyCell) -> Cell {
        match c {
            NumpyCell::Missing => Cell::Null,
            NumpyCell::Bool(b) => Cell::Bool(b),
            NumpyCell::Int(i) => Cell::Int(i),
            NumpyCell::Float(f) => Cell::Float(f),
            NumpyCell::Text(t) => Cell::Text(t),
        }
    }
}

/// How Python objects in a column are printed.
fn object_text(v: &PyValue) -> Cell {
    match v {
        PyValue::None => Cell::Null,
        PyValue::Bool(b) => Cell::Bool(*b),
        PyValue::Int(i) => Cell::Int(i128::from(*i)),
        PyValue::Float(f) => Cell::Float(*f),
        PyValue::Str(s) => Cell::Text(s.clone()),
        other => {
            let opts = RenderOptions {
                max_items: 5,
                max_str_chars: 80,
                ..RenderOptions::default()
            };
            Cell::Text(render_inline(other, &opts))
        }
    }
}

impl Values {
    /// The cell at `row`; out-of-range or undecodable cells are `Null`.
    pub fn cell(&self, row: u64) -> Cell {
        match self {
            Values::Numpy { array, column } => numpy_cell(array, *column, row),
            Values::Objects(items) => usize::try_from(row)
                .ok()
                .and_then(|r| items.get(r))
                .map_or(Cell::Null, object_text),
            Values::Arrow(chunks) => {
                let mut row = row as usize;
                for chunk in chunks {
                    if row < chunk.len() {
                        return columnar::cell(chunk.as_ref(), row);
                    }
                    row -= chunk.len();
                }
                Cell::Null
            }
            Values::Range { start, step } => {
                Cell::Int(i128::from(*start) + i128::from(*step) * i128::from(row))
            }
            Values::Categorical { codes, categories } => match codes.cell(row) {
                Cell::Int(code) if code >= 0 => categories.cell(code as u64),
                _ => Cell::Null,
            },
        }
    }

    /// The raw bytes of a contiguous numpy column and its descr, for fast comparison.
    pub fn raw_column(&self) -> Option<(&str, &[u8])> {
        let Values::Numpy { array, column } = self else {
            return None;
        };
        if array.dtype == "|O" {
            return None;
        }
        let size = array.itemsize()? as usize;
        let rows = block_rows(array) as usize;
        if array.fortran_order && array.shape.len() == 2 && array.shape[0] > 1 {
            return None;
        }
        let start = (*column as usize).checked_mul(rows)?.checked_mul(size)?;
        let end = start.checked_add(rows.checked_mul(size)?)?;
        Some((array.dtype.as_str(), array.data.get(start..end)?))
    }

    /// Where the cells of `self` and `other` differ, for columns stored the same way: the
    /// item size and the byte-equal rows are found without formatting anything.
    pub fn same_raw<'a>(&'a self, other: &'a Values) -> Option<(usize, &'a [u8], &'a [u8])> {
        let (a_type, a) = self.raw_column()?;
        let (b_type, b) = other.raw_column()?;
        if a_type != b_type {
            return None;
        }
        let size = NdArray::new(a_type.to_string(), Vec::new(), false, Vec::new()).itemsize()?;
        Some((size as usize, a, b))
    }
}

/// Rows of a numpy block: the last dimension (a block is `(columns, rows)`).
fn block_rows(array: &NdArray) -> u64 {
    array.shape.last().copied().unwrap_or(1)
}

fn numpy_cell(array: &NdArray, column: u64, row: u64) -> Cell {
    let rows = block_rows(array);
    if row >= rows {
        return Cell::Null;
    }
    let columns = if array.shape.len() >= 2 {
        array.shape[0]
    } else {
        1
    };
    let index = if array.fortran_order && array.shape.len() == 2 {
        row * columns + column
    } else {
        column * rows + row
    };
    if array.dtype == "|O" {
        return usize::try_from(index)
            .ok()
            .and_then(|i| array.objects.get(i))
            .map_or(Cell::Null, object_text);
    }
    crate::value::numpy::element_cell(array, index).map_or(Cell::Null, Cell::from)
}

impl Table {
    /// A pandas or polars frame or series, when `value` is one; the value back otherwise.
    pub fn from_value(value: PyValue) -> Result<Table, PyValue> {
        let PyValue::Object(obj) = value else {
            return Err(value);
        };
        let class = (obj.class.module.as_str(), obj.class.name.as_str());
        match class {
            ("pandas" | "pandas.core.frame", "DataFrame")
            | ("pandas" | "pandas.core.series", "Series") => {
                pandas::frame(&obj).ok_or(PyValue::Object(obj))
            }
            (m, "DataFrame" | "Series") if m.starts_with("polars") => {
                columnar::polars(&obj).ok_or(PyValue::Object(obj))
            }
            _ => Err(PyValue::Object(obj)),
        }
    }

    /// The columns with the index (when there is one) first.
    pub fn all_columns(&self) -> impl Iterator<Item = &Column> {
        self.index.iter().chain(&self.columns)
    }
}
