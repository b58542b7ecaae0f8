"""Regenerates values.jsonl: pickled Python values with CPython's own repr of each.

The corpus measures how close the non-executing decoder and renderer come to `repr` (see
tests/values_corpus.rs and docs/PREVIEWS.md). Run with the versions it was made with:

    python3 -m venv .venv
    .venv/bin/pip install numpy==2.4.6 pandas==3.1.1
    .venv/bin/python crates/celltime-pyvalue/tests/data/make_values.py

Made with CPython 3.11.7, numpy 2.4.6, pandas 3.1.1. Each line is one JSON object:
`{"id", "protocol", "pickle" (hex), "repr", "exclude"}`; `exclude` names why a value's repr
needs information its pickle does not hold (null otherwise).
"""

from __future__ import annotations

import array
import collections
import dataclasses
import datetime
import decimal
import enum
import fractions
import json
import pathlib
import pickle
import sys
import types
import uuid
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import test.pickletester as cpython_tests

HERE = pathlib.Path(__file__).resolve().parent
PROTOCOLS = (0, 1, 2, 3, 4, 5)

# Python refuses to print ints past this many digits (int_max_str_digits); keep under it.
assert sys.version_info[:2] == (3, 11)


class Point(NamedTuple):
    x: int
    y: int


@dataclasses.dataclass
class Measure:
    name: str
    value: float


@dataclasses.dataclass(frozen=True)
class Frozen:
    a: int
    b: tuple[int, ...]


class Plain:
    def __init__(self) -> None:
        self.a = 1


class Slotted:
    __slots__ = ("a",)

    def __init__(self) -> None:
        self.a = 2


class Color(enum.Enum):
    RED = 1
    GREEN = 2


class Flag(enum.IntFlag):
    R = 4
    W = 2


class Shout(str):
    pass


def f_top() -> None:
    pass


UTC = datetime.timezone.utc
PLUS2 = datetime.timezone(datetime.timedelta(hours=2))

EXCLUDE_ENUM = "an enum member's name is not in its pickle"
EXCLUDE_ADDRESS = "repr shows a memory address"

SURROGATES = "\ud800"


def values() -> list[tuple[str, Any, str | None]]:
    """(id, value, exclusion reason or None)."""
    v: list[tuple[str, Any, str | None]] = []

    def add(name: str, value: Any, exclude: str | None = None) -> None:
        v.append((name, value, exclude))

    # Scalars
    for i, x in enumerate([None, True, False, 0, 1, -1, 255, 256, 65535, 65536, -129,
                           2**31 - 1, -(2**31), 2**31, 2**63 - 1, -(2**63), 2**63, 2**64,
                           2**70, -(2**70), 10**30, -(10**50) + 7, 2**1000, 3**2000,
                           10**4000 + 12345]):
        add(f"int{i}", x)
    for i, x in enumerate([0.0, -0.0, 1.0, 1.5, 0.1, 0.2 + 0.1, 1e16, 1.5e16, 1e-5, 1e-4,
                           123456789012345.6, 5e-324, 1.7976931348623157e308, float("inf"),
                           float("-inf"), float("nan"), 0.20065631450172938, 2.0**70,
                           3.141592653589793, -2.5e-300, 1e22, 1e21, 9007199254740993.0]):
        add(f"float{i}", x)
    for i, x in enumerate([1j, 1 + 2j, -1.5 - 0.5j, complex(0, -0.0), complex(float("inf"), 1),
                           complex(-0.0, 2)]):
        add(f"complex{i}", x)
    # Text
    for i, x in enumerate(["", "a", "it's", 'say "hi"', "both ' and \"", "tab\there",
                           "line\nbreak", "cr\r", "back\\slash", "nul\x00", "bell\x07",
                           "esc\x1b[31m", "del\x7f", "c1\x85", "nbsp\xa0", "shy\xad",
                           "ideo\u3000space", "private\ue000", "tag\U000e0041", "zwsp\u200b",
                           "rlo\u202e", "bom\ufeff", "ls\u2028", "é", "日本語", "emoji😀",
                           "combining e\u0301", SURROGATES, "a\udfffb", "\U0010ffff",
                           "x" * 300, "\u00ff\u0100", "noncharacter\ufffe", "\u0378"]):
        add(f"str{i}", x)
    for i, x in enumerate([b"", b"abc", b"\x00\xff", b"'", b'"', b"'\"", b"\\", b"\n\r\t",
                           bytes(range(256)), b"x" * 100]):
        add(f"bytes{i}", x)
    for i, x in enumerate([bytearray(), bytearray(b"ab"), bytearray(b"\x00\x80")]):
        add(f"bytearray{i}", x)
    # Containers
    add("list_empty", [])
    add("list", [1, "a", None, 2.5])
    add("list_nested", [[1, [2, [3, [4]]]], []])
    add("tuple0", ())
    add("tuple1", (1,))
    add("tuple2", (1, 2))
    add("tuple3", ("a", "b", "c"))
    add("tuple_nested", ((1,), ((2,),)))
    add("dict_empty", {})
    add("dict", {"a": 1, "b": [1, 2], 3: "c", None: True, (1, 2): 2.5})
    add("dict_nested", {"a": {"b": {"c": {}}}})
    add("set_empty", set())
    add("set_ints", {1, 2, 3})
    add("frozenset_empty", frozenset())
    add("frozenset_ints", frozenset({5, 6}))
    add("set_in_list", [{1}, frozenset({2})])
    rec: list[Any] = [1]
    rec.append(rec)
    add("recursive_list", rec)
    drec: dict[str, Any] = {}
    drec["self"] = drec
    add("recursive_dict", drec)
    shared = [1, 2]
    add("shared", [shared, shared])
    add("range", range(1, 10, 2))
    add("slice", slice(1, None, 2))
    add("ellipsis", Ellipsis)
    add("notimplemented", NotImplemented)
    # collections
    add("ordereddict_empty", collections.OrderedDict())
    add("ordereddict", collections.OrderedDict([("b", 1), ("a", 2)]))
    add("counter", collections.Counter({"a": 3, "b": 1}))
    add("counter_empty", collections.Counter())
    add("defaultdict_list", collections.defaultdict(list, {"a": [1]}))
    add("defaultdict_int", collections.defaultdict(int))
    add("deque", collections.deque([1, 2, 3]))
    add("deque_maxlen", collections.deque([1], maxlen=4))
    add("namedtuple", Point(1, 2))
    add("namedtuple_nested", [Point(3, Point(4, 5))])
    add("simplenamespace", types.SimpleNamespace(a=1, b="x"))
    add("dataclass", Measure("m", 1.5))
    add("dataclass_frozen", Frozen(1, (2, 3)))
    add("plain_object", Plain())
    add("slotted_object", Slotted())
    add("str_subclass", Shout("hey"))
    add("enum", Color.RED, EXCLUDE_ENUM)
    add("intflag", Flag.R | Flag.W, EXCLUDE_ENUM)
    add("function", f_top, EXCLUDE_ADDRESS)
    add("builtin_function", len)
    add("class", Point)
    add("builtin_type", int)
    add("none_type", type(None))
    # array.array
    for code, items in [("b", [-1, 2]), ("B", [1, 255]), ("h", [-300]), ("H", [300]),
                        ("i", [1, -2]), ("I", [7]), ("l", [-5]), ("L", [5]), ("q", [-(2**40)]),
                        ("Q", [2**40]), ("f", [1.5, 0.1]), ("d", [0.1, -2.5]), ("u", ["a", "é"]),
                        ("d", [])]:
        add(f"array_{code}_{len(items)}", array.array(code, items))
    # datetime
    add("date", datetime.date(2024, 2, 29))
    add("date_min", datetime.date.min)
    add("time", datetime.time(13, 5))
    add("time_us", datetime.time(13, 5, 7, 120))
    add("time_tz", datetime.time(1, 2, tzinfo=UTC))
    add("time_fold", datetime.time(1, 30, fold=1))
    add("datetime", datetime.datetime(2024, 1, 2, 3, 4, 5, 6))
    add("datetime_midnight", datetime.datetime(2024, 1, 2))
    add("datetime_utc", datetime.datetime(2024, 1, 2, 3, 4, tzinfo=UTC))
    add("datetime_plus2", datetime.datetime(2024, 1, 2, 3, 4, tzinfo=PLUS2))
    add("datetime_fold", datetime.datetime(2024, 11, 3, 1, 30, fold=1))
    add("datetime_max", datetime.datetime.max)
    add("timedelta0", datetime.timedelta(0))
    add("timedelta", datetime.timedelta(days=-1, seconds=5, microseconds=7))
    add("timedelta_us", datetime.timedelta(microseconds=1))
    add("timezone_utc", UTC)
    add("timezone_plus2", PLUS2)
    add("timezone_named", datetime.timezone(datetime.timedelta(hours=-5), "EST"))
    # stdlib numbers and ids
    add("decimal", decimal.Decimal("1.50"))
    add("decimal_nan", decimal.Decimal("NaN"))
    add("fraction", fractions.Fraction(1, 3))
    add("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678"))
    # numpy
    add("np_int64", np.int64(5))
    add("np_int8", np.int8(-3))
    add("np_uint16", np.uint16(7))
    add("np_float64", np.float64(0.1))
    add("np_float32", np.float32(0.1))
    add("np_float16", np.float16(1.5))
    add("np_bool", np.bool_(True))
    add("np_complex128", np.complex128(1 + 2j))
    add("np_str", np.str_("hi"))
    add("np_bytes", np.bytes_(b"hi"))
    add("np_longdouble", np.longdouble(1.5))
    add("np_longdouble_tenth", np.longdouble("0.1"))
    add("np_datetime64", np.datetime64("2024-01-02T03:04:05", "s"))
    add("np_datetime64_nat", np.datetime64("NaT", "ns"))
    add("np_timedelta64", np.timedelta64(5, "D"))
    add("arr_i8", np.arange(6, dtype=np.int64).reshape(2, 3))
    add("arr_i4", np.array([1, -2], dtype=np.int32))
    add("arr_u1", np.array([0, 255], dtype=np.uint8))
    add("arr_f8", np.array([0.5, 1.0, float("nan")]))
    add("arr_f8_int_like", np.array([1.0, 2.0]))
    add("arr_f4", np.array([0.1, 2.5], dtype=np.float32))
    add("arr_bool", np.array([True, False]))
    add("arr_c16", np.array([1 + 2j, -1j]))
    add("arr_empty", np.zeros((0,), dtype=np.int64))
    add("arr_empty_2d", np.zeros((0, 3)))
    add("arr_0d", np.array(5))
    add("arr_0d_float", np.array(2.5))
    add("arr_U", np.array(["a", "bc"]))
    add("arr_S", np.array([b"a", b"bc"]))
    add("arr_obj", np.array([1, "a", None], dtype=object))
    add("arr_fortran", np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)))
    add("arr_big_endian", np.array([1, 258], dtype=">u2"))
    add("arr_M8_D", np.array(["2024-01-01", "2024-03-01"], dtype="datetime64[D]"))
    add("arr_M8_s", np.array(["2024-01-01T01:02:03", "NaT"], dtype="datetime64[s]"))
    add("arr_M8_ns", np.array(["2024-01-01T00:00:00.000000001"], dtype="datetime64[ns]"))
    add("arr_m8_h", np.array([1, -2], dtype="timedelta64[h]"))
    add("arr_m8_ms", np.array([1500, 0], dtype="timedelta64[ms]"))
    add("arr_structured", np.array([(1, 2.5), (3, 4.0)], dtype=[("a", "<i4"), ("b", "<f8")]))
    add("arr_longdouble", np.array([1.5, 2.0], dtype=np.longdouble))
    add("arr_3d", np.arange(8, dtype=np.int64).reshape(2, 2, 2))
    add("arr_long", np.arange(2000, dtype=np.int64))
    add("dtype_f8", np.dtype("float64"))
    add("dtype_i4", np.dtype("int32"))
    add("dtype_M8", np.dtype("datetime64[ns]"))
    # pandas scalars
    add("pd_timestamp", pd.Timestamp("2024-01-02 03:04:05"))
    add("pd_timestamp_us", pd.Timestamp("2024-01-02 03:04:05.123456"))
    add("pd_timestamp_date", pd.Timestamp("2024-01-02"))
    add("pd_timestamp_ns", pd.Timestamp("2024-01-02 03:04:05.000000001"))
    add("pd_timedelta", pd.Timedelta(days=1, hours=2))
    add("pd_nat", pd.NaT)
    add("pd_na", pd.NA)
    return v


def main() -> None:
    rows: list[dict[str, Any]] = []
    for name, value, exclude in values():
        for protocol in PROTOCOLS:
            try:
                data = pickle.dumps(value, protocol=protocol)
            except (TypeError, pickle.PicklingError) as e:
                # e.g. a __slots__ class under protocol 0/1: nothing to preview
                print(f"{name} protocol {protocol}: {e}", file=sys.stderr)
                continue
            rows.append({
                "id": name,
                "protocol": protocol,
                "pickle": data.hex(),
                "repr": repr(pickle.loads(data)),
                "exclude": exclude,
            })
    for name in ("DATA0", "DATA1", "DATA2", "DATA3", "DATA4", "DATA_SET", "DATA_XRANGE",
                 "DATA_COOKIE", "DATA_SET2"):
        data = getattr(cpython_tests, name)
        try:
            value = pickle.loads(data)
        except Exception as e:  # noqa: BLE001 - a test pickle CPython itself cannot load
            print(f"skipping {name}: {e}", file=sys.stderr)
            continue
        rows.append({"id": f"cpython_{name}", "protocol": data[1] if data[0] == 0x80 else 0,
                     "pickle": data.hex(), "repr": repr(value), "exclude": None})
    with open(HERE / "values.jsonl", "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=True) + "\n")
    print(f"{len(rows)} values", file=sys.stderr)


if __name__ == "__main__":
    main()
