//! `ls`, `show` and `diff`: reading the history, on either backend.

use super::format::{part_names, parts, sanitise, size, table, time};
use super::{CliError, CliResult, WorkspaceArgs, exit, json, out};

use celltime_store::model::{
    EntryId, History, MIN_ID_PREFIX, PartInfo, PartKind, Row, SHORT_ID_LEN, Timeline,
};

use clap::Args;
use globset::{Glob, GlobMatcher};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Only notebooks whose key matches this glob (`analysis/*`, `**/eda`); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub notebook: Vec<String>,
    /// Only this cell; repeatable.
    #[arg(long, value_name = "NAME")]
    pub cell: Vec<String>,
    /// One line per notebook: cells, entries, bytes.
    #[arg(long, conflicts_with = "cells")]
    pub notebooks: bool,
    /// One line per cell: entries, bytes, newest run.
    #[arg(long)]
    pub cells: bool,
    /// Machine-readable output (stable field names; times in RFC 3339 UTC).
    #[arg(long)]
    pub json: bool,
}

/// The history a command works on: the store if `__marimo__/persist` exists, marimo's cache
/// folder if `__marimo__/cache` (or `--cache-dir`) exists, both together when both do.
pub fn open_history(workspace: &WorkspaceArgs) -> Result<Box<dyn History>, CliError> {
    let found = workspace.workspace()?;
    Ok(celltime_store::workspace::open_history(
        &found,
        workspace.cache_dir.as_deref(),
        workspace.store_options(),
    )?)
}

fn matchers(globs: &[String]) -> Result<Vec<GlobMatcher>, CliError> {
    globs
        .iter()
        .map(|g| {
            Glob::new(g)
                .map(|g| g.compile_matcher())
                .map_err(|e| CliError::usage(format!("--notebook {g:?}: {e}")))
        })
        .collect()
}

/// Timelines of the selected notebooks, loaded one at a time.
fn for_each_timeline(
    history: &dyn History,
    notebook_globs: &[String],
    mut visit: impl FnMut(Timeline) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let globs = matchers(notebook_globs)?;
    for info in history.notebooks()? {
        if globs.is_empty() || globs.iter().any(|g| g.is_match(&info.notebook)) {
            let mut timeline = history.timeline(&info.notebook)?;
            // People read histories cell by cell, newest run first.
            timeline
                .rows
                .sort_by(|a, b| a.cell.cmp(&b.cell).then(b.created_at.cmp(&a.created_at)));
            visit(timeline)?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct EntryJson<'a> {
    id: String,
    notebook: &'a str,
    cell: &'a str,
    module: &'a str,
    version: &'a str,
    created_at: String,
    approximate_time: bool,
    last_used: Option<String>,
    pinned: bool,
    size: u64,
    parts: Vec<&'static str>,
}

#[derive(Serialize)]
struct CellJson {
    notebook: String,
    cell: String,
    entries: usize,
    bytes: u64,
    #[serde(serialize_with = "rfc3339")]
    newest: celltime_store::model::Timestamp,
    pinned: usize,
}

fn rfc3339<S: serde::Serializer>(
    t: &celltime_store::model::Timestamp,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

pub fn ls(args: LsArgs) -> CliResult {
    let history = open_history(&args.workspace)?;
    if args.notebooks {
        let globs = matchers(&args.notebook)?;
        let infos: Vec<_> = history
            .notebooks()?
            .into_iter()
            .filter(|i| globs.is_empty() || globs.iter().any(|g| g.is_match(&i.notebook)))
            .collect();
        if args.json {
            json(&infos)?;
        } else {
            let rows: Vec<Vec<String>> = infos
                .iter()
                .map(|i| {
                    vec![
                        i.notebook.clone(),
                        i.cells.to_string(),
                        i.entries.to_string(),
                        size(i.bytes),
                    ]
                })
                .collect();
            out(&table(&["NOTEBOOK", "CELLS", "ENTRIES", "SIZE"], &rows))?;
        }
        return Ok(exit::OK);
    }
    let wanted_cell =
        |row: &Row| args.cell.is_empty() || args.cell.iter().any(|c| **c == *row.cell);
    if args.cells {
        let mut cells = Vec::new();
        for_each_timeline(history.as_ref(), &args.notebook, |timeline| {
            cells.extend(
                cell_summaries(&timeline)
                    .into_iter()
                    .filter(|c| args.cell.is_empty() || args.cell.contains(&c.cell)),
            );
            Ok(())
        })?;
        if args.json {
            json(&cells)?;
        } else {
            let rows: Vec<Vec<String>> = cells
                .iter()
                .map(|c| {
                    vec![
                        c.notebook.clone(),
                        c.cell.clone(),
                        c.entries.to_string(),
                        size(c.bytes),
                        time(c.newest),
                        c.pinned.to_string(),
                    ]
                })
                .collect();
            out(&table(
                &["NOTEBOOK", "CELL", "ENTRIES", "SIZE", "NEWEST", "PINNED"],
                &rows,
            ))?;
        }
        return Ok(exit::OK);
    }
    if args.json {
        out("[")?;
        let mut first = true;
        for_each_timeline(history.as_ref(), &args.notebook, |timeline| {
            let mut chunk = String::new();
            for row in timeline.rows.iter().filter(|r| wanted_cell(r)) {
                let entry = entry_json(&timeline.notebook, row);
                chunk.push_str(if first { "\n  " } else { ",\n  " });
                chunk.push_str(
                    &serde_json::to_string(&entry).map_err(|e| CliError::failure(e.to_string()))?,
                );
                first = false;
            }
            out(&chunk)
        })?;
        out("\n]\n")?;
    } else {
        // One table per notebook, printed as it is read: a million-entry listing never has
        // to sit in memory at once.
        let mut first = true;
        for_each_timeline(history.as_ref(), &args.notebook, |timeline| {
            let rows: Vec<Vec<String>> = timeline
                .rows
                .iter()
                .filter(|r| wanted_cell(r))
                .map(|row| entry_line(&timeline.notebook, row))
                .collect();
            if rows.is_empty() {
                return Ok(());
            }
            let header = [
                "ID", "NOTEBOOK", "CELL", "VERSION", "CREATED", "SIZE", "PARTS", "PIN",
            ];
            let separator = if first { "" } else { "\n" };
            first = false;
            out(&format!("{separator}{}", table(&header, &rows)))
        })?;
    }
    Ok(exit::OK)
}

fn entry_json<'a>(notebook: &'a str, row: &'a Row) -> EntryJson<'a> {
    EntryJson {
        id: row.id.to_hex(),
        notebook,
        cell: &row.cell,
        module: &row.module,
        version: &row.version,
        created_at: row.created_at.to_rfc3339(),
        approximate_time: row.approximate_time,
        last_used: row.last_used.map(|t| t.to_rfc3339()),
        pinned: row.pinned,
        size: row.size,
        parts: part_names(row.parts),
    }
}

fn entry_line(notebook: &str, row: &Row) -> Vec<String> {
    let approx = if row.approximate_time { "~" } else { "" };
    vec![
        row.id.short(),
        notebook.to_string(),
        sanitise(&row.cell),
        row.version.to_string(),
        format!("{approx}{}", time(row.created_at)),
        size(row.size),
        parts(row.parts),
        if row.pinned {
            "pinned".into()
        } else {
            String::new()
        },
    ]
}

fn cell_summaries(timeline: &Timeline) -> Vec<CellJson> {
    let mut cells: Vec<CellJson> = Vec::new();
    for row in &timeline.rows {
        match cells.iter_mut().find(|c| *c.cell == *row.cell) {
            Some(c) => {
                c.entries += 1;
                c.bytes += row.size;
                c.pinned += usize::from(row.pinned);
                c.newest = c.newest.max(row.created_at);
            }
            None => cells.push(CellJson {
                notebook: timeline.notebook.clone(),
                cell: row.cell.to_string(),
                entries: 1,
                bytes: row.size,
                newest: row.created_at,
                pinned: usize::from(row.pinned),
            }),
        }
    }
    cells
}

/// Finds the one entry whose id starts with `prefix`, in any notebook.
pub fn resolve(history: &dyn History, prefix: &str) -> Result<(Timeline, usize), CliError> {
    let prefix = prefix.to_ascii_lowercase();
    if prefix.len() < MIN_ID_PREFIX || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CliError::usage(format!(
            "{prefix:?} is not an entry id: ids are hex, give at least {MIN_ID_PREFIX} characters (`celltime ls` shows them)"
        )));
    }
    let mut found = None;
    let mut count = 0;
    for info in history.notebooks()? {
        let timeline = history.timeline(&info.notebook)?;
        let matches: Vec<usize> = (0..timeline.rows.len())
            .filter(|i| timeline.rows[*i].id.has_prefix(&prefix))
            .collect();
        count += matches.len();
        if let Some(i) = matches.first().copied() {
            found = Some((timeline, i));
        }
    }
    match (count, found) {
        (1, Some(found)) => Ok(found),
        (0, _) | (_, None) => Err(CliError::usage(format!(
            "no entry id starts with {prefix:?}"
        ))),
        (n, _) => Err(CliError::usage(format!(
            "{prefix:?} matches {n} entries; give more characters of the id"
        ))),
    }
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The entry id, or a unique prefix of it (4+ hex characters).
    pub id: String,
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Only parts of this kind, optionally with a label: `outputs`, `outputs:text/html`, `variables:df`.
    #[arg(long, value_name = "KIND[:LABEL]")]
    pub part: Option<String>,
    /// Write the part's bytes unchanged (needs exactly one matching part).
    #[arg(long, requires = "part")]
    pub raw: bool,
    /// Machine-readable key, facts and parts (no contents).
    #[arg(long, conflicts_with = "raw")]
    pub json: bool,
}

fn select_parts<'a>(
    parts: &'a [PartInfo],
    filter: Option<&str>,
) -> Result<Vec<&'a PartInfo>, CliError> {
    let Some(filter) = filter else {
        return Ok(parts.iter().collect());
    };
    let (kind, label) = match filter.split_once(':') {
        Some((k, l)) => (k, Some(l)),
        None => (filter, None),
    };
    let kind: PartKind = kind
        .parse()
        .map_err(|e: celltime_store::model::KeyError| CliError::usage(e.to_string()))?;
    Ok(parts
        .iter()
        .filter(|p| p.kind == kind && label.is_none_or(|l| p.label == l))
        .collect())
}

pub fn show(args: ShowArgs) -> CliResult {
    let history = open_history(&args.workspace)?;
    let (timeline, index) = resolve(history.as_ref(), &args.id)?;
    let row = &timeline.rows[index];
    let detail = history.detail(&timeline.notebook, row.id)?;
    let selected = select_parts(&detail.parts, args.part.as_deref())?;
    if args.raw {
        let [part] = selected.as_slice() else {
            return Err(CliError::usage(format!(
                "--raw needs exactly one part; {} match",
                selected.len()
            )));
        };
        let bytes = history.read(&timeline.notebook, part)?;
        let mut stdout = std::io::stdout().lock();
        std::io::Write::write_all(&mut stdout, &bytes)?;
        return Ok(exit::OK);
    }
    if args.json {
        #[derive(Serialize)]
        struct ShowJson<'a> {
            entry: EntryJson<'a>,
            facts: Vec<(String, String)>,
            parts: Vec<PartJson>,
            parents: Vec<String>,
        }
        #[derive(Serialize)]
        struct PartJson {
            kind: &'static str,
            label: String,
            format: String,
            size: u64,
        }
        return json(&ShowJson {
            entry: entry_json(&timeline.notebook, row),
            facts: detail.facts.clone(),
            parts: selected
                .iter()
                .map(|p| PartJson {
                    kind: p.kind.name(),
                    label: p.label.clone(),
                    format: p.format.clone(),
                    size: p.size,
                })
                .collect(),
            parents: detail.parents.iter().map(|p| p.id.to_hex()).collect(),
        })
        .map(|()| exit::OK);
    }
    let mut text = String::new();
    if args.part.is_none() {
        for (label, value) in &detail.facts {
            text.push_str(&format!("{:<12} {}\n", label, sanitise(value)));
        }
        for parent in &detail.parents {
            text.push_str(&format!(
                "{:<12} {} {} v{} {}\n",
                "parent",
                &parent.id.short()[..SHORT_ID_LEN],
                sanitise(&parent.cell),
                parent.version,
                time(parent.created_at)
            ));
        }
    }
    let options = crate::preview::RenderOptions {
        colour: false,
        ..Default::default()
    };
    for part in selected {
        let title = crate::preview::part_title(part.kind, &part.label, &part.format, part.size);
        text.push_str(&format!("\n── {title} ──\n"));
        match history.read(&timeline.notebook, part) {
            Ok(bytes) => {
                let doc = crate::preview::render_part(
                    part.kind,
                    &part.label,
                    &part.format,
                    &bytes,
                    &options,
                );
                text.push_str(&doc.to_text());
                if !text.ends_with('\n') {
                    text.push('\n');
                }
            }
            Err(e) => text.push_str(&format!("(unavailable: {e})\n")),
        }
    }
    out(&text)?;
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The entry whose code to compare (id or unique prefix).
    pub id: String,
    /// Compare against this entry instead of the previous code version of the same cell.
    pub base: Option<String>,
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Lines of context around each change.
    #[arg(long, default_value_t = 3)]
    pub context: usize,
}

fn code_of(history: &dyn History, notebook: &str, id: EntryId) -> Result<Option<String>, CliError> {
    let detail = history.detail(notebook, id)?;
    match detail.parts.iter().find(|p| p.kind == PartKind::Code) {
        Some(part) => Ok(Some(
            String::from_utf8_lossy(&history.read(notebook, part)?).into_owned(),
        )),
        None => Ok(None),
    }
}

pub fn diff(args: DiffArgs) -> CliResult {
    let history = open_history(&args.workspace)?;
    let (timeline, index) = resolve(history.as_ref(), &args.id)?;
    let row = &timeline.rows[index];
    let new_code = code_of(history.as_ref(), &timeline.notebook, row.id)?.ok_or_else(|| {
        CliError::failure(format!("entry {} has no code snapshot", row.id.short()))
    })?;
    let (base_label, old_code) = match &args.base {
        Some(base) => {
            let (base_timeline, base_index) = resolve(history.as_ref(), base)?;
            let base_row = &base_timeline.rows[base_index];
            let code = code_of(history.as_ref(), &base_timeline.notebook, base_row.id)?
                .ok_or_else(|| {
                    CliError::failure(format!(
                        "entry {} has no code snapshot",
                        base_row.id.short()
                    ))
                })?;
            (base_row.id.short(), code)
        }
        None => match previous_code_version(history.as_ref(), &timeline, index, &new_code)? {
            Some((id, code)) => (id.short(), code),
            None => {
                out(&format!(
                    "{}: first code version of cell {}; nothing to compare\n",
                    row.id.short(),
                    sanitise(&row.cell)
                ))?;
                return Ok(exit::OK);
            }
        },
    };
    let diff = similar::TextDiff::from_lines(&old_code, &new_code);
    let unified = diff
        .unified_diff()
        .context_radius(args.context)
        .header(&base_label, &row.id.short())
        .to_string();
    out(&sanitise(&unified))?;
    Ok(exit::OK)
}

/// The newest earlier run of the same cell whose code differs.
fn previous_code_version(
    history: &dyn History,
    timeline: &Timeline,
    index: usize,
    code: &str,
) -> Result<Option<(EntryId, String)>, CliError> {
    let row = &timeline.rows[index];
    let mut earlier: Vec<&Row> = timeline
        .rows
        .iter()
        .filter(|r| r.cell == row.cell && r.created_at < row.created_at && r.module != row.module)
        .collect();
    earlier.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    for candidate in earlier {
        if let Some(other) = code_of(history, &timeline.notebook, candidate.id)?
            && other != code
        {
            return Ok(Some((candidate.id, other)));
        }
    }
    Ok(None)
}
