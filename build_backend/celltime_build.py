"""PEP 517 backend of the celltime wheel: maturin's, plus the `celltime` program.

maturin builds the store-only extension (`celltime._native`, crates/celltime-py), which marimo
imports in every notebook process and which links no terminal crate. The command-line program
(the root `celltime` package: CLI and terminal UI) is a second cargo build; it goes into the
wheel as a script (`<name>.data/scripts/celltime`), which pip, uv and pipx install into the
environment's `bin/` exactly as maturin ships `bin` bindings. Everything else is maturin's.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import maturin
from maturin import (  # noqa: F401  (re-exported PEP 517 hooks)
    build_sdist,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = "celltime.exe" if sys.platform == "win32" else "celltime"
# The cargo profile of both builds: `release` (the default) for people, `dev` for a test run
# that reuses the debug builds `cargo test` already made (scripts/test-python.sh).
PROFILE = os.environ.get("CELLTIME_WHEEL_PROFILE", "release")


def _build_program() -> Path:
    """`cargo build` of the celltime binary (shares the workspace's target/)."""
    cargo = os.environ.get("CARGO", "cargo")
    command = [cargo, "build", "--profile", PROFILE, "--locked", "-p", "celltime"]
    print("celltime_build: " + " ".join(command), file=sys.stderr, flush=True)
    subprocess.run([*command, "--bin", "celltime"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / ("debug" if PROFILE == "dev" else PROFILE) / PROGRAM


def _maturin_args(config_settings: dict[str, Any] | None) -> dict[str, Any] | None:
    """maturin builds the extension with the same profile."""
    if PROFILE == "release" or os.environ.get("MATURIN_PEP517_ARGS"):
        return config_settings
    return {**(config_settings or {}), "build-args": f"--profile {PROFILE}"}


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"{name},sha256={digest.decode()},{len(data)}"


def _add_program(wheel: Path, program: Path) -> None:
    """Rewrites `wheel` with the program as a script and a RECORD that lists it."""
    with zipfile.ZipFile(wheel) as source:
        infos = source.infolist()
        record = next(i.filename for i in infos if i.filename.endswith(".dist-info/RECORD"))
        data_dir = record.split("/", 1)[0].removesuffix(".dist-info") + ".data"
        script_name = f"{data_dir}/scripts/{PROGRAM}"
        script = program.read_bytes()
        fd, scratch = tempfile.mkstemp(suffix=".whl", dir=wheel.parent)
        os.close(fd)
        with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as out:
            for info in infos:
                if info.filename == record:
                    continue
                out.writestr(info, source.read(info))
            script_info = zipfile.ZipInfo(script_name, date_time=(1980, 1, 1, 0, 0, 0))
            script_info.external_attr = 0o100755 << 16
            script_info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(script_info, script)
            lines = source.read(record).decode().splitlines()
            lines = [line for line in lines if line and not line.startswith(record + ",")]
            lines.append(_record_line(script_name, script))
            lines.append(f"{record},,")
            out.writestr(record, "\n".join(lines) + "\n")
    shutil.move(scratch, wheel)


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    settings = _maturin_args(config_settings)
    name: str = maturin.build_wheel(wheel_directory, settings, metadata_directory)
    _add_program(Path(wheel_directory) / name, _build_program())
    return name


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    settings = _maturin_args(config_settings)
    name: str = maturin.build_editable(wheel_directory, settings, metadata_directory)
    _add_program(Path(wheel_directory) / name, _build_program())
    return name
