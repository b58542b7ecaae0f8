"""Regenerates the data-frame fixtures in this folder with real pandas, polars and pyarrow.

    python3 -m venv .venv
    .venv/bin/pip install numpy==2.4.6 pandas==3.1.1 polars==2.1.0 pyarrow==26.0.1
    .venv/bin/python crates/celltime-pyvalue/tests/data/frames/make_frames.py

Made with CPython 3.11.7, numpy 2.4.6, pandas 3.1.1, polars 2.1.0 and pyarrow 26.0.1. The
values are fixed, so tests/frames.rs can assert headers, dtypes and rows.
"""

from __future__ import annotations

import datetime
import pathlib
import pickle

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.feather as feather

HERE = pathlib.Path(__file__).resolve().parent


def write(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def mixed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "score": [0.20065631450172938, 2.5, float("nan"), -1e-7],
            "name": ["ada", "bob", None, "dé"],
            "when": pd.to_datetime(
                ["2024-01-01 00:00:00", "2024-01-02 03:04:05", "2024-02-29 00:00:00",
                 "2025-12-31 23:59:59"]
            ),
            "kind": pd.Categorical(["x", "y", "x", None]),
            "flag": [True, False, True, True],
        }
    )


def main() -> None:
    df = mixed()
    for protocol in (2, 4, 5):
        write(f"pandas_mixed_p{protocol}.pickle", pickle.dumps(df, protocol=protocol))
    indexed = pd.DataFrame(
        {"qty": np.array([3, 1], dtype=np.int32), "price": [9.99, 100.0]},
        index=pd.Index(["apple", "pear"], name="fruit"),
    )
    write("pandas_indexed.pickle", pickle.dumps(indexed, protocol=5))
    series = pd.Series([1.5, None, 3.0], name="x", index=["a", "b", "c"])
    write("pandas_series.pickle", pickle.dumps(series, protocol=5))
    arrow_backed = pd.DataFrame(
        {"n": [1, None, 3], "s": ["p", "q", None]}
    ).convert_dtypes(dtype_backend="pyarrow")
    write("pandas_pyarrow.pickle", pickle.dumps(arrow_backed, protocol=5))
    wide = pd.DataFrame({f"c{i}": np.arange(100, dtype=np.int64) * i for i in range(30)})
    write("pandas_wide.pickle", pickle.dumps(wide, protocol=5))
    changed = df.copy()
    changed.loc[1, "score"] = 2.75
    changed.loc[3, "name"] = "dee"
    changed = pd.concat([changed, pd.DataFrame({"id": [5], "score": [1.0], "name": ["eve"],
                                                 "when": pd.to_datetime(["2026-01-01 00:00:00"]),
                                                 "kind": pd.Categorical(["y"]),
                                                 "flag": [False]})], ignore_index=True)
    changed["kind"] = pd.Categorical(changed["kind"], categories=["x", "y"])
    write("pandas_mixed_changed.pickle", pickle.dumps(changed, protocol=5))

    pdf = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["ada", None, "dé"],
            "when": [datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 2, 3, 4, 5),
                     None],
            "kind": pl.Series(["x", "y", "x"], dtype=pl.Categorical),
            "score": [0.1, 2.5, None],
        }
    )
    write("polars_frame.pickle", pickle.dumps(pdf, protocol=5))
    write("polars_series.pickle", pickle.dumps(pl.Series("v", [10, 20, None]), protocol=5))

    table = pa.table({"a": [1, 2, 3], "b": ["x", None, "z"], "c": [1.5, None, -0.0]})
    with pa.OSFile(str(HERE / "table.arrow"), "wb") as sink:
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    with pa.OSFile(str(HERE / "table.arrows"), "wb") as sink:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=2)
    feather.write_feather(table, str(HERE / "table.feather"), compression="uncompressed")
    pdf.write_ipc(str(HERE / "polars.arrow"))


if __name__ == "__main__":
    main()
