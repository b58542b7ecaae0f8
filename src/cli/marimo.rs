//! `celltime marimo enable|disable|status`: point marimo's cache at celltime's store through
//! marimo's user configuration, and say which store marimo will use for each caching method.
//!
//! marimo 0.25.2 reads one user configuration file, the first of: a `.marimo.toml` found
//! walking up from the working directory (stopping at the home folder), `~/.marimo.toml`,
//! `$XDG_CONFIG_HOME/marimo/marimo.toml` (default `~/.config/marimo/marimo.toml`). Only the
//! last two are trusted: from any other `.marimo.toml` marimo drops `cache.store`. A
//! `[tool.marimo.cache.store]` in the nearest `pyproject.toml` overrides the user's, but is
//! untrusted: the pickle loader then uses marimo's own folder. docs/MARIMO.md has the details.

use super::json::{self, Kind};
use super::{CliError, CliResult, exit, out};
use celltime_store::store::fs::{RealFs, write_atomic};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Table, Value};

/// The store type the plugin registers under marimo's `marimo.cache.store` entry points.
const STORE_TYPE: &str = "celltime";
const USER_FILE: &str = ".marimo.toml";

#[derive(Debug, Args)]
pub struct MarimoArgs {
    #[command(subcommand)]
    pub action: MarimoAction,
}

#[derive(Debug, Subcommand)]
pub enum MarimoAction {
    /// Write `[cache.store] type = "celltime"` into your marimo user config.
    Enable(ConfigArgs),
    /// Take celltime's `[cache.store]` out of your marimo user config.
    Disable(ConfigArgs),
    /// Which store marimo will use for each caching method here, and why.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The config file to edit instead of the one marimo trusts for you.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Where marimo runs (the notebook's folder); default: here.
    pub path: Option<PathBuf>,
    /// Machine-readable report (`celltime.marimo-status.v1`).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: MarimoArgs) -> CliResult {
    match args.action {
        MarimoAction::Enable(args) => enable(args),
        MarimoAction::Disable(args) => disable(args),
        MarimoAction::Status(args) => status(args),
    }
}

/// The folders marimo's lookup depends on.
struct Places {
    home: Option<PathBuf>,
    xdg_file: Option<PathBuf>,
}

impl Places {
    fn from_env() -> Places {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        let xdg_home = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|x| !x.to_string_lossy().trim().is_empty())
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".config")));
        Places {
            xdg_file: xdg_home.map(|x| x.join("marimo").join("marimo.toml")),
            home,
        }
    }

    fn home_file(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join(USER_FILE))
    }

    /// The file marimo reads as the user layer when run from `cwd`.
    fn user_config(&self, cwd: &Path) -> Option<PathBuf> {
        let home = self.home.as_deref().map(canonical);
        let mut checked_home = false;
        for dir in canonical(cwd).ancestors() {
            if dir.join(USER_FILE).is_file() {
                return Some(dir.join(USER_FILE));
            }
            if Some(dir) == home.as_deref() {
                checked_home = true;
                break;
            }
        }
        if !checked_home && let Some(file) = self.home_file().filter(|f| f.is_file()) {
            return Some(file);
        }
        self.xdg_file.clone().filter(|f| f.is_file())
    }

    /// Only the home and XDG files are the user's own; marimo strips `cache.store` elsewhere.
    fn trusted(&self, file: &Path) -> bool {
        let file = canonical(file);
        [self.home_file(), self.xdg_file.clone()]
            .into_iter()
            .flatten()
            .any(|f| canonical(&f) == file)
    }

    /// Where `enable` writes: the trusted file marimo reads first.
    fn enable_target(&self) -> Result<PathBuf, CliError> {
        match (self.home_file(), &self.xdg_file) {
            (Some(home), _) if home.is_file() => Ok(home),
            (_, Some(xdg)) => Ok(xdg.clone()),
            _ => Err(CliError::failure(
                "neither HOME nor XDG_CONFIG_HOME is set: pass --config FILE",
            )),
        }
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn read_document(path: &Path) -> Result<DocumentMut, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(CliError::failure(format!("{}: {e}", path.display()))),
    };
    text.parse::<DocumentMut>().map_err(|e| {
        let line = e
            .span()
            .map(|s| format!(":{}", celltime_store::store::line_of(&text, s.start)))
            .unwrap_or_default();
        CliError::failure(format!(
            "{}{line}: not valid TOML ({}); nothing was changed",
            path.display(),
            e.message()
        ))
    })
}

fn write_document(path: &Path, document: &DocumentMut) -> Result<(), CliError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::failure(format!("{}: {e}", dir.display())))?;
    }
    write_atomic(&RealFs, path, document.to_string().as_bytes())
        .map_err(|e| CliError::failure(format!("{}: {e}", path.display())))
}

/// The `type` of a `cache.store` item, `"file"` when it names none, or a description of a
/// tiered store.
fn store_type(item: &Item) -> String {
    if let Some(array) = item.as_array() {
        let types: Vec<String> = array
            .iter()
            .map(|v| {
                v.as_inline_table()
                    .and_then(|t| t.get("type"))
                    .and_then(Value::as_str)
                    .unwrap_or("file")
                    .to_string()
            })
            .collect();
        return format!("tiered [{}]", types.join(", "));
    }
    item.as_table_like()
        .and_then(|t| t.get("type"))
        .and_then(Item::as_str)
        .unwrap_or("file")
        .to_string()
}

fn cache_store(document: &DocumentMut) -> Option<&Item> {
    document
        .get("cache")
        .and_then(Item::as_table_like)
        .and_then(|t| t.get("store"))
}

fn enable(args: ConfigArgs) -> CliResult {
    let places = Places::from_env();
    let path = match args.config {
        Some(path) => path,
        None => places.enable_target()?,
    };
    let mut document = read_document(&path)?;
    let previous = cache_store(&document).map(store_type);
    if previous.as_deref() == Some(STORE_TYPE) {
        out(&format!(
            "{}: celltime is already marimo's cache store\n",
            path.display()
        ))?;
        return Ok(exit::OK);
    }
    if !document.contains_key("cache") {
        // Implicit, so the file gains `[cache.store]` alone, not an empty `[cache]` too.
        let mut cache = Table::new();
        cache.set_implicit(true);
        document.insert("cache", Item::Table(cache));
    }
    let cache = document["cache"]
        .as_table_like_mut()
        .ok_or_else(|| CliError::failure(format!("{}: `cache` is not a table", path.display())))?;
    let mut store = Table::new();
    store.insert("type", toml_edit::value(STORE_TYPE));
    cache.insert("store", Item::Table(store));
    write_document(&path, &document)?;
    let replaced = previous
        .map(|p| format!(" (it replaces cache.store type {p:?})"))
        .unwrap_or_default();
    out(&format!(
        "{}: marimo's cache store is now celltime{replaced}\n",
        path.display()
    ))?;
    let cwd = std::env::current_dir()?;
    if let Some(used) = places.user_config(&cwd)
        && canonical(&used) != canonical(&path)
    {
        out(&format!(
            "note: marimo started from {} reads {} instead{}\n",
            cwd.display(),
            used.display(),
            if places.trusted(&used) {
                ""
            } else {
                ", which travels with the code: marimo ignores its cache.store"
            }
        ))?;
    }
    Ok(exit::OK)
}

fn disable(args: ConfigArgs) -> CliResult {
    let places = Places::from_env();
    let candidates: Vec<PathBuf> = match args.config {
        Some(path) => vec![path],
        None => [places.home_file(), places.xdg_file.clone()]
            .into_iter()
            .flatten()
            .collect(),
    };
    let mut changed = 0;
    for path in candidates.iter().filter(|p| p.is_file()) {
        let mut document = read_document(path)?;
        if cache_store(&document).map(store_type).as_deref() != Some(STORE_TYPE) {
            continue;
        }
        if let Some(cache) = document["cache"].as_table_like_mut() {
            cache.remove("store");
            if cache.is_empty() {
                document.remove("cache");
            }
        }
        write_document(path, &document)?;
        out(&format!(
            "{}: celltime is no longer marimo's cache store\n",
            path.display()
        ))?;
        changed += 1;
    }
    if changed == 0 {
        out("celltime was not marimo's cache store in your user config; nothing changed\n")?;
    }
    Ok(exit::OK)
}

/// Where a `cache.store` setting came from, as status reports it.
#[derive(Debug, Serialize)]
struct Layer {
    file: String,
    store: Option<String>,
    trusted: bool,
    /// Why marimo ignores or restricts it, if it does.
    note: Option<String>,
}

#[derive(Debug, Serialize)]
struct MethodStore {
    method: &'static str,
    store: String,
    why: String,
    recorded_by_celltime: bool,
}

#[derive(Debug, Serialize)]
struct Status {
    user_config: Option<Layer>,
    pyproject: Option<Layer>,
    cache_cells: bool,
    methods: Vec<MethodStore>,
}

fn pyproject_of(start: &Path) -> Option<PathBuf> {
    canonical(start)
        .ancestors()
        .map(|dir| dir.join("pyproject.toml"))
        .find(|f| f.is_file())
}

fn status(args: StatusArgs) -> CliResult {
    let places = Places::from_env();
    let start = args.path.unwrap_or_else(|| PathBuf::from("."));
    let user = match places.user_config(&start) {
        Some(file) => {
            let document = read_document(&file)?;
            let trusted = places.trusted(&file);
            let store = cache_store(&document).map(store_type);
            let note = (!trusted && store.is_some()).then(|| {
                "a .marimo.toml found walking up from here travels with the code: marimo drops its cache.store".to_string()
            });
            Some((
                Layer {
                    file: file.display().to_string(),
                    store,
                    trusted,
                    note,
                },
                document,
            ))
        }
        None => None,
    };
    let pyproject = match pyproject_of(&start) {
        Some(file) => {
            let document = read_document(&file)?;
            let marimo = document
                .get("tool")
                .and_then(Item::as_table_like)
                .and_then(|t| t.get("marimo"));
            let store = marimo
                .and_then(Item::as_table_like)
                .and_then(|t| t.get("cache"))
                .and_then(Item::as_table_like)
                .and_then(|t| t.get("store"))
                .map(store_type);
            let cache_cells = marimo
                .and_then(Item::as_table_like)
                .and_then(|t| t.get("runtime"))
                .and_then(Item::as_table_like)
                .and_then(|t| t.get("cache_cells"))
                .and_then(Item::as_bool);
            let note = store.is_some().then(|| {
                "pyproject.toml travels with the code: marimo keeps its cache.store but marks it untrusted, so the pickle loader uses marimo's own folder".to_string()
            });
            Some((
                Layer {
                    file: file.display().to_string(),
                    store,
                    trusted: false,
                    note,
                },
                cache_cells,
            ))
        }
        None => None,
    };
    let user_cache_cells = user
        .as_ref()
        .and_then(|(_, d)| d.get("runtime"))
        .and_then(Item::as_table_like)
        .and_then(|t| t.get("cache_cells"))
        .and_then(Item::as_bool);
    let cache_cells = pyproject
        .as_ref()
        .and_then(|(_, c)| *c)
        .or(user_cache_cells)
        .unwrap_or(false);
    let user_layer = user.map(|(layer, _)| layer);
    let project_layer = pyproject.map(|(layer, _)| layer);
    let methods = methods(user_layer.as_ref(), project_layer.as_ref());
    let report = Status {
        user_config: user_layer,
        pyproject: project_layer,
        cache_cells,
        methods,
    };
    if args.json {
        json::print(Kind::MarimoStatus, &report)?;
    } else {
        out(&render(&report))?;
    }
    Ok(exit::OK)
}

const MARIMO_FOLDER: &str = "marimo's own folder (__marimo__/cache)";

fn methods(user: Option<&Layer>, project: Option<&Layer>) -> Vec<MethodStore> {
    let user_store = user.filter(|l| l.trusted).and_then(|l| l.store.clone());
    let project_store = project.and_then(|l| l.store.clone());
    let describe = |store: &str| {
        if store == STORE_TYPE {
            "celltime (__marimo__/persist)".to_string()
        } else if store == "file" {
            MARIMO_FOLDER.to_string()
        } else {
            format!("marimo's {store:?} store")
        }
    };
    let (json_store, json_why) = match (&project_store, &user_store) {
        (Some(p), _) => (
            p.clone(),
            "set in pyproject.toml [tool.marimo.cache.store]".to_string(),
        ),
        (None, Some(u)) => (u.clone(), "set in your user config".to_string()),
        (None, None) => (
            "file".to_string(),
            match user {
                Some(l) if !l.trusted && l.store.is_some() => {
                    format!("{} sets cache.store, but marimo drops it there", l.file)
                }
                _ => "no cache.store is set: marimo's default".to_string(),
            },
        ),
    };
    let (pickle_store, pickle_why) = match &project_store {
        Some(_) => (
            "file".to_string(),
            "pyproject.toml's cache.store is untrusted, and marimo never feeds it to pickle.loads"
                .to_string(),
        ),
        None => (json_store.clone(), json_why.clone()),
    };
    let celltime_enabled = json_store == STORE_TYPE;
    let lazy_why = if celltime_enabled {
        "marimo always writes lazy and whole-cell caches to its own folder; celltime's executor records each run in the store too".to_string()
    } else {
        "marimo always writes lazy and whole-cell caches to its own folder".to_string()
    };
    vec![
        MethodStore {
            method: "pickle",
            recorded_by_celltime: pickle_store == STORE_TYPE,
            store: describe(&pickle_store),
            why: pickle_why,
        },
        MethodStore {
            method: "json",
            recorded_by_celltime: celltime_enabled,
            store: describe(&json_store),
            why: json_why,
        },
        MethodStore {
            method: "lazy",
            recorded_by_celltime: celltime_enabled,
            store: MARIMO_FOLDER.to_string(),
            why: lazy_why.clone(),
        },
        MethodStore {
            method: "whole-cell",
            recorded_by_celltime: celltime_enabled,
            store: MARIMO_FOLDER.to_string(),
            why: lazy_why,
        },
    ]
}

fn render(report: &Status) -> String {
    let mut text = String::new();
    let layer = |name: &str, layer: &Option<Layer>| match layer {
        Some(l) => format!(
            "{name}: {} (cache.store: {}){}\n",
            l.file,
            l.store.as_deref().unwrap_or("not set"),
            l.note
                .as_ref()
                .map(|n| format!("\n  {n}"))
                .unwrap_or_default()
        ),
        None => format!("{name}: none\n"),
    };
    text.push_str(&layer("user config", &report.user_config));
    text.push_str(&layer("pyproject", &report.pyproject));
    text.push_str(&format!(
        "whole-cell caching (runtime.cache_cells): {}\n\n",
        if report.cache_cells { "on" } else { "off" }
    ));
    for m in &report.methods {
        text.push_str(&format!(
            "{:<11} {}{}\n            {}\n",
            m.method,
            m.store,
            if m.recorded_by_celltime {
                "  [recorded by celltime]"
            } else {
                ""
            },
            m.why
        ));
    }
    text
}
