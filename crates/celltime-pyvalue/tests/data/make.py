"""Regenerates the pickle/npy/json fixtures in this folder with real CPython (and numpy, marimo).

Run from anywhere with a Python that has numpy and marimo==0.25.2 installed:

    python3 -m venv .venv && .venv/bin/pip install numpy marimo==0.25.2
    .venv/bin/python crates/celltime-pyvalue/tests/data/make.py

The fixtures used by tests/pickle_decode.rs were made with CPython 3.11.7, numpy 2.4.6 and
marimo 0.25.2. Sets only hold small ints so their iteration order does not depend on
PYTHONHASHSEED; the marimo notebook draws no random numbers, so its cache keys are stable for a
given CPython version.
"""

import collections
import datetime
import pathlib
import pickle
import shutil
import subprocess
import sys
import types

HERE = pathlib.Path(__file__).resolve().parent
PROTOCOLS = (0, 2, 4, 5)


class Point:
    """An instance of a class that only exists in __main__ (like a notebook-defined class)."""

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slotted:
    __slots__ = ("a",)

    def __init__(self, a):
        self.a = a


def write(name, data):
    (HERE / name).write_bytes(data)


def containers():
    return {
        "list": [1, 2, [3, 4]],
        "tuple": (1, "a", None),
        "t0": (),
        "t1": (1,),
        "t2": (1, 2),
        "t3": (1, 2, 3),
        "t4": (1, 2, 3, 4),
        "set": {3, 1, 2},
        "frozenset": frozenset({7, 8}),
        "empty_set": set(),
        "nested": {"a": {"b": {"c": [True, False, None]}}},
        "empty_dict": {},
        "empty_list": [],
        5: "int key",
        (1, 2): "tuple key",
    }


def scalars():
    return [
        0, 1, -1, 255, 256, 65535, 65536, -(2**31), 2**31 - 1, 2**31, 2**63 - 1, -(2**63),
        2**63, -(2**63) - 1, 2**100, -(2**100),
        1.5, -0.0, float("nan"), float("inf"), float("-inf"), 1e300, 5e-324,
        True, False, None, complex(1, -2),
    ]


def text():
    return [
        "", "ascii", "héllo wörld", "日本語", "emoji 😀", "ctl\x00\x1b[31m\n\t\\'\"\r\x1a",
        b"", b"\x00\x01\xff", bytearray(b"ba\x00"), "x" * 300, b"y" * 300,
    ]


def shared():
    a = [1, 2]
    return [a, a, {"k": a}]


def recursive():
    lst = []
    lst.append(lst)
    lst.append(1)
    d = {}
    d["self"] = d
    return [lst, d]


def objects(proto):
    # protocols 0 and 1 cannot pickle a __slots__ class without __getstate__
    slotted = [Slotted(3)] if proto >= 2 else []
    return [
        Point(1, "two"),
        *slotted,
        types.SimpleNamespace(a=1, b="two"),
        collections.OrderedDict([("z", 1), ("a", 2)]),
        datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
        datetime.date(2024, 1, 2),
        datetime.timedelta(days=1, seconds=2),
    ]


def basic_fixtures():
    cases = {
        "containers": containers(),
        "scalars": scalars(),
        "text": text(),
        "shared": shared(),
        "recursive": recursive(),
    }
    for proto in PROTOCOLS:
        for name, value in cases.items():
            write(f"{name}_p{proto}.pickle", pickle.dumps(value, protocol=proto))
        write(f"objects_p{proto}.pickle", pickle.dumps(objects(proto), protocol=proto))


def numpy_fixtures():
    import numpy as np

    value = {
        "i64": np.arange(6, dtype=np.int64).reshape(2, 3),
        "f64": np.array([[0.5, -1.0], [np.inf, np.nan]]),
        "bool": np.array([True, False, True]),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
        "be_u2": np.arange(3, dtype=">u2"),
        "f32": np.array([1.5, -2.25], dtype=np.float32),
        "empty": np.zeros((0, 3)),
        "str": np.array(["ab", "c"]),
        "scalar_f64": np.float64(2.5),
        "scalar_i64": np.int64(7),
    }
    for proto in (2, 4, 5):
        write(f"numpy_p{proto}.pickle", pickle.dumps(value, protocol=proto))
    # NPY files in every header version, plus a big-endian and an object array
    arr = np.arange(6, dtype=np.float64).reshape(2, 3)
    for version in ((1, 0), (2, 0), (3, 0)):
        path = HERE / f"arr_v{version[0]}.npy"
        with open(path, "wb") as f:
            np.lib.format.write_array(f, arr, version=version)
    np.save(HERE / "fortran_i2.npy", np.asfortranarray(np.arange(6, dtype="<i2").reshape(2, 3)))
    np.save(HERE / "be_f4.npy", np.array([1.0, 2.5], dtype=">f4"))
    np.save(HERE / "object.npy", np.array([1, "a"], dtype=object), allow_pickle=True)


NOTEBOOK = '''
import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import marimo as mo
    import numpy as np
    return mo, np


@app.cell
def _(mo):
    with mo.persistent_cache(name="ctx_block"):
        data = {"ints": list(range(5)), "nested": {"a": 1, "b": [True, None, "x"]}, "ratio": 0.25}
        squares = [i * i for i in range(5)]
    return data, squares


@app.cell
def _(mo):
    import types
    pre = types.SimpleNamespace(a=1)
    with mo.persistent_cache(name="context_block"):
        import math
        def plus_a(x):
            return x + pre.a
        class Local:
            k = 1
        plus_a_out = plus_a(2)
        ns_copy = types.SimpleNamespace(b=math.floor(2.5))
    return Local, math, ns_copy, plus_a, plus_a_out, pre, types


@app.cell
def _(mo, np):
    @mo.persistent_cache
    def expensive(n):
        return {"n": n, "arr": np.arange(n)}

    out = expensive(3)
    return expensive, out


@app.cell
def _(mo):
    with mo.persistent_cache(name="json_block", method="json"):
        json_payload = {"k": [1, 2, 3], "s": "hello", "nan": float("nan"), "inf": float("inf")}
    return (json_payload,)


@app.cell
def _(mo, np):
    with mo.persistent_cache(name="lazy_block", method="lazy"):
        lazy_arr = np.arange(6, dtype=np.float64).reshape(2, 3)
        lazy_list = [1, "two", 3.0]
        lazy_int = 42
    return lazy_arr, lazy_int, lazy_list


if __name__ == "__main__":
    app.run()
'''


def marimo_fixtures():
    """Runs a small notebook in script mode at a fixed path and copies its cache files here."""
    work = pathlib.Path("/tmp/celltime-marimo-demo")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    (work / "notebook.py").write_text(NOTEBOOK)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "XDG_STATE_HOME": str(work / ".xdg")}
    subprocess.run([sys.executable, "notebook.py"], cwd=work, env=env, check=True)
    cache = work / "__marimo__" / "cache"
    for path in sorted(p for p in cache.rglob("*") if p.is_file()):
        rel = path.relative_to(cache)
        block = rel.parts[0]
        if len(rel.parts) == 2:
            # <block>/<P>_<hash>.<ext>: keep the prefix letter, drop the hash
            name = f"marimo_{block}_{rel.parts[1][0]}{path.suffix}"
        else:
            # lazy blob: <block>/<hash>/<var>.<fmt>
            name = f"marimo_{block}_blob_{path.name}"
        shutil.copyfile(path, HERE / name)


def marimo_stub_fixtures():
    """ClassStub and UIElementStub built from marimo's real classes, with fixed attribute values
    (a real UIElementStub carries random element ids)."""
    import marimo as mo
    from marimo._save.stubs.class_stub import ClassStub
    from marimo._save.stubs.ui_element_stub import UIElementStub

    cls_stub = ClassStub.__new__(ClassStub)
    cls_stub.qualname = "Local"
    cls_stub.code = "class Local:\n    k = 1\n"
    slider = mo.ui.slider(1, 10, value=3)
    ui_stub = UIElementStub.__new__(UIElementStub)
    ui_stub.args = slider._args
    ui_stub.cls = type(slider)
    ui_stub.data = {"start": 1, "stop": 10, "_value": 3}
    write("marimo_stubs_p5.pickle", pickle.dumps([cls_stub, ui_stub], protocol=5))


def main():
    basic_fixtures()
    numpy_fixtures()
    marimo_fixtures()
    marimo_stub_fixtures()


if __name__ == "__main__":
    main()
