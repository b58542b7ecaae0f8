//! `celltime._native`: the store crate as the marimo plugin (`python/celltime/`) sees it. Links
//! `celltime-store` only — no terminal crate — because marimo imports it in every notebook
//! process. Each call releases the GIL while it touches the disk.

use celltime_store::marimo::{Recorder as StoreRecorder, Run};
use celltime_store::model::{
    CellKey, EntryId, MarimoKey, NewPart, NotebookKey, PartKind, Timestamp,
};
use celltime_store::store::{Store, StoreError, StoreOptions, Workspace};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

create_exception!(
    _native,
    CelltimeError,
    PyException,
    "The store refused or failed an operation; the message names the file."
);
create_exception!(
    _native,
    StoreBusy,
    CelltimeError,
    "Another process held the notebook's lock longer than the wait allowed."
);

fn to_py(error: StoreError) -> PyErr {
    match error {
        StoreError::Busy { .. } => StoreBusy::new_err(error.to_string()),
        other => CelltimeError::new_err(other.to_string()),
    }
}

fn value_error(error: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(error.to_string())
}

/// A part as Python hands it over: (kind, label, format, bytes).
type PyPart = (String, String, String, Vec<u8>);

fn new_part((kind, label, format, bytes): PyPart) -> PyResult<NewPart> {
    let kind: PartKind = kind.parse().map_err(value_error)?;
    Ok(NewPart::new(kind, &label, &format, bytes))
}

/// One notebook of a workspace's store, held open by a marimo process.
#[pyclass(frozen, module = "celltime._native")]
struct Recorder {
    /// `None` once closed.
    inner: Mutex<Option<StoreRecorder>>,
    notebook_dir: PathBuf,
}

impl Recorder {
    fn lock(&self) -> PyResult<MutexGuard<'_, Option<StoreRecorder>>> {
        self.inner
            .lock()
            .map_err(|_| CelltimeError::new_err("a previous call panicked"))
    }

    /// Runs `f` on the open recorder: with the GIL when the recorder will touch only memory
    /// and open packs (releasing and taking back the GIL costs more than such a call, and can
    /// wait a whole switch interval for another thread), else without it.
    fn with_quick<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut StoreRecorder) -> Result<T, StoreError> + Send,
    ) -> PyResult<T> {
        {
            let mut guard = self.lock()?;
            if let Some(recorder) = guard.as_mut()
                && recorder.is_quick()
            {
                return f(recorder).map_err(to_py);
            }
        }
        self.with(py, f)
    }

    /// Runs `f` on the open recorder without the GIL.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut StoreRecorder) -> Result<T, StoreError> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut guard = self.lock()?;
            let recorder = guard
                .as_mut()
                .ok_or_else(|| CelltimeError::new_err("the recorder is closed"))?;
            f(recorder).map_err(to_py)
        })
    }
}

#[pymethods]
impl Recorder {
    /// Opens notebook `notebook` (its key) of the store of `workspace`; `source` is the
    /// notebook file relative to the workspace. Lock waits are bounded by `lock_timeout`
    /// seconds.
    #[new]
    #[pyo3(signature = (workspace, notebook, source=None, lock_timeout=1.0))]
    fn new(
        py: Python<'_>,
        workspace: PathBuf,
        notebook: &str,
        source: Option<String>,
        lock_timeout: f64,
    ) -> PyResult<Recorder> {
        let key = NotebookKey::new(notebook).map_err(value_error)?;
        let timeout = Duration::try_from_secs_f64(lock_timeout).map_err(value_error)?;
        py.detach(|| {
            let options = StoreOptions {
                lock_timeout: timeout,
                ..StoreOptions::default()
            };
            let store = Store::open_with(&Workspace::at(&workspace), options).map_err(to_py)?;
            let recorder = StoreRecorder::open(&store, &key, source.as_deref()).map_err(to_py)?;
            Ok(Recorder {
                notebook_dir: store.paths(&key).dir,
                inner: Mutex::new(Some(recorder)),
            })
        })
    }

    /// The notebook's folder under `__marimo__/persist/` (what `marimo cache dir` shows).
    #[getter]
    fn notebook_dir(&self) -> PathBuf {
        self.notebook_dir.clone()
    }

    /// What marimo stored under `key`, from the run served for it (the use is recorded), or
    /// `None` on a miss.
    fn get<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let found = self.with_quick(py, |r| r.get(key))?;
        Ok(found.map(|bytes| PyBytes::new(py, &bytes)))
    }

    /// Whether a run is served for `key` (no use recorded).
    fn hit(&self, py: Python<'_>, key: &str) -> PyResult<bool> {
        let Ok(key) = MarimoKey::new(key) else {
            return Ok(false);
        };
        self.with_quick(py, |r| r.hit(&key))
    }

    /// Takes one run marimo wrote under `key` (written with the next batch): `cell` (block or cell name), the exact
    /// `code` of the run, when it started (`created_at_ms`, milliseconds since 1970; now when
    /// `None`) and its parts as (kind, label, format, bytes). With `dedupe`, a run whose
    /// variables are byte for byte an entry of the same key is not written again (its id is
    /// returned and a use noted). With `write_now`, a new run is written before the call
    /// returns instead of with its batch. Returns the entry's 32-hex id.
    #[pyo3(signature = (key, cell, parts, code=None, created_at_ms=None, dedupe=false, write_now=false))]
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        py: Python<'_>,
        key: &str,
        cell: &str,
        parts: Vec<PyPart>,
        code: Option<String>,
        created_at_ms: Option<i64>,
        dedupe: bool,
        write_now: bool,
    ) -> PyResult<String> {
        let run = Run {
            cell: CellKey::new(cell).map_err(value_error)?,
            marimo_key: MarimoKey::new(key).map_err(value_error)?,
            code,
            created_at: created_at_ms.map(Timestamp),
            parts: parts.into_iter().map(new_part).collect::<PyResult<_>>()?,
        };
        let id = self.with(py, |r| {
            if dedupe && let Some(id) = r.existing(&run) {
                r.note_use(id);
                return Ok(id);
            }
            let id = r.record(run)?;
            if write_now {
                r.flush()?;
            }
            Ok(id)
        })?;
        Ok(id.to_string())
    }

    /// Writes the runs and uses waiting (they are otherwise written in batches).
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, StoreRecorder::flush)
    }

    /// The on_exit step: uses written, the log folded into the map. Later calls fail.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            let mut guard = self.lock()?;
            match guard.take() {
                Some(mut recorder) => recorder.close().map_err(to_py),
                None => Ok(()),
            }
        })
    }
}

/// The notebook key of a notebook file path relative to its workspace (`a/b.py` → `a/b`);
/// `ValueError` when the path cannot be a key.
#[pyfunction]
fn notebook_key(relative: &str) -> PyResult<String> {
    NotebookKey::from_notebook_path(relative)
        .map(|k| k.to_string())
        .map_err(value_error)
}

/// The 32-hex id of an entry from its execution key, as the store derives it.
#[pyfunction]
fn entry_id(notebook: &str, cell: &str, module: &str, version: &str, created_ms: i64) -> String {
    EntryId::of(notebook, cell, module, version, Timestamp(created_ms)).to_string()
}

#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Recorder>()?;
    m.add_function(wrap_pyfunction!(notebook_key, m)?)?;
    m.add_function(wrap_pyfunction!(entry_id, m)?)?;
    m.add("CelltimeError", m.py().get_type::<CelltimeError>())?;
    m.add("StoreBusy", m.py().get_type::<StoreBusy>())?;
    Ok(())
}
