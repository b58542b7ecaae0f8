"""Benchmark: marimo's persistent cache on celltime's store against marimo's own FileStore.

Run it with a Python that has marimo 0.25.2 and the celltime wheel installed (for example the
venv scripts/test-python.sh makes):

    target/python-venv/bin/python benches/marimo_store.py [--calls 10000] [--runs 5]

Side by side, in one run, on the same notebook: `calls` small `@mo.persistent_cache` calls
written (all misses, a fresh workspace each run), then read back (all hits); the wall time of
the whole `python nb.py` and the time of the calls alone, medians of `runs` runs each. Then one
miss into a notebook that already holds `prefill` (100,000) entries, next to the same miss into
an empty notebook (medians of 50).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOTEBOOK = """import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import os
    import time

    import marimo as mo

    return mo, os, time


@app.cell
def _(mo, os, time):
    @mo.persistent_cache
    def small(i):
        return {"i": i, "double": 2 * i}

    calls = int(os.environ["BENCH_CALLS"])
    started = time.perf_counter()
    total = sum(small(i)["double"] for i in range(calls))
    print("CALLS", time.perf_counter() - started, total)
    return


if __name__ == "__main__":
    app.run()
"""

BIN = Path(sys.executable).parent


def environment(home: Path, calls: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARIMO_", "CELLTIME_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        BENCH_CALLS=str(calls),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_notebook(workspace: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds of `python nb.py`, seconds of the calls alone)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "nb.py"], cwd=workspace, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"nb.py failed:\n{done.stdout}\n{done.stderr}")
    line = next(line for line in done.stdout.splitlines() if line.startswith("CALLS"))
    return wall, float(line.split()[1])


def store_environment(name: str, scratch: Path, calls: int) -> dict[str, str]:
    """A HOME whose marimo config selects the store: marimo's default, or celltime."""
    home = scratch / f"home-{name}"
    home.mkdir()
    env = environment(home, calls)
    if name == "celltime":
        enable = [str(BIN / "celltime"), "marimo", "enable"]
        subprocess.run(enable, env=env, check=True, capture_output=True)
    return env


def measure_once(
    name: str, env: dict[str, str], workspace: Path, results: dict[str, list[float]]
) -> None:
    """One run of misses (a fresh workspace) then one of hits."""
    workspace.mkdir()
    (workspace / "nb.py").write_text(NOTEBOOK)
    for kind in ("miss", "hit"):
        wall, inner = run_notebook(workspace, env)
        results[kind].append(wall)
        results[f"{kind}_calls"].append(inner)
    if name == "celltime" and (workspace / "__marimo__" / "cache").exists():
        raise SystemExit("the celltime run wrote to __marimo__/cache")
    if not any((workspace / "__marimo__").rglob("*")):
        raise SystemExit(f"{name}: nothing was cached")
    shutil.rmtree(workspace)


def one_miss(workspace: Path, key: str, prefill: int, samples: int) -> dict[str, float]:
    """Median milliseconds of one miss into a notebook of `prefill` entries: as marimo waits
    for it (the run taken into the next batch), and written durably on its own (one pack
    transaction and one log append, each synced); and of opening the notebook."""
    from celltime import _native

    if prefill:
        filler = _native.Recorder(str(workspace), key, None, 10.0)
        payload = b"x" * 200
        for i in range(prefill):
            part = ("variables", "", "pickle", payload)
            filler.record(f"small/D_fill{i}.pickle", "small", [part])
        filler.close()
        # The filling's writes leave the page cache first, so they do not slow the syncs below.
        os.sync()
    started = time.perf_counter()
    recorder = _native.Recorder(str(workspace), key, None, 10.0)
    opened = (time.perf_counter() - started) * 1000
    taken, durable = [], []
    for i in range(samples):
        part = ("variables", "", "pickle", b"y" * 200)
        started = time.perf_counter()
        recorder.record(f"small/D_new{i}.pickle", "small", [part], "code")
        taken.append((time.perf_counter() - started) * 1000)
        recorder.flush()
        durable.append((time.perf_counter() - started) * 1000)
    recorder.close()
    return {
        "taken": statistics.median(taken),
        "durable": statistics.median(durable),
        "open": opened,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--prefill", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="celltime-bench-") as tmp:
        scratch = Path(tmp)
        names = ("file", "celltime")
        envs = {name: store_environment(name, scratch, args.calls) for name in names}
        stores: dict[str, dict[str, list[float]]] = {
            name: {"miss": [], "miss_calls": [], "hit": [], "hit_calls": []} for name in names
        }
        # Interleaved, so a busy machine slows both stores alike.
        for run in range(args.runs):
            for name in names:
                measure_once(name, envs[name], scratch / f"{name}-{run}", stores[name])
        print(f"marimo persistent_cache, {args.calls} small calls, medians of {args.runs} runs")
        print(f"{'':24}{'FileStore':>12}{'celltime':>12}{'ratio':>8}")
        rows = [
            ("misses: python nb.py", "miss"),
            ("misses: the calls alone", "miss_calls"),
            ("hits: python nb.py", "hit"),
            ("hits: the calls alone", "hit_calls"),
        ]
        for label, key in rows:
            file_s = statistics.median(stores["file"][key])
            cell_s = statistics.median(stores["celltime"][key])
            print(f"{label:24}{file_s:>11.3f}s{cell_s:>11.3f}s{cell_s / file_s:>8.2f}")
        big = one_miss(scratch / "big", "big", args.prefill, 50)
        empty = one_miss(scratch / "empty", "empty", 0, 50)
        print(f"one miss into {args.prefill} entries (into an empty notebook), medians of 50:")
        for label, key in (("as marimo waits for it", "taken"), ("written durably", "durable")):
            print(f"  {label:24}{big[key]:8.3f} ms ({empty[key]:.3f} ms)")
        print(f"  {'opening the notebook':24}{big['open']:8.1f} ms ({empty['open']:.1f} ms)")


if __name__ == "__main__":
    main()
