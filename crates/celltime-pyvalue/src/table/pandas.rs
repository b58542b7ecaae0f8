//! pandas `DataFrame` and `Series` pickles: the block manager's blocks (numpy arrays,
//! pyarrow-backed strings, datetime and categorical arrays) and its axes (the column labels and
//! the row index), as pandas 1–3 write them.

use std::sync::Arc;

use super::columnar::{pyarrow_name, restore_pyarrow};
use super::{Column, Table, TableKind, Values};
use crate::value::numpy::dtype_name;
use crate::value::{NdArray, PyObject, PyValue};

/// The BUILD state's attribute dict, when every key is a str.
fn attrs(obj: &PyObject) -> Option<&[(PyValue, PyValue)]> {
    match &obj.state {
        Some(PyValue::Dict(d)) => Some(d),
        _ => None,
    }
}

fn field<'a>(fields: &'a [(PyValue, PyValue)], name: &str) -> Option<&'a PyValue> {
    fields
        .iter()
        .find(|(k, _)| matches!(k, PyValue::Str(s) if s == name))
        .map(|(_, v)| v)
}

fn object(v: &PyValue) -> Option<&PyObject> {
    match v {
        PyValue::Object(o) => Some(o),
        _ => None,
    }
}

/// A block: its values and the column positions it fills.
struct Block<'a> {
    values: &'a PyValue,
    placement: Option<&'a PyValue>,
}

pub(super) fn frame(obj: &PyObject) -> Option<Table> {
    let state = attrs(obj)?;
    let mgr = object(field(state, "_mgr")?)?;
    let (blocks, axes) = manager(mgr)?;
    if obj.class.name == "Series" {
        let block = blocks.first()?;
        let (dtype, values, _) = block_values(block.values)?;
        let index = axes.first().and_then(|a| index(a))?;
        // pandas 3 keeps a series' name as `_name`, older pandas as `name`.
        let name = match field(state, "_name").or_else(|| field(state, "name")) {
            None | Some(PyValue::None) => String::new(),
            Some(v) => label(v),
        };
        return Some(Table {
            kind: TableKind::PandasSeries,
            rows: index.rows,
            index: index.shown(),
            columns: vec![Column {
                name,
                dtype,
                values,
            }],
        });
    }
    let [labels, rows] = axes.as_slice() else {
        return None;
    };
    let labels = index(labels)?;
    let rows = index(rows)?;
    let mut columns: Vec<Option<Column>> = vec![None; usize::try_from(labels.rows).ok()?];
    for block in &blocks {
        let (dtype, values, count) = block_values(block.values)?;
        for (j, position) in placement(block.placement, count)?.into_iter().enumerate() {
            let slot = columns.get_mut(usize::try_from(position).ok()?)?;
            *slot = Some(Column {
                name: labels.values.cell(position).text(),
                dtype: dtype.clone(),
                values: column_of(&values, j as u64),
            });
        }
    }
    Some(Table {
        kind: TableKind::PandasDataFrame,
        rows: rows.rows,
        index: rows.shown(),
        columns: columns.into_iter().collect::<Option<Vec<_>>>()?,
    })
}

/// Column `j` of a block's values (only numpy blocks hold more than one).
fn column_of(values: &Values, j: u64) -> Values {
    match values {
        Values::Numpy { array, .. } => Values::Numpy {
            array: Arc::clone(array),
            column: j,
        },
        other => other.clone(),
    }
}

/// The blocks and axes of a `BlockManager` or `SingleBlockManager`: pandas 3 reduces a
/// manager to `(blocks, axes)` of `_unpickle_block(values, placement, ndim)` calls; older
/// pandas (and every `SingleBlockManager`) pickle a state whose last item is
/// `{'0.14.1': {'axes': [...], 'blocks': [{'values', 'mgr_locs'}]}}`.
fn manager(mgr: &PyObject) -> Option<(Vec<Block<'_>>, Vec<&PyValue>)> {
    if let [PyValue::Tuple(blocks), PyValue::List(axes)] = mgr.args.as_slice() {
        let blocks = blocks
            .iter()
            .map(|b| {
                let call = object(b)?;
                match call.args.as_slice() {
                    [values, placement, ..] => Some(Block {
                        values,
                        placement: Some(placement),
                    }),
                    _ => None,
                }
            })
            .collect::<Option<Vec<_>>>()?;
        return Some((blocks, axes.iter().collect()));
    }
    let Some(PyValue::Tuple(state)) = &mgr.state else {
        return None;
    };
    let PyValue::Dict(versions) = state.last()? else {
        return None;
    };
    let PyValue::Dict(inner) = field(versions, "0.14.1")? else {
        return None;
    };
    let (PyValue::List(axes), PyValue::List(blocks)) =
        (field(inner, "axes")?, field(inner, "blocks")?)
    else {
        return None;
    };
    let blocks = blocks
        .iter()
        .map(|b| match b {
            PyValue::Dict(d) => Some(Block {
                values: field(d, "values")?,
                placement: field(d, "mgr_locs"),
            }),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((blocks, axes.iter().collect()))
}

/// Column positions of a block: `slice(start, stop, step)`, an int array, or `0..count`.
fn placement(p: Option<&PyValue>, count: u64) -> Option<Vec<u64>> {
    match p {
        None => Some((0..count).collect()),
        Some(PyValue::Object(s)) if s.class.name == "slice" => {
            let int = |v: Option<&PyValue>| match v {
                Some(PyValue::Int(i)) => u64::try_from(*i).ok(),
                _ => None,
            };
            let start = int(s.args.first()).unwrap_or(0);
            let step = int(s.args.get(2)).unwrap_or(1).max(1);
            Some((0..count).map(|j| start + j * step).collect())
        }
        Some(PyValue::NdArray(a)) => {
            let values = Values::Numpy {
                array: Arc::new((**a).clone()),
                column: 0,
            };
            (0..a.element_count)
                .map(|i| match values.cell(i) {
                    super::Cell::Int(v) => u64::try_from(v).ok(),
                    _ => None,
                })
                .collect()
        }
        Some(_) => None,
    }
}

/// A block's dtype as pandas names it, its values and how many columns it holds.
fn block_values(v: &PyValue) -> Option<(String, Values, u64)> {
    match v {
        PyValue::NdArray(a) => {
            let columns = if a.shape.len() >= 2 { a.shape[0] } else { 1 };
            let dtype = if a.dtype == "|O" {
                "object".to_string()
            } else {
                dtype_name(&a.dtype)
            };
            let values = Values::Numpy {
                array: Arc::new((**a).clone()),
                column: 0,
            };
            Some((dtype, values, columns))
        }
        PyValue::Object(o) => extension_array(o).map(|(d, v)| (d, v, 1)),
        _ => None,
    }
}

/// pandas extension arrays: pyarrow-backed (`ArrowStringArray`, `ArrowExtensionArray`), and
/// the numpy-backed ones pickled through `__pyx_unpickle_NDArrayBacked` (datetime, timedelta,
/// categorical, numpy-wrapped).
fn extension_array(o: &PyObject) -> Option<(String, Values)> {
    if let Some(state) = attrs(o)
        && let Some(pa) = field(state, "_pa_array")
    {
        let chunks = restore_pyarrow(pa)?;
        let dtype = match chunks.first() {
            _ if o.class.name == "ArrowStringArray" => "str".to_string(),
            Some(c) => format!("{}[pyarrow]", pyarrow_name(c.data_type())),
            None => "[pyarrow]".to_string(),
        };
        return Some((dtype, Values::Arrow(chunks)));
    }
    let class = match (o.class.name.as_str(), o.args.first()) {
        ("__pyx_unpickle_NDArrayBacked", Some(PyValue::Global(q))) => q.name.as_str(),
        _ => return None,
    };
    let Some(PyValue::Tuple(state)) = &o.state else {
        return None;
    };
    let [dtype, PyValue::NdArray(data), ..] = state.as_slice() else {
        return None;
    };
    let values = Values::Numpy {
        array: Arc::new((**data).clone()),
        column: 0,
    };
    match class {
        "Categorical" => {
            let dtype = object(dtype)?;
            let categories = index(field(attrs(dtype)?, "categories")?)?;
            Some((
                "category".into(),
                Values::Categorical {
                    codes: Box::new(values),
                    categories: Box::new(categories.values),
                },
            ))
        }
        _ => Some((extension_dtype(dtype, data), values)),
    }
}

/// `datetime64[us]`, `datetime64[ns, UTC]`: numpy's name, plus a time zone when the dtype has
/// one.
fn extension_dtype(dtype: &PyValue, data: &NdArray) -> String {
    let base = dtype_name(&data.dtype);
    let Some(tz) = object(dtype).and_then(attrs).and_then(|a| field(a, "tz")) else {
        return base;
    };
    let tz = match tz {
        PyValue::Str(s) => s.clone(),
        PyValue::Object(o) => o
            .args
            .iter()
            .find_map(|a| match a {
                PyValue::Str(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| o.class.name.clone()),
        _ => return base,
    };
    match base.strip_suffix(']') {
        Some(b) => format!("{b}, {tz}]"),
        None => format!("{base}, {tz}"),
    }
}

/// A decoded axis: its length, labels and name.
struct Index {
    rows: u64,
    values: Values,
    dtype: String,
    name: String,
    /// A `RangeIndex(0, rows, 1)`, which previews leave out as pandas' default.
    default: bool,
}

impl Index {
    fn shown(self) -> Option<Column> {
        (!self.default).then_some(Column {
            name: self.name,
            dtype: self.dtype,
            values: self.values,
        })
    }
}

/// `_new_Index(cls, {'data': …, 'name': …})`, `RangeIndex` as start/stop/step.
fn index(v: &PyValue) -> Option<Index> {
    let call = object(v)?;
    let [PyValue::Global(cls), PyValue::Dict(d)] = call.args.as_slice() else {
        return None;
    };
    let name = match field(d, "name") {
        None | Some(PyValue::None) => String::new(),
        Some(v) => label(v),
    };
    if cls.name == "RangeIndex" {
        let int = |k: &str| match field(d, k) {
            Some(PyValue::Int(i)) => Some(*i),
            _ => None,
        };
        let (start, stop, step) = (int("start")?, int("stop")?, int("step").unwrap_or(1));
        if step == 0 {
            return None;
        }
        let rows = u64::try_from(
            (i128::from(stop) - i128::from(start) + i128::from(step) - i128::from(step.signum()))
                / i128::from(step),
        )
        .unwrap_or(0);
        return Some(Index {
            rows,
            values: Values::Range { start, step },
            dtype: "int64".into(),
            name,
            default: start == 0 && step == 1,
        });
    }
    let (dtype, values, _) = block_values(field(d, "data")?)?;
    let rows = match &values {
        Values::Numpy { array, .. } => array.element_count,
        Values::Arrow(chunks) => chunks.iter().map(|c| c.len() as u64).sum(),
        Values::Categorical { codes, .. } => match codes.as_ref() {
            Values::Numpy { array, .. } => array.element_count,
            _ => return None,
        },
        _ => return None,
    };
    Some(Index {
        rows,
        values,
        dtype,
        name,
        default: false,
    })
}

/// A column or series label as pandas shows it.
fn label(v: &PyValue) -> String {
    match v {
        PyValue::Str(s) => s.clone(),
        other => super::object_text(other).text(),
    }
}
