"""Fixtures of the plugin suite: a workspace with its own HOME, marimo's user config pointed at
celltime by the real `celltime marimo enable`, and helpers that run notebooks and the CLI.

The suite runs in an environment holding marimo 0.25.2 and the built celltime wheel (`.ci/run`
makes one); it fails, never skips, when that environment is missing.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

NOTEBOOKS = Path(__file__).parent / "notebooks"
MARIMO_VERSION = "0.25.2"
BIN = Path(sys.executable).parent


def pytest_configure(config: pytest.Config) -> None:
    del config
    problems = []
    try:
        found = importlib.metadata.version("marimo")
        if found != MARIMO_VERSION:
            problems.append(
                f"marimo {found} is installed; the plugin is pinned to {MARIMO_VERSION}"
            )
    except importlib.metadata.PackageNotFoundError:
        problems.append(f"marimo is not installed (pip install marimo=={MARIMO_VERSION})")
    try:
        importlib.metadata.version("celltime")
    except importlib.metadata.PackageNotFoundError:
        problems.append("the celltime wheel is not installed (pip install .)")
    if not (BIN / "celltime").is_file():
        problems.append(f"no celltime program in {BIN} (the wheel installs it)")
    if problems:
        raise pytest.UsageError(
            "the plugin suite needs a venv with marimo and the celltime wheel "
            "(see .ci/run): " + "; ".join(problems)
        )


@dataclass
class Workspace:
    root: Path
    env: dict[str, str]

    def add(self, notebook: str, as_path: str | None = None) -> Path:
        """Copies a test notebook into the workspace (optionally under another path)."""
        target = self.root / (as_path or notebook)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(NOTEBOOKS / notebook, target)
        return target

    def edit(self, notebook: str, old: str, new: str) -> None:
        path = self.root / notebook
        text = path.read_text()
        assert old in text, f"{old!r} not in {notebook}"
        path.write_text(text.replace(old, new))

    def run(
        self,
        notebook: str,
        *,
        extra_env: dict[str, str] | None = None,
        prefix: list[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """`python notebook.py` from the workspace; it must succeed."""
        env = {**self.env, **(extra_env or {})}
        command = [*(prefix or []), sys.executable, notebook]
        done = subprocess.run(
            command, cwd=self.root, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def marimo(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(BIN / "marimo"), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"marimo {args} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def celltime(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(BIN / "celltime"), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert done.returncode == 0, f"celltime {args} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def ls(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(self.celltime("ls", "--json").stdout)
        return rows

    def store_rows(self) -> list[dict[str, Any]]:
        """Entries of the store alone (marimo's own folder may hold lazy files too)."""
        done = subprocess.run(
            [str(BIN / "celltime"), "ls", "--json", str(self.root / "__marimo__" / "persist")],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        rows: list[dict[str, Any]] = json.loads(done.stdout)
        return [r for r in rows if r.get("backend", "store") == "store"]

    def facts(self, entry_id: str) -> dict[str, str]:
        shown = json.loads(self.celltime("show", entry_id, "--json").stdout)
        return {name: value for name, value in shown["facts"]}

    def part(self, entry_id: str, part: str) -> bytes:
        done = subprocess.run(
            [str(BIN / "celltime"), "show", entry_id, "--part", part, "--raw"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def cache_files(self) -> list[Path]:
        cache = self.root / "__marimo__" / "cache"
        return sorted(p for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def tokens(output: str, tag: str) -> list[str]:
    """The values a notebook printed after `tag` (one line)."""
    match = re.search(rf"^{tag} (.*)$", output, re.MULTILINE)
    assert match, f"no {tag} line in:\n{output}"
    return match.group(1).split()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace whose HOME has celltime enabled as marimo's cache store."""
    home = tmp_path / "home"
    root = tmp_path / "work"
    home.mkdir()
    root.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MARIMO_", "CELLTIME_", "XDG_"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PYTHONDONTWRITEBYTECODE="1",
        CELLTIME_WRITER="test_writer",
    )
    ws = Workspace(root, env)
    enabled = ws.celltime("marimo", "enable")
    assert "celltime" in enabled.stdout
    return ws
