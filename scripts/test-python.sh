#!/usr/bin/env bash
# The Python suite of the marimo plugin (python/tests), as .ci/run runs it: a fresh venv with
# the pinned marimo, maturin, pytest and ruff (python/requirements-test.txt), the celltime wheel
# built from this checkout and installed with `pip install .` (the store extension and the
# celltime program: two cargo builds sharing target/), ruff, then pytest.
# CELLTIME_TEST_VENV names the venv (default target/python-venv); it is made anew each run.
# CELLTIME_WHEEL_PROFILE is the cargo profile of the wheel's builds: `dev` by default here, so
# the builds reuse what `cargo test` compiled (the tests check behaviour, not speed); `release`
# is what `pip install .` builds for people (and what benches/marimo_store.py needs).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CELLTIME_TEST_VENV:-target/python-venv}"
command -v python3 >/dev/null || { echo "python3 (3.10 or later, with venv) is required"; exit 1; }
rm -rf "$VENV"
python3 -m venv "$VENV"
VENV="$(cd "$VENV" && pwd)"
# The build backend runs maturin (and cargo) as programs: the venv's bin comes first.
export PATH="$VENV/bin:$PATH"
PY="$VENV/bin/python"
"$PY" -m pip install --quiet --upgrade pip
"$PY" -m pip install --quiet -r python/requirements-test.txt
export CELLTIME_WHEEL_PROFILE="${CELLTIME_WHEEL_PROFILE:-dev}"
echo "== pip install . (the wheel, $CELLTIME_WHEEL_PROFILE profile)"
start=$(date +%s)
"$PY" -m pip install --quiet --no-build-isolation .
echo "wheel built and installed in $(( $(date +%s) - start ))s"
echo "== ruff"
"$VENV/bin/ruff" format --check python build_backend benches
"$VENV/bin/ruff" check python build_backend benches
echo "== pytest python/tests"
"$PY" -m pytest python/tests
