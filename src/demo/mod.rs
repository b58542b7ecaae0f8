//! The built-in demo workspace: notebooks whose cells' code evolves over weeks of sessions,
//! with cache hits, re-runs, non-deterministic alternatives, parents across notebooks and
//! pins — all written through the store layer. Deterministic for a given seed. `--scale`
//! writes large synthetic notebooks of 100,000 entries each for benchmarks.

mod content;
pub mod pickle;

use base64::Engine as _;
use celltime_store::model::{
    CellKey, EntryId, ExecKey, ModuleHash, NewEntry, NewPart, NotebookKey, Timestamp, Version,
};
use celltime_store::store::{Notebook, Result, Store, StoreError, StoreOptions, Workspace};
use content::{CellKind, code, run_parts};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seed: u64,
    /// Total entries of a synthetic benchmark workspace, instead of the story.
    pub scale: Option<usize>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 42,
            scale: None,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoReport {
    pub workspace: PathBuf,
    pub notebooks: usize,
    pub entries: usize,
}

struct CellSpec {
    name: &'static str,
    kind: CellKind,
    upstream: &'static [&'static str],
}

struct NotebookSpec {
    key: &'static str,
    cells: &'static [CellSpec],
}

const fn cell(name: &'static str, kind: CellKind, upstream: &'static [&'static str]) -> CellSpec {
    CellSpec {
        name,
        kind,
        upstream,
    }
}

const STORY: &[NotebookSpec] = &[
    NotebookSpec {
        key: "analysis/eda",
        cells: &[
            cell("load_data", CellKind::LoadData, &[]),
            cell("summary_stats", CellKind::Summary, &["load_data"]),
            cell("plot_sales", CellKind::Plot, &["load_data"]),
        ],
    },
    NotebookSpec {
        key: "models/train",
        cells: &[
            cell("load_data", CellKind::LoadData, &[]),
            cell("features", CellKind::Features, &["load_data"]),
            cell("fit_model", CellKind::Train, &["features"]),
            cell("evaluate", CellKind::Evaluate, &["fit_model"]),
        ],
    },
    NotebookSpec {
        key: "llm/summaries",
        cells: &[
            cell("load_data", CellKind::LoadData, &[]),
            cell("weekly_summary", CellKind::LlmSummary, &["load_data"]),
            cell("bootstrap_ci", CellKind::Bootstrap, &["load_data"]),
        ],
    },
    NotebookSpec {
        key: "reports/weekly",
        cells: &[cell("report", CellKind::Report, &[])],
    },
];

/// The moment the story ends; fixed so a seed always yields the same workspace.
const STORY_END_MS: i64 = 1_795_600_800_000; // 2026-11-25T09:20:00Z
const DAY_MS: i64 = 86_400_000;

/// How far the writing is: `done` of `total` steps (sessions of the story, or entries of
/// the scale mode), and what is being written now.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    pub done: usize,
    pub total: usize,
    pub what: &'a str,
}

/// Writes the demo workspace into `dir`, which must not hold a `__marimo__` folder yet.
pub fn generate(dir: &Path, options: &DemoOptions) -> Result<DemoReport> {
    generate_with(dir, options, &|_| {})
}

/// [`generate`], telling `progress` what it is writing as it goes.
pub fn generate_with(
    dir: &Path,
    options: &DemoOptions,
    progress: &dyn Fn(Step<'_>),
) -> Result<DemoReport> {
    let workspace = Workspace::at(dir);
    if std::fs::symlink_metadata(workspace.marimo_dir()).is_ok() {
        return Err(StoreError::invalid(
            &workspace.marimo_dir(),
            None,
            "already exists; the demo writes into a fresh folder",
        ));
    }
    std::fs::create_dir_all(workspace.marimo_dir()).map_err(|source| StoreError::Io {
        path: workspace.marimo_dir(),
        source,
    })?;
    let store = Store::open_with(&workspace, StoreOptions::default())?;
    match options.scale {
        Some(total) => generate_scale(&store, options.seed, total, progress),
        None => Story::new(&store, options.seed).tell(progress),
    }
}

/// A marimo-looking module hash: 43 characters of url-safe base64.
fn module_hash(parts: &[&str]) -> ModuleHash {
    let digest = blake3::hash(parts.join("\0").as_bytes());
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_bytes()[..32]);
    ModuleHash::new(&text).expect("base64url is a valid module hash")
}

#[derive(Default, Clone)]
struct CellState {
    edit: usize,
    module: Option<ModuleHash>,
    /// Newest entry of the current module, per version.
    latest: Vec<ExecKey>,
}

struct Story<'a> {
    store: &'a Store,
    rng: StdRng,
    cells: HashMap<(&'static str, &'static str), CellState>,
    entries: usize,
}

impl<'a> Story<'a> {
    fn new(store: &'a Store, seed: u64) -> Story<'a> {
        Story {
            store,
            rng: StdRng::seed_from_u64(seed),
            cells: HashMap::new(),
            entries: 0,
        }
    }

    fn tell(mut self, progress: &dyn Fn(Step<'_>)) -> Result<DemoReport> {
        let mut open: Vec<Notebook> = STORY
            .iter()
            .map(|spec| self.store.notebook_for_write(&notebook_key(spec.key)))
            .collect::<Result<_>>()?;
        let sessions = 30;
        for session in 0..sessions {
            progress(Step {
                done: session as usize,
                total: sessions as usize + 1,
                what: "sessions of four notebooks, weeks of runs",
            });
            let start = STORY_END_MS - (sessions - session) * 5 * DAY_MS / 2
                + self.rng.random_range(8..18) * 3_600_000;
            for (spec, notebook) in STORY.iter().zip(open.iter_mut()) {
                if session > 0 && self.rng.random_range(0..10) < 3 {
                    continue;
                }
                self.run_session(spec, notebook, Timestamp(start), session == 0)?;
            }
        }
        progress(Step {
            done: sessions as usize,
            total: sessions as usize + 1,
            what: "pins, map.toml and the notebooks' source files",
        });
        self.pin_favourites(&mut open)?;
        for (spec, notebook) in STORY.iter().zip(open.iter_mut()) {
            notebook.consolidate()?;
            self.write_source(spec)?;
        }
        Ok(DemoReport {
            workspace: self.store.workspace().root().to_path_buf(),
            notebooks: STORY.len(),
            entries: self.entries,
        })
    }

    /// One sitting with a notebook: some cells get edited, then everything runs; unchanged
    /// modules are cache hits (a `used` record), changed ones new entries. A session is one
    /// durable batch, as a kernel would flush it.
    fn run_session(
        &mut self,
        spec: &NotebookSpec,
        notebook: &mut Notebook,
        start: Timestamp,
        first: bool,
    ) -> Result<()> {
        let mut minute = 0;
        let mut batch = Vec::new();
        let mut hits = Vec::new();
        for cell in spec.cells {
            let key = (spec.key, cell.name);
            let mut state = self.cells.get(&key).cloned().unwrap_or_default();
            if !first && self.rng.random_range(0..100) < 25 && state.edit < 6 {
                state.edit += 1;
            }
            let upstream: Vec<String> = cell
                .upstream
                .iter()
                .filter_map(|u| {
                    self.cells
                        .get(&(spec.key, *u))
                        .and_then(|s| s.module.clone())
                })
                .map(|m| m.to_string())
                .collect();
            let source = code(cell.kind, state.edit);
            let mut hash_input = vec![spec.key, cell.name, &source];
            hash_input.extend(upstream.iter().map(String::as_str));
            let module = module_hash(&hash_input);
            let rerun = self.rng.random_range(0..100) < 12;
            minute += self.rng.random_range(1..4);
            if state.module.as_ref() == Some(&module) && !rerun {
                hits.extend(state.latest.iter().map(ExecKey::id));
            } else {
                let parents = self.parents_of(spec, cell);
                let created = Timestamp(start.0 + minute * 60_000);
                state.latest.clear();
                for version in 0..cell.kind.alternatives() {
                    let mut entry = NewEntry::new(
                        notebook_key(spec.key),
                        CellKey::new(cell.name).expect("static cell name"),
                        module.clone(),
                    );
                    entry.version = Version::new(&version.to_string()).expect("digits");
                    entry.created_at = Some(Timestamp(created.0 + version as i64 * 7_000));
                    entry.parents = parents.clone();
                    entry.parts = vec![NewPart::code(&source)];
                    entry
                        .parts
                        .extend(run_parts(cell.kind, state.edit, &mut self.rng));
                    state.latest.push(ExecKey {
                        notebook: entry.notebook.clone(),
                        cell: entry.cell.clone(),
                        module: module.clone(),
                        version: entry.version.clone(),
                        created_at: entry.created_at.expect("set above"),
                    });
                    batch.push(entry);
                }
                state.module = Some(module);
            }
            self.cells.insert(key, state);
        }
        self.entries += batch.len();
        notebook.put_batch(batch)?;
        notebook.touch(&hits, Timestamp(start.0 + minute * 60_000))?;
        Ok(())
    }

    fn parents_of(&self, spec: &NotebookSpec, cell: &CellSpec) -> Vec<ExecKey> {
        let latest = |nb: &'static str, name: &'static str| {
            self.cells
                .get(&(nb, name))
                .and_then(|s| s.latest.first().cloned())
        };
        if cell.kind == CellKind::Report {
            return [
                ("llm/summaries", "weekly_summary"),
                ("models/train", "evaluate"),
                ("analysis/eda", "plot_sales"),
            ]
            .into_iter()
            .filter_map(|(nb, name)| latest(nb, name))
            .collect();
        }
        cell.upstream
            .iter()
            .filter_map(|u| latest(spec.key, u))
            .collect()
    }

    /// The runs a user would have pinned: the first summary alternative and the last report.
    fn pin_favourites(&self, open: &mut [Notebook]) -> Result<()> {
        for notebook in open.iter_mut() {
            let wanted: Vec<EntryId> = notebook
                .index()
                .views()
                .iter()
                .filter(|v| (v.cell == "weekly_summary" && v.version == "1") || v.cell == "report")
                .map(|v| v.id)
                .step_by(4)
                .collect();
            notebook.pin(&wanted)?;
        }
        Ok(())
    }

    /// The notebook's source as marimo would save it, with each cell's latest code.
    fn write_source(&self, spec: &NotebookSpec) -> Result<()> {
        let mut text =
            String::from("import marimo\n\n__generated_with = \"0.25.2\"\napp = marimo.App()\n");
        for cell in spec.cells {
            let edit = self.cells.get(&(spec.key, cell.name)).map_or(0, |s| s.edit);
            let body: String = code(cell.kind, edit)
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect();
            text.push_str(&format!(
                "\n\n@app.cell\ndef {}():\n{body}    return\n",
                cell.name
            ));
        }
        text.push_str("\n\nif __name__ == \"__main__\":\n    app.run()\n");
        write_new_file(
            self.store.workspace().root(),
            &format!("{}.py", spec.key),
            text.as_bytes(),
        )?;
        self.store
            .set_notebook_source(&notebook_key(spec.key), &format!("{}.py", spec.key))
    }
}

fn notebook_key(text: &str) -> NotebookKey {
    NotebookKey::new(text).expect("static notebook key")
}

/// Writes a new file `rel` under `root`: an existing file is never overwritten and no link on
/// the way is followed, so `demo --dir` cannot change anything already there.
fn write_new_file(root: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let path = root.join(rel);
    let io = |path: &Path, source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut dir = root.to_path_buf();
    let components: Vec<&str> = rel.split('/').collect();
    for component in &components[..components.len() - 1] {
        dir.push(component);
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(StoreError::invalid(
                    &dir,
                    None,
                    "is not a folder (or is a link); the demo writes only into new folders",
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&dir).map_err(|e| io(&dir, e))?;
            }
            Err(e) => return Err(io(&dir, e)),
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                StoreError::invalid(
                    &path,
                    None,
                    "already exists; the demo never overwrites a file",
                )
            } else {
                io(&path, e)
            }
        })?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| io(&path, e))
}

/// Entries per synthetic notebook, and cells per notebook, of the scale mode.
const SCALE_NOTEBOOK: usize = 100_000;
const SCALE_CELLS: usize = 200;
const SCALE_BATCH: usize = 5_000;

/// `total` entries in notebooks of up to 100,000: small contents, shared code snapshots.
fn generate_scale(
    store: &Store,
    seed: u64,
    total: usize,
    progress: &dyn Fn(Step<'_>),
) -> Result<DemoReport> {
    let mut rng = StdRng::seed_from_u64(seed);
    let notebooks = total.div_ceil(SCALE_NOTEBOOK).max(1);
    let mut written = 0;
    for n in 0..notebooks {
        let key = notebook_key(&format!("scale/nb{n:03}"));
        let mut notebook = store.notebook_for_write(&key)?;
        let count = (total - written).min(SCALE_NOTEBOOK);
        let mut batch = Vec::with_capacity(SCALE_BATCH);
        for i in 0..count {
            batch.push(scale_entry(&key, i, count, &mut rng));
            if batch.len() == SCALE_BATCH {
                notebook.put_batch(std::mem::take(&mut batch))?;
                progress(Step {
                    done: written + i + 1,
                    total,
                    what: key.as_str(),
                });
            }
        }
        notebook.put_batch(batch)?;
        notebook.consolidate()?;
        written += count;
    }
    Ok(DemoReport {
        workspace: store.workspace().root().to_path_buf(),
        notebooks,
        entries: written,
    })
}

fn scale_entry(key: &NotebookKey, i: usize, count: usize, rng: &mut StdRng) -> NewEntry {
    let cell_no = i % SCALE_CELLS;
    let run = i / SCALE_CELLS;
    let edit = run / 20;
    let cell_name = format!("cell_{cell_no:03}");
    let source = format!(
        "# {cell_name}, edit {edit}\nresult = compute(step={edit}, cell={cell_no})\nresult\n"
    );
    let module = module_hash(&[key.as_str(), &cell_name, &source]);
    let mut entry = NewEntry::new(
        key.clone(),
        CellKey::new(&cell_name).expect("cell name"),
        module,
    );
    entry.version = Version::new(if run % 10 == 9 { "1" } else { "0" }).expect("digit");
    let span = 365 * DAY_MS;
    entry.created_at = Some(Timestamp(
        STORY_END_MS - span
            + (run as i64 * span / (count / SCALE_CELLS).max(1) as i64)
            + cell_no as i64 * 1_000,
    ));
    let value: f64 = rng.random_range(0.0..1.0);
    entry.parts = vec![
        NewPart::code(&source),
        NewPart::output("text/plain", format!("{value:.6}").into_bytes()),
        NewPart::console("stdout", &format!("run {run} of {cell_name}: {value:.6}\n")),
        NewPart::variables(
            "result",
            "json",
            format!("{{\"value\": {value}}}").into_bytes(),
        ),
    ];
    entry
}
