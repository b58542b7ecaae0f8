//! Tying entries back to notebooks, cells and code (docs/MARIMO-CACHE.md §13.8). In order of trust:
//! marimo's per-notebook manifest (0.25+) says which notebook an entry belongs to; the
//! notebook sources say where a block is (and give its code as it is now); a pickled
//! `FunctionStub` names the notebook file it came from. Whole-cell (`cell_cache`) entries are
//! matched to the cell that defines the same names. Everything else goes to a notebook named
//! after the cache folder, and is still listed.

use super::decode::{self, read_file};
use super::names::Loader;
use super::scan::{LegacyEntry, Scan};
use super::session::{self, SessionCell};
use super::source::{self, NotebookSource};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// The block marimo uses for whole-cell caching.
pub const CELL_CACHE_BLOCK: &str = "cell_cache";
/// marimo's manifests are small; larger ones are not read.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// Where an entry belongs.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub notebook: Arc<str>,
    /// The block name, or the cell's name (or marimo id) for a whole-cell entry.
    pub cell: Arc<str>,
    /// The code snapshot, from the notebook source as it is now.
    pub code: Option<Arc<str>>,
    /// Where `code` and the notebook came from, for the entry's facts.
    pub origin: Arc<str>,
    /// Outputs and console of the last kernel run, when this entry is the one that run used.
    pub session: Option<Arc<SessionCell>>,
    /// Why the last run's outputs are not shown with this entry, when it is unknown whether
    /// they are this run's.
    pub outputs_note: Option<Arc<str>>,
}

struct Notebook {
    key: Arc<str>,
    source: Option<NotebookSource>,
    session: Option<Vec<Arc<SessionCell>>>,
}

pub struct Linker {
    notebooks: Vec<Notebook>,
    /// block → entry stem → notebook, from marimo's notebook manifests.
    listed: HashMap<String, HashMap<String, usize>>,
    /// block → notebook, from `FunctionStub` file names.
    stub_owner: HashMap<String, usize>,
    fallback: Arc<str>,
    /// Files the links were made from, with their times when read.
    stamps: Vec<(PathBuf, Option<SystemTime>)>,
}

#[derive(Deserialize)]
struct NotebookManifest {
    #[serde(default)]
    notebook: String,
    #[serde(default)]
    nodes: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

fn file_time(path: &Path) -> Option<SystemTime> {
    std::fs::symlink_metadata(path).ok()?.modified().ok()
}

impl Linker {
    /// `workspace` holds the notebooks and `__marimo__/session`; `fallback` names the
    /// notebook of entries nothing maps.
    pub fn new(workspace: &Path, scan: &Scan, fallback: &str) -> Linker {
        let mut linker = Linker {
            notebooks: Vec::new(),
            listed: HashMap::new(),
            stub_owner: HashMap::new(),
            fallback: Arc::from(fallback),
            stamps: vec![(workspace.to_path_buf(), file_time(workspace))],
        };
        let session_dir = crate::store::Workspace::at(workspace).session_dir();
        for source in source::find_notebooks(workspace) {
            let path = workspace.join(&source.file);
            let session_path = session_dir.join(format!("{}.json", source.file));
            linker.stamps.push((path.clone(), file_time(&path)));
            linker
                .stamps
                .push((session_path.clone(), file_time(&session_path)));
            let session = session::load(&session_dir, &source.file)
                .map(|cells| cells.into_iter().map(Arc::new).collect());
            linker.notebooks.push(Notebook {
                key: Arc::from(source.key().as_str()),
                source: Some(source),
                session,
            });
        }
        for rel in &scan.notebook_manifests {
            linker.read_manifest(&scan.root, rel);
        }
        linker.find_stub_owners(scan);
        linker
    }

    /// True while none of the files the links came from changed.
    pub fn is_current(&self) -> bool {
        self.stamps.iter().all(|(p, t)| file_time(p) == *t)
    }

    fn notebook_index(&mut self, file: &str) -> usize {
        let name = Path::new(file)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(file);
        let by_file = self.notebooks.iter().position(|nb| {
            nb.source.as_ref().is_some_and(|s| {
                Path::new(&s.file).file_name().and_then(|n| n.to_str()) == Some(name)
            })
        });
        by_file.unwrap_or_else(|| {
            let key = name.strip_suffix(".py").unwrap_or(name);
            match self.notebooks.iter().position(|nb| &*nb.key == key) {
                Some(at) => at,
                None => {
                    self.notebooks.push(Notebook {
                        key: Arc::from(key),
                        source: None,
                        session: None,
                    });
                    self.notebooks.len() - 1
                }
            }
        })
    }

    fn read_manifest(&mut self, root: &Path, rel: &str) {
        let path = root.join(rel);
        self.stamps.push((path.clone(), file_time(&path)));
        if std::fs::symlink_metadata(&path).map_or(true, |m| m.len() > MAX_MANIFEST_BYTES) {
            return;
        }
        let Ok(bytes) = read_file(root, rel) else {
            return;
        };
        let Ok(manifest) = serde_json::from_slice::<NotebookManifest>(&bytes) else {
            return;
        };
        if manifest.notebook.is_empty() {
            return;
        }
        let nb = self.notebook_index(&manifest.notebook);
        for blocks in manifest.nodes.into_values() {
            for (block, stems) in blocks {
                let listed = self.listed.entry(block).or_default();
                listed.extend(stems.into_iter().map(|stem| (stem, nb)));
            }
        }
    }

    fn in_source(&self, block: &str) -> Option<usize> {
        self.notebooks
            .iter()
            .position(|nb| nb.source.as_ref().is_some_and(|s| s.block(block).is_some()))
    }

    /// For blocks no source or manifest places: one pickle per block is decoded for the
    /// notebook file its function stubs name.
    fn find_stub_owners(&mut self, scan: &Scan) {
        let mut tried: Vec<&str> = Vec::new();
        for entry in &scan.entries {
            let placed = self.in_source(&entry.block).is_some() || self.listed_in(entry).is_some();
            if placed || entry.name.loader != Loader::Pickle || tried.contains(&&*entry.block) {
                continue;
            }
            tried.push(&entry.block);
            let Ok(decoded) = decode::decode_entry(&scan.root, entry) else {
                continue;
            };
            if let Some(stub) = decoded.function_stubs().first() {
                let file = stub.filename.clone();
                let known = self.notebooks.iter().any(|nb| {
                    nb.source
                        .as_ref()
                        .is_some_and(|s| file.ends_with(&format!("/{}", s.file)) || file == s.file)
                });
                if known {
                    let nb = self.notebook_index(&file);
                    self.stub_owner.insert(entry.block.to_string(), nb);
                }
            }
        }
    }

    /// The links of `entries`, in order. Entries of one block placed the same way share one
    /// link (its strings are made once, not per entry).
    pub fn links(&self, root: &Path, entries: &[LegacyEntry]) -> Vec<Link> {
        let mut by_block: HashMap<(&str, Option<usize>), Link> = HashMap::new();
        let mut links: Vec<Link> = entries
            .iter()
            .map(|entry| {
                if &*entry.block == CELL_CACHE_BLOCK {
                    return self.link(root, entry);
                }
                let listed = self.listed_in(entry);
                by_block
                    .entry((&entry.block, listed))
                    .or_insert_with(|| self.link_block(entry, listed))
                    .clone()
            })
            .collect();
        keep_sessions_of_one_run(entries, &mut links);
        links
    }

    fn listed_in(&self, entry: &LegacyEntry) -> Option<usize> {
        self.listed.get(&*entry.block)?.get(entry.stem()).copied()
    }

    pub fn link(&self, root: &Path, entry: &LegacyEntry) -> Link {
        if &*entry.block == CELL_CACHE_BLOCK
            && let Some(link) = self.link_cell(root, entry)
        {
            return link;
        }
        self.link_block(entry, self.listed_in(entry))
    }

    /// The link of an entry of a named block, which the manifest places in notebook `listed`
    /// (or does not list): the same for every such entry of the block.
    fn link_block(&self, entry: &LegacyEntry, listed: Option<usize>) -> Link {
        let owner = listed
            .map(|nb| (nb, "marimo's notebook manifest"))
            .or_else(|| {
                self.in_source(&entry.block)
                    .map(|nb| (nb, "the block in the notebook source"))
            })
            .or_else(|| {
                self.stub_owner
                    .get(&*entry.block)
                    .map(|nb| (*nb, "a pickled function's file name"))
            });
        let Some((nb, how)) = owner else {
            return self.unmapped(entry);
        };
        let notebook = &self.notebooks[nb];
        let block = notebook.source.as_ref().and_then(|s| s.block(&entry.block));
        let file = notebook.source.as_ref().map_or("", |s| s.file.as_str());
        let origin = match block {
            Some(b) => format!(
                "notebook from {how}; code from {file} line {} as the file is now",
                b.line
            ),
            None => format!("notebook from {how}; block not found in the notebook source"),
        };
        let session = match (listed, block.and_then(|b| b.cell)) {
            (Some(_), Some(cell)) => self.session_cell(nb, cell),
            _ => None,
        };
        Link {
            notebook: notebook.key.clone(),
            cell: entry.block.clone(),
            code: block.map(|b| Arc::from(b.code.as_str())),
            origin: Arc::from(origin),
            session,
            outputs_note: None,
        }
    }

    fn unmapped(&self, entry: &LegacyEntry) -> Link {
        Link {
            notebook: self.fallback.clone(),
            cell: entry.block.clone(),
            code: None,
            origin: Arc::from("no notebook found for this block: listed under the cache folder"),
            session: None,
            outputs_note: None,
        }
    }

    /// The session cell at `cell`, if the snapshot has as many cells as the source (else the
    /// file changed since that run and positions mean nothing).
    fn session_cell(&self, nb: usize, cell: usize) -> Option<Arc<SessionCell>> {
        let notebook = &self.notebooks[nb];
        let cells = notebook.session.as_ref()?;
        let count = notebook.source.as_ref()?.cells.len();
        (cells.len() == count)
            .then(|| cells.get(cell).cloned())
            .flatten()
    }

    /// A whole-cell entry belongs to the one cell that defines exactly its names.
    fn link_cell(&self, root: &Path, entry: &LegacyEntry) -> Option<Link> {
        let mut names: Vec<String> = match entry.name.loader {
            Loader::Lazy => {
                let bytes = read_file(root, &entry.rel_path).ok()?;
                super::lazy::parse(&bytes).ok()?.defs.into_keys().collect()
            }
            _ => decode::decode_entry(root, entry)
                .ok()?
                .values
                .into_iter()
                .filter(|v| v.name != "return")
                .map(|v| v.name)
                .collect(),
        };
        names.sort();
        let listed = self.listed_in(entry);
        let mut matches = Vec::new();
        for (nb, notebook) in self.notebooks.iter().enumerate() {
            let Some(source) = &notebook.source else {
                continue;
            };
            for (at, cell) in source.cells.iter().enumerate() {
                let mut returns = cell.returns.clone();
                returns.sort();
                if returns == names && listed.is_none_or(|l| l == nb) {
                    matches.push((nb, at));
                }
            }
        }
        let [(nb, at)] = matches[..] else { return None };
        let notebook = &self.notebooks[nb];
        let source = notebook.source.as_ref()?;
        let cell = &source.cells[at];
        let session = listed.and_then(|_| self.session_cell(nb, at));
        let id = notebook
            .session
            .as_ref()
            .filter(|s| s.len() == source.cells.len())
            .map(|s| s[at].id.clone())
            .unwrap_or_else(|| NotebookSource::default_cell_id(at));
        let name = if cell.name == "_" {
            id
        } else {
            cell.name.clone()
        };
        Some(Link {
            notebook: notebook.key.clone(),
            cell: Arc::from(name.as_str()),
            code: Some(Arc::from(cell.code.as_str())),
            origin: Arc::from(format!(
                "whole-cell cache of the cell defining {}; code from {} line {} as the file is now",
                if names.is_empty() {
                    "nothing".to_string()
                } else {
                    names.join(", ")
                },
                source.file,
                cell.line
            )),
            session,
            outputs_note: None,
        })
    }
}

/// marimo's session snapshot holds the outputs of one run of each cell, and its manifest
/// merges every entry the kernel runs touched: when it lists several whole-cell entries of one
/// cell (the cell ran with different code), nothing says which of them the snapshot's run
/// used. Their outputs are then shown with none of them, and each says why.
fn keep_sessions_of_one_run(entries: &[LegacyEntry], links: &mut [Link]) {
    let mut runs: HashMap<(Arc<str>, Arc<str>), usize> = HashMap::new();
    for (entry, link) in entries.iter().zip(links.iter()) {
        if &*entry.block == CELL_CACHE_BLOCK && link.session.is_some() {
            *runs
                .entry((link.notebook.clone(), link.cell.clone()))
                .or_default() += 1;
        }
    }
    if runs.values().all(|&count| count < 2) {
        return;
    }
    for (entry, link) in entries.iter().zip(links.iter_mut()) {
        if &*entry.block != CELL_CACHE_BLOCK || link.session.is_none() {
            continue;
        }
        let key = (link.notebook.clone(), link.cell.clone());
        let several = runs.get(&key).copied().unwrap_or(0);
        if several > 1 {
            link.session = None;
            link.outputs_note = Some(Arc::from(format!(
                "not shown: marimo's session snapshot has the outputs of one run of this cell, \
                 and its manifest lists {several} cached runs of it without saying which one \
                 that was"
            )));
        }
    }
}
