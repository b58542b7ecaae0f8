//! Arrow data: IPC files and streams (read with the Arrow project's own reader, which validates
//! every buffer), polars frames (whose pickled state is an IPC stream), and the pyarrow arrays
//! pandas pickles as `_restore_array((type, length, null_count, offset, buffers, children,
//! dictionary))`.

use std::io::Cursor;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch, make_array};
use arrow_buffer::Buffer;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_data::ArrayData;
use arrow_ipc::reader::{FileReader, StreamReader};
use arrow_schema::{DataType, TimeUnit};

use super::{Cell, Column, Table, TableKind, Values};
use crate::value::{PyObject, PyValue};

/// Reads an Arrow IPC file (`ARROW1` magic: `.arrow`, `.feather` v2) or stream.
pub fn read_ipc(bytes: &[u8]) -> Result<Table, String> {
    let batches: Vec<RecordBatch> = if bytes.starts_with(b"ARROW1") {
        FileReader::try_new(Cursor::new(bytes), None)
            .map_err(|e| e.to_string())?
            .collect::<Result<_, _>>()
    } else {
        StreamReader::try_new(Cursor::new(bytes), None)
            .map_err(|e| e.to_string())?
            .collect::<Result<_, _>>()
    }
    .map_err(|e| e.to_string())?;
    let Some(first) = batches.first() else {
        return Err("no record batch".into());
    };
    let schema = first.schema();
    let columns = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| Column {
            name: field.name().clone(),
            dtype: field.data_type().to_string(),
            values: Values::Arrow(batches.iter().map(|b| b.column(i).clone()).collect()),
        })
        .collect();
    Ok(Table {
        kind: TableKind::Arrow,
        rows: batches.iter().map(|b| b.num_rows() as u64).sum(),
        index: None,
        columns,
    })
}

/// A polars `DataFrame` or `Series`: NEWOBJ, then BUILD with an IPC stream as its state.
pub(super) fn polars(obj: &PyObject) -> Option<Table> {
    let Some(PyValue::Bytes(state)) = &obj.state else {
        return None;
    };
    let mut table = read_ipc(state).ok()?;
    table.kind = if obj.class.name == "Series" {
        TableKind::PolarsSeries
    } else {
        TableKind::PolarsDataFrame
    };
    for column in &mut table.columns {
        if let Values::Arrow(chunks) = &column.values
            && let Some(first) = chunks.first()
        {
            column.dtype = polars_dtype(first.data_type());
        }
    }
    Some(table)
}

/// polars' names for the Arrow types it writes.
fn polars_dtype(t: &DataType) -> String {
    let unit = |u: &TimeUnit| match u {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "μs",
        TimeUnit::Nanosecond => "ns",
    };
    match t {
        DataType::Boolean => "bool".into(),
        DataType::Int8 => "i8".into(),
        DataType::Int16 => "i16".into(),
        DataType::Int32 => "i32".into(),
        DataType::Int64 => "i64".into(),
        DataType::UInt8 => "u8".into(),
        DataType::UInt16 => "u16".into(),
        DataType::UInt32 => "u32".into(),
        DataType::UInt64 => "u64".into(),
        DataType::Float32 => "f32".into(),
        DataType::Float64 => "f64".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "str".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".into(),
        DataType::Date32 => "date".into(),
        DataType::Timestamp(u, None) => format!("datetime[{}]", unit(u)),
        DataType::Timestamp(u, Some(tz)) => format!("datetime[{}, {tz}]", unit(u)),
        DataType::Duration(u) => format!("duration[{}]", unit(u)),
        DataType::Dictionary(_, _) => "cat".into(),
        DataType::List(f) | DataType::LargeList(f) | DataType::ListView(f) => {
            format!("list[{}]", polars_dtype(f.data_type()))
        }
        other => other.to_string(),
    }
}

/// One cell of an Arrow array: numbers as numbers, the rest as Arrow's display text.
pub(super) fn cell(array: &dyn Array, row: usize) -> Cell {
    if row >= array.len() || array.is_null(row) {
        return Cell::Null;
    }
    match array.data_type() {
        DataType::Boolean => Cell::Bool(array.as_boolean().value(row)),
        DataType::Int8 => Cell::Int(array.as_primitive::<Int8Type>().value(row).into()),
        DataType::Int16 => Cell::Int(array.as_primitive::<Int16Type>().value(row).into()),
        DataType::Int32 => Cell::Int(array.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => Cell::Int(array.as_primitive::<Int64Type>().value(row).into()),
        DataType::UInt8 => Cell::Int(array.as_primitive::<UInt8Type>().value(row).into()),
        DataType::UInt16 => Cell::Int(array.as_primitive::<UInt16Type>().value(row).into()),
        DataType::UInt32 => Cell::Int(array.as_primitive::<UInt32Type>().value(row).into()),
        DataType::UInt64 => Cell::Int(array.as_primitive::<UInt64Type>().value(row).into()),
        DataType::Float16 => Cell::Float(array.as_primitive::<Float16Type>().value(row).into()),
        DataType::Float32 => Cell::Float(array.as_primitive::<Float32Type>().value(row).into()),
        DataType::Float64 => Cell::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => Cell::Text(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Cell::Text(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Cell::Text(array.as_string_view().value(row).to_string()),
        t => {
            let options = FormatOptions::default().with_null("<NA>");
            match ArrayFormatter::try_new(array, &options) {
                // Dates and times as pandas and numpy columns show them: `2024-01-02 03:04:05`.
                Ok(f) if matches!(t, DataType::Timestamp(..)) => {
                    Cell::Text(f.value(row).to_string().replacen('T', " ", 1))
                }
                Ok(f) => Cell::Text(f.value(row).to_string()),
                Err(e) => Cell::Text(format!("<{e}>")),
            }
        }
    }
}

/// A pickled pyarrow `Array` or `ChunkedArray`, as Arrow arrays (validated).
pub(super) fn restore_pyarrow(v: &PyValue) -> Option<Vec<ArrayRef>> {
    let PyValue::Object(call) = v else {
        return None;
    };
    match call.class.name.as_str() {
        "_restore_array" => {
            let [PyValue::Tuple(args)] = call.args.as_slice() else {
                return None;
            };
            Some(vec![make_array(array_data(args)?)])
        }
        "chunked_array" => {
            let Some(PyValue::List(chunks)) = call.args.first() else {
                return None;
            };
            chunks
                .iter()
                .map(|c| restore_pyarrow(c).and_then(|mut v| v.pop()))
                .collect()
        }
        _ => None,
    }
}

/// `(type, length, null_count, offset, buffers, children, dictionary)` → validated data.
fn array_data(args: &[PyValue]) -> Option<ArrayData> {
    let [
        ty,
        PyValue::Int(len),
        _,
        PyValue::Int(offset),
        PyValue::List(buffers),
        PyValue::List(children),
        ..,
    ] = args
    else {
        return None;
    };
    let data_type = pyarrow_type(ty)?;
    let mut buffers = buffers.iter().map(|b| match b {
        PyValue::None => Some(None),
        PyValue::Object(o) if o.class.name == "py_buffer" => match o.args.first() {
            Some(PyValue::Bytes(b) | PyValue::ByteArray(b)) => Some(Some(Buffer::from(b.clone()))),
            _ => None,
        },
        _ => None,
    });
    let nulls = buffers.next()??;
    let rest = buffers.collect::<Option<Vec<_>>>()?;
    let rest = rest.into_iter().collect::<Option<Vec<_>>>()?;
    let children = children
        .iter()
        .map(|c| match c {
            PyValue::Tuple(t) => array_data(t),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    ArrayData::try_new(
        data_type,
        usize::try_from(*len).ok()?,
        nulls,
        usize::try_from(*offset).ok()?,
        rest,
        children,
    )
    .ok()
}

/// pyarrow's name of a type (`int64`, `string`, `timestamp[us]`), as pandas shows
/// `int64[pyarrow]`.
pub(super) fn pyarrow_name(t: &DataType) -> String {
    match t {
        DataType::Boolean => "bool".into(),
        DataType::Float16 => "halffloat".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Utf8 => "string".into(),
        DataType::LargeUtf8 => "large_string".into(),
        DataType::Utf8View => "string_view".into(),
        DataType::Binary => "binary".into(),
        DataType::LargeBinary => "large_binary".into(),
        DataType::Date32 => "date32[day]".into(),
        DataType::Date64 => "date64[ms]".into(),
        DataType::Timestamp(u, tz) => {
            let unit = match u {
                TimeUnit::Second => "s",
                TimeUnit::Millisecond => "ms",
                TimeUnit::Microsecond => "us",
                TimeUnit::Nanosecond => "ns",
            };
            match tz {
                Some(tz) => format!("timestamp[{unit}, tz={tz}]"),
                None => format!("timestamp[{unit}]"),
            }
        }
        other => other.to_string().to_lowercase(),
    }
}

/// The types pandas' pyarrow-backed columns pickle as `type_for_alias(name)`.
fn pyarrow_type(v: &PyValue) -> Option<DataType> {
    let PyValue::Object(call) = v else {
        return None;
    };
    let [PyValue::Str(alias)] = call.args.as_slice() else {
        return None;
    };
    if call.class.name != "type_for_alias" {
        return None;
    }
    Some(match alias.as_str() {
        "bool" => DataType::Boolean,
        "int8" => DataType::Int8,
        "int16" => DataType::Int16,
        "int32" => DataType::Int32,
        "int64" => DataType::Int64,
        "uint8" => DataType::UInt8,
        "uint16" => DataType::UInt16,
        "uint32" => DataType::UInt32,
        "uint64" => DataType::UInt64,
        "halffloat" | "float16" => DataType::Float16,
        "float" | "float32" => DataType::Float32,
        "double" | "float64" => DataType::Float64,
        "string" | "str" | "utf8" => DataType::Utf8,
        "large_string" | "large_str" | "large_utf8" => DataType::LargeUtf8,
        "binary" => DataType::Binary,
        "large_binary" => DataType::LargeBinary,
        "date32" | "date32[day]" => DataType::Date32,
        "date64" | "date64[ms]" => DataType::Date64,
        _ => {
            let unit = alias.strip_prefix("timestamp[")?.strip_suffix(']')?;
            let unit = match unit {
                "s" => TimeUnit::Second,
                "ms" => TimeUnit::Millisecond,
                "us" => TimeUnit::Microsecond,
                "ns" => TimeUnit::Nanosecond,
                _ => return None,
            };
            DataType::Timestamp(unit, None)
        }
    })
}
