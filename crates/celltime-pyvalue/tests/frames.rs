//! Data frames made by real pandas, polars and pyarrow (`tests/data/frames/make_frames.py`)
//! decode into tables with the right labels, dtypes and cells.

use std::path::PathBuf;

use celltime_pyvalue::pickle::{self, Limits};
use celltime_pyvalue::table::{Table, TableKind, read_ipc};

fn read(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/frames")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn table(name: &str) -> Table {
    let value =
        pickle::decode(&read(name), &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    Table::from_value(value).unwrap_or_else(|v| panic!("{name} is not a table: {v:?}"))
}

/// Names, dtypes, and every row as text.
fn summary(t: &Table) -> (Vec<String>, Vec<String>, Vec<Vec<String>>) {
    let names = t.all_columns().map(|c| c.name.clone()).collect();
    let dtypes = t.all_columns().map(|c| c.dtype.clone()).collect();
    let rows = (0..t.rows)
        .map(|r| t.all_columns().map(|c| c.values.cell(r).text()).collect())
        .collect();
    (names, dtypes, rows)
}

fn row(t: &Table, r: u64) -> Vec<String> {
    t.all_columns().map(|c| c.values.cell(r).text()).collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn pandas_frames_of_every_protocol() {
    for p in [2, 4, 5] {
        let t = table(&format!("pandas_mixed_p{p}.pickle"));
        let (names, dtypes, rows) = summary(&t);
        assert_eq!(t.kind, TableKind::PandasDataFrame);
        assert_eq!(
            names,
            strs(&["id", "score", "name", "when", "kind", "flag"])
        );
        assert_eq!(
            dtypes,
            strs(&[
                "int64",
                "float64",
                "str",
                "datetime64[us]",
                "category",
                "bool"
            ])
        );
        assert_eq!(
            rows,
            vec![
                strs(&[
                    "1",
                    "0.20065631450172938",
                    "ada",
                    "2024-01-01 00:00:00",
                    "x",
                    "True"
                ]),
                strs(&["2", "2.5", "bob", "2024-01-02 03:04:05", "y", "False"]),
                strs(&["3", "nan", "<NA>", "2024-02-29 00:00:00", "x", "True"]),
                strs(&["4", "-1e-07", "dé", "2025-12-31 23:59:59", "<NA>", "True"]),
            ],
            "protocol {p}"
        );
    }
}

#[test]
fn pandas_index_series_and_pyarrow_columns() {
    let t = table("pandas_indexed.pickle");
    let (names, dtypes, _) = summary(&t);
    assert_eq!(names, strs(&["fruit", "qty", "price"]));
    assert_eq!(dtypes, strs(&["str", "int32", "float64"]));
    assert_eq!(row(&t, 1), strs(&["pear", "1", "100.0"]));
    let s = table("pandas_series.pickle");
    assert_eq!(s.kind, TableKind::PandasSeries);
    assert_eq!(summary(&s).0, strs(&["", "x"]));
    assert_eq!(row(&s, 1), strs(&["b", "nan"]));
    let a = table("pandas_pyarrow.pickle");
    assert_eq!(summary(&a).1, strs(&["int64[pyarrow]", "string[pyarrow]"]));
    assert_eq!(row(&a, 1), strs(&["<NA>", "q"]));
    assert_eq!(row(&a, 2), strs(&["3", "<NA>"]));
}

#[test]
fn polars_frames_and_series() {
    let t = table("polars_frame.pickle");
    assert_eq!(t.kind, TableKind::PolarsDataFrame);
    let (names, dtypes, rows) = summary(&t);
    assert_eq!(names, strs(&["id", "name", "when", "kind", "score"]));
    assert_eq!(dtypes, strs(&["i64", "str", "datetime[μs]", "cat", "f64"]));
    assert_eq!(
        rows[1],
        strs(&["2", "<NA>", "2024-01-02 03:04:05", "y", "2.5"])
    );
    let s = table("polars_series.pickle");
    assert_eq!((s.kind, s.rows), (TableKind::PolarsSeries, 3));
    assert_eq!(row(&s, 2), strs(&["<NA>"]));
}

#[test]
fn arrow_ipc_files_and_streams() {
    for name in ["table.arrow", "table.arrows", "table.feather"] {
        let t = read_ipc(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (names, dtypes, rows) = summary(&t);
        assert_eq!(names, strs(&["a", "b", "c"]), "{name}");
        assert_eq!(dtypes, strs(&["Int64", "Utf8", "Float64"]), "{name}");
        assert_eq!(rows[2], strs(&["3", "z", "-0.0"]), "{name}");
    }
    let t = read_ipc(&read("polars.arrow")).unwrap();
    assert_eq!(t.rows, 3);
    assert!(read_ipc(b"ARROW1 not really").is_err());
    assert!(read_ipc(&read("table.arrow")[..200]).is_err());
}
