"""What the wheel installs: the store-only extension marimo imports, and the celltime program."""

from __future__ import annotations

import importlib.metadata
import subprocess
from pathlib import Path

from conftest import BIN

TERMINAL_CRATES = (b"ratatui", b"crossterm", b"syntect", b"clap_builder")


def test_the_extension_marimo_imports_links_no_terminal_crate() -> None:
    import celltime._native as native

    extension = Path(native.__file__).read_bytes()
    program = (BIN / "celltime").read_bytes()
    # Crates leave their source paths in a build (panic locations): the program, which does
    # link the terminal UI, shows that the check can see them.
    assert b"celltime-store" in extension
    for crate in TERMINAL_CRATES:
        assert crate in program, crate
        assert crate not in extension, crate


def test_the_program_is_the_full_cli_and_the_entry_points_are_registered() -> None:
    done = subprocess.run(
        [str(BIN / "celltime"), "--help"], capture_output=True, text=True, check=True
    )
    for command in ("marimo", "serve", "ls", "prune"):
        assert f"  {command}" in done.stdout
    groups = {
        group: {e.name: e.value for e in importlib.metadata.entry_points(group=group)}
        for group in ("marimo.cache.store", "marimo.cell.executor", "marimo.kernel.lifespan")
    }
    assert groups["marimo.cache.store"]["celltime"] == "celltime.marimo:CelltimeStore"
    assert groups["marimo.cell.executor"]["celltime"] == "celltime.marimo:CelltimeExecutor"
    assert groups["marimo.kernel.lifespan"]["celltime"] == "celltime.marimo:kernel_lifespan"
