"""celltime's marimo plugin (docs/MARIMO.md).

Two entry points, both registered by this package's wheel:

- `marimo.cache.store` -> `celltime`: `CelltimeStore`, selected by the user config table
  `[cache.store] type = "celltime"` (`celltime marimo enable` writes it). pickle and json
  caches are read from and written to `__marimo__/persist/`, one entry per run, with the code
  of the cell that ran; nothing goes to `__marimo__/cache/`.
- `marimo.cell.executor` -> `celltime`: `CelltimeExecutor`, which runs cells exactly as
  marimo's default executor does and, while the celltime store is the session's store,
  records the lazy and whole-cell entries marimo writes to its own `__marimo__/cache/` (those
  loaders ignore the configured store) with the exact code of the cell that produced them.

marimo calls these groups internal: this module relies on marimo 0.25.2 as pinned in
python/tests. Nothing here may break a notebook: every store failure is one warning and a
miss, and importing this module has no side effects (marimo imports every registered store
plugin whenever it resolves a store).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from marimo._save.stores.store import Store

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from celltime._native import Recorder

LOGGER = logging.getLogger("celltime")

MARIMO_DIR = "__marimo__"
# After the store was found busy, it is left alone this long (every call a miss) so a
# notebook never waits on the lock call after call.
BUSY_BACKOFF_SECONDS = 10.0
RECOMPUTE_ENV = "CELLTIME_RECOMPUTE"
WHOLE_CELL_BLOCK = "cell_cache"


@dataclass(frozen=True)
class NotebookRef:
    """Where a notebook's runs go: its workspace (the folder holding `__marimo__`), its key."""

    workspace: Path
    key: str
    source: str


@dataclass(frozen=True)
class RunContext:
    """What a write needs from the cell thread: the notebook and the code that ran."""

    notebook: NotebookRef
    code: str | None
    started_ms: int


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def find_workspace(notebook_dir: Path) -> Path:
    """The nearest folder at or above the notebook's holding `__marimo__`, else its own."""
    for folder in (notebook_dir, *notebook_dir.parents):
        if (folder / MARIMO_DIR).is_dir():
            return folder
    return notebook_dir


def notebook_ref(filename: str) -> NotebookRef | None:
    """The notebook whose file is `filename`, or None when it cannot be a store key."""
    from celltime import _native

    path = Path(filename).resolve()
    workspace = find_workspace(path.parent)
    source = path.relative_to(workspace).as_posix()
    try:
        return NotebookRef(workspace, _native.notebook_key(source), source)
    except ValueError as e:
        _session().warn("key", f"celltime: cannot record {filename}: {e}")
        return None


def _context() -> Any | None:
    from marimo._runtime.context import safe_get_context

    return safe_get_context()


def _names_in_file(filename: str) -> dict[str, str]:
    """Cell code -> cell name, as the notebook file says (a kernel knows cells by id only)."""
    try:
        from marimo._ast.app import InternalApp
        from marimo._ast.load import load_app

        app = load_app(filename)
        if app is None:
            return {}
        return {d.code: d.name for d in InternalApp(app).cell_manager.cell_data()}
    except Exception:
        return {}


def cell_name(ctx: Any, cell_id: str) -> str:
    """The cell's name, or marimo's id for an unnamed (`_`) cell."""
    try:
        name = str(ctx.app.cell_manager.cell_name(cell_id))
    except Exception:
        name = ""
    if name in ("", "_", "__"):
        code = cell_code(ctx, cell_id)
        filename = getattr(ctx, "filename", None)
        if code is not None and filename:
            name = _names_in_file(filename).get(code, "")
    return cell_id if name in ("", "_", "__") else name


def cell_code(ctx: Any, cell_id: str | None) -> str | None:
    if cell_id is None:
        return None
    try:
        return str(ctx.graph.cells[cell_id].code)
    except Exception:
        return None


def _current() -> tuple[Any, NotebookRef] | None:
    """The context and notebook running on this thread (None off the cell thread)."""
    ctx = _context()
    filename = getattr(ctx, "filename", None) if ctx is not None else None
    if not filename:
        return None
    notebook = _session().notebook(filename)
    return None if notebook is None else (ctx, notebook)


def _run_of(ctx: Any, notebook: NotebookRef) -> RunContext:
    return RunContext(
        notebook=notebook,
        code=cell_code(ctx, getattr(ctx, "cell_id", None)),
        started_ms=_now_ms(),
    )


def current_run() -> RunContext | None:
    """The notebook and the code of the cell running on this thread (None off it)."""
    current = _current()
    return None if current is None else _run_of(*current)


@dataclass
class _Session:
    """What one process shares: open notebooks, runs waiting for their write, warnings."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    notebooks: dict[str, NotebookRef | None] = field(default_factory=dict)
    recorders: dict[NotebookRef, Recorder | None] = field(default_factory=dict)
    # Context of a key's miss, taken on the cell thread, for a write on another thread.
    misses: dict[str, RunContext] = field(default_factory=dict)
    # The run that read a lazy manifest through the store: marimo reads its blobs on
    # background threads, without a context. (block, hash) -> run.
    manifests: dict[tuple[str, str], RunContext] = field(default_factory=dict)
    # Lazy blobs put through the store, until their manifest arrives: (block, hash) -> parts.
    blobs: dict[tuple[str, str], list[tuple[str, str, str, bytes]]] = field(default_factory=dict)
    # Keys that are no run (marimo's per-notebook manifest), kept for this process only.
    other: dict[str, bytes] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)
    busy_until: float = 0.0
    lock_timeout: float = 1.0
    exit_registered: bool = False

    def warn(self, kind: str, message: str) -> None:
        """One warning per kind of failure; the rest go to the debug log."""
        with self.lock:
            first = kind not in self.warned
            self.warned.add(kind)
        if first:
            LOGGER.warning("%s (marimo carries on without the celltime store)", message)
        else:
            LOGGER.debug("%s", message)

    def notebook(self, filename: str) -> NotebookRef | None:
        with self.lock:
            if filename not in self.notebooks:
                self.notebooks[filename] = notebook_ref(filename)
            return self.notebooks[filename]

    def recorder(self, notebook: NotebookRef) -> Recorder | None:
        """The open notebook of the store, None while busy or after it failed to open."""
        if time.monotonic() < self.busy_until:
            return None
        with self.lock:
            if notebook not in self.recorders:
                self.recorders[notebook] = self._open(notebook)
            return self.recorders[notebook]

    def _open(self, notebook: NotebookRef) -> Recorder | None:
        from celltime import _native

        try:
            recorder = _native.Recorder(
                str(notebook.workspace),
                notebook.key,
                notebook.source,
                self.lock_timeout,
            )
        except _native.StoreBusy as e:
            self.busy(e)
            return None
        except _native.CelltimeError as e:
            self.warn(notebook.key, f"celltime: {e}")
            return None
        if not self.exit_registered:
            atexit.register(close_all)
            self.exit_registered = True
        return recorder

    def busy(self, error: Exception) -> None:
        self.busy_until = time.monotonic() + BUSY_BACKOFF_SECONDS
        # An open that failed busy is retried after the back-off.
        with self.lock:
            for notebook in [n for n, r in self.recorders.items() if r is None]:
                del self.recorders[notebook]
        self.warn("busy", f"celltime: {error}")

    def flush(self) -> None:
        """Writes the runs and hits waiting (a killed kernel never reaches its exit step)."""
        with self.lock:
            notebooks = [n for n, r in self.recorders.items() if r is not None]
        for notebook in notebooks:
            self.call(notebook, lambda r: r.flush())

    def call(self, notebook: NotebookRef, action: Any) -> Any:
        """`action(recorder)`, or None with one warning when the store fails."""
        from celltime import _native

        recorder = self.recorder(notebook)
        if recorder is None:
            return None
        try:
            return action(recorder)
        except _native.StoreBusy as e:
            self.busy(e)
        except (_native.CelltimeError, ValueError) as e:
            self.warn(notebook.key, f"celltime: {e}")
        return None


_SESSION: _Session | None = None
_SESSION_LOCK = threading.Lock()


def _session() -> _Session:
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None:
            _SESSION = _Session()
        return _SESSION


def close_all() -> None:
    """The on_exit step: lazy runs still unrecorded are recorded, uses written, logs folded
    into the maps."""
    from celltime import _native

    _WATCHER.collect()
    session = _session()
    with session.lock:
        recorders = [(n, r) for n, r in session.recorders.items() if r is not None]
    for notebook, recorder in recorders:
        try:
            recorder.close()
        except _native.CelltimeError as e:
            session.warn(notebook.key, f"celltime: {e}")


def _split_main_key(key: str) -> tuple[str, str, str] | None:
    """`<block>/<P>_<hash>.<ext>` -> (block, hash, ext); None for any other key."""
    block, _, name = key.partition("/")
    stem, _, ext = name.partition(".")
    if not block or "/" in name or len(stem) < 3 or stem[1] != "_":
        return None
    if ext not in ("pickle", "json", "jsonl"):
        return None
    return block, stem[2:], ext


def _split_blob_key(key: str) -> tuple[str, str, str, str] | None:
    """`<block>/<hash>/<label>.<format>` -> (block, hash, label, format)."""
    pieces = key.split("/")
    if len(pieces) != 3:
        return None
    label, _, fmt = pieces[2].rpartition(".")
    if not label or not fmt:
        return None
    return pieces[0], pieces[1], label, fmt


class CelltimeStore(Store):
    """marimo's cache store in `__marimo__/persist/` (`[cache.store] type = "celltime"`).

    `args` (all optional): `lock_timeout` (seconds a call waits for another process's lock,
    default 1), `recompute` (every read misses, so each run is computed and recorded as a new
    alternative; also `CELLTIME_RECOMPUTE=1`).
    """

    def __init__(self, lock_timeout: float = 1.0, recompute: bool = False) -> None:
        self._recompute = recompute
        _session().lock_timeout = float(lock_timeout)

    def _recomputing(self) -> bool:
        return self._recompute or os.environ.get(RECOMPUTE_ENV, "") not in ("", "0")

    def get(self, key: str) -> bytes | None:
        session = _session()
        main = _split_main_key(key)
        blob = _split_blob_key(key)
        current = _current()
        notebook = current[1] if current is not None else None
        if notebook is None and blob is not None:
            with session.lock:
                reader = session.manifests.get(blob[:2])
            notebook = reader.notebook if reader is not None else None
        if notebook is None or (main is None and blob is None):
            return session.other.get(key)
        data: bytes | None = None
        if not (self._recomputing() and main is not None):
            data = session.call(notebook, lambda r: r.get(key))
        # The code is looked up only where a later write needs it: a miss, and a lazy
        # manifest whose blobs marimo reads on its own threads.
        if current is None:
            return data
        if data is None:
            run = _run_of(*current)
            with session.lock:
                session.misses[key] = run
        elif main is not None and main[2] == "jsonl":
            run = _run_of(*current)
            with session.lock:
                session.manifests[main[:2]] = run
        return data

    def hit(self, key: str) -> bool:
        run = current_run()
        if run is None or self._recomputing():
            return False
        found = _session().call(run.notebook, lambda r: r.hit(key))
        return bool(found)

    def put(self, key: str, value: bytes) -> bool:
        session = _session()
        blob = _split_blob_key(key)
        main = _split_main_key(key)
        if main is None and blob is not None:
            with session.lock:
                session.blobs.setdefault(blob[:2], []).append(
                    ("variables", blob[2], blob[3], bytes(value))
                )
            return True
        if main is None:
            with session.lock:
                session.other[key] = bytes(value)
            return True
        block, hash_, ext = main
        with session.lock:
            miss = session.misses.pop(key, None)
            blobs = session.blobs.pop((block, hash_), []) if ext == "jsonl" else []
        run = current_run() or miss
        if run is None:
            session.warn("context", f"celltime: no notebook is running; {key} not recorded")
            return False
        started = miss.started_ms if miss is not None else run.started_ms
        parts = [("variables", "", ext, bytes(value)), *blobs]
        recorded = session.call(
            run.notebook,
            lambda r: r.record(key, block, parts, run.code, started),
        )
        return recorded is not None

    def clear(self, key: str) -> bool:
        # Runs are removed with celltime (prune, the TUI), where they can be undone.
        del key
        return False

    def local_dirs(self) -> list[Path]:
        # `marimo cache dir|size` ask without a notebook running: the workspace around here.
        run = current_run()
        workspace = run.notebook.workspace if run else find_workspace(Path.cwd().resolve())
        return [workspace / MARIMO_DIR / "persist"]


def _celltime_is_the_store(ctx: Any) -> bool:
    try:
        return isinstance(ctx.cache.store, CelltimeStore)
    except Exception:
        return False


@dataclass
class _CellRun:
    ctx: Any
    cell_id: str
    started_ms: int
    loaders: list[Any] = field(default_factory=list)


def _recording_store(inner: Any) -> Any:
    """A lazy loader's store that tells the watcher when marimo has written or read a manifest.

    A `LazyStore` itself (sharing the original's folder and key sets), so marimo treats it
    exactly as the original: same files, same signing and verification.
    """
    from marimo._save.loaders.lazy import LazyStore

    class RecordingLazyStore(LazyStore):
        def __init__(self, original: LazyStore) -> None:
            self._inner = original._inner
            self._written_keys = original._written_keys
            self._touched_keys = original._touched_keys

        def put(self, key: str, value: bytes) -> bool:
            written = super().put(key, value)
            if written and _split_main_key(key) is not None:
                _WATCHER.written(self, key)
            return written

        def get(self, key: str) -> bytes | None:
            found = super().get(key)
            if found is not None and _split_main_key(key) is not None:
                _WATCHER.written(self, key)
            return found

    if type(inner) is not LazyStore:
        return inner
    return RecordingLazyStore(inner)


class _LazyWatcher:
    """Records the lazy and whole-cell entries marimo writes to its own folder.

    marimo writes them after the cell's body: lazy blocks on a background thread, whole-cell
    entries in the cell's teardown. The stores of the lazy loaders alive when a cell starts
    are wrapped so a manifest is recorded the moment marimo has written it (on marimo's
    writer thread, before marimo's own flush returns); loaders made during the cell are
    collected after it. Runs are attributed to the cell that ran last; a whole-cell hit (its
    cell never runs) is matched to its cell by the names it defines.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.last: _CellRun | None = None
        self.seen: dict[str, tuple[int, int]] = {}

    def before(self, ctx: Any, cell_id: str) -> None:
        from marimo._save.loaders.lazy import LazyLoader

        self.collect()
        with self.lock:
            self.last = _CellRun(ctx, cell_id, _now_ms())
        for loader in LazyLoader.active_loaders():
            loader.store = _recording_store(loader.store)

    def after(self) -> None:
        from marimo._save.loaders.lazy import LazyLoader

        with self.lock:
            if self.last is None:
                return
            self.last.loaders = list(LazyLoader.active_loaders())
        self.collect()

    def written(self, store: Any, key: str) -> None:
        with self.lock:
            last = self.last
            if last is None:
                return
            for root in store.local_dirs():
                self._record(last, Path(root), key)

    def collect(self) -> None:
        # marimo's writer threads report to `written`, which takes the lock: flushing (joining
        # them) must happen without it.
        with self.lock:
            last = self.last
        if last is None:
            return
        found: list[tuple[Path, str]] = []
        for loader in last.loaders:
            try:
                loader.flush()
                keys: Iterable[str] = loader.store.export_keys()
                roots = loader.store.local_dirs()
            except Exception as e:
                LOGGER.debug("celltime: cannot list a lazy loader: %s", e)
                continue
            found.extend(
                (Path(root), key)
                for key in keys
                if key.endswith(".jsonl") and _split_main_key(key) is not None
                for root in roots
            )
        with self.lock:
            for root, key in found:
                self._record(last, root, key)

    def _record(self, last: _CellRun, root: Path, key: str) -> None:
        path = root / key
        try:
            stat = path.stat()
        except OSError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self.seen.get(key) == stamp:
            return
        main = _split_main_key(key)
        assert main is not None
        block, hash_, _ = main
        try:
            manifest = path.read_bytes()
            parts = [("variables", "", "jsonl", manifest), *_blob_parts(root / block / hash_)]
        except OSError as e:
            LOGGER.debug("celltime: %s is being written: %s", key, e)
            return
        ctx = last.ctx
        notebook = _session().notebook(getattr(ctx, "filename", None) or "")
        if notebook is None:
            return
        cell_id = last.cell_id
        if block == WHOLE_CELL_BLOCK:
            cell_id = _defining_cell(ctx, manifest) or cell_id
            cell = cell_name(ctx, cell_id)
        else:
            cell = block
        modified_ms = stat.st_mtime_ns // 1_000_000
        # A file written during this cell's run is this run; an older one (written before
        # celltime was enabled) keeps its own time.
        created = last.started_ms if modified_ms >= last.started_ms else modified_ms
        code = cell_code(ctx, cell_id)
        # A new run is written at once: marimo may write it in a cell's teardown, after the
        # cell's end flush, and a kernel is often killed rather than stopped. A run already
        # recorded (a hit) is only a use.
        recorded = _session().call(
            notebook,
            lambda r: r.record(key, cell, parts, code, created, dedupe=True, write_now=True),
        )
        if recorded is not None:
            self.seen[key] = stamp


def _blob_parts(folder: Path) -> list[tuple[str, str, str, bytes]]:
    """A lazy entry's blobs (`<var>.<format>`), skipping marimo's temporary files."""
    if not folder.is_dir():
        return []
    parts = []
    for blob in sorted(folder.iterdir()):
        label, _, fmt = blob.name.rpartition(".")
        if blob.is_file() and label and ".tmp" not in blob.name:
            parts.append(("variables", label, fmt, blob.read_bytes()))
    return parts


def _defining_cell(ctx: Any, manifest: bytes) -> str | None:
    """The one cell defining exactly the names a whole-cell manifest holds, if one does."""
    try:
        names = set(json.loads(manifest).get("defs", {}))
        cells = ctx.graph.cells.items()
    except Exception:
        return None
    found = [cid for cid, cell in cells if set(cell.defs) == names]
    return found[0] if len(found) == 1 else None


_WATCHER = _LazyWatcher()


@contextlib.asynccontextmanager
async def kernel_lifespan(app: Any) -> AsyncIterator[None]:
    """`marimo.kernel.lifespan`: a kernel stopped cleanly runs the exit step (a killed one
    does not; runs and uses are written as they happen, so only the folding waits)."""
    del app
    try:
        yield
    finally:
        close_all()


class CelltimeExecutor:
    """marimo's default cell executor, plus the recording of lazy and whole-cell runs while
    the celltime store is the session's store (a no-op otherwise)."""

    name = "celltime"

    def __init__(self) -> None:
        from marimo._runtime.executor import DefaultExecutor

        self._default = DefaultExecutor()

    def _start(self, cell: Any) -> bool:
        ctx = _context()
        if ctx is None or not _celltime_is_the_store(ctx):
            return False
        try:
            _WATCHER.before(ctx, cell.cell_id)
        except Exception as e:
            _session().warn("watch", f"celltime: cannot record lazy runs: {e}")
            return False
        return True

    @staticmethod
    def _finish() -> None:
        try:
            _WATCHER.after()
        except Exception as e:
            _session().warn("watch", f"celltime: cannot record lazy runs: {e}")
        _session().flush()

    def execute_cell(self, cell: Any, glbls: Any) -> Any:
        watching = self._start(cell)
        try:
            return self._default.execute_cell(cell, glbls)
        finally:
            if watching:
                self._finish()

    async def execute_cell_async(self, cell: Any, glbls: Any) -> Any:
        watching = self._start(cell)
        try:
            return await self._default.execute_cell_async(cell, glbls)
        finally:
            if watching:
                self._finish()
