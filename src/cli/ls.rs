//! `ls`: entries, cells or notebooks, without reading any content.

use super::format::{part_names, parts, sanitise, size, table, time};
use super::{Backend, CliError, CliResult, WorkspaceArgs, exit, json, out};
use celltime_store::model::{History, Row, Timeline};
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
    /// Only runs of one backend (default: both; a run held by both is one row).
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
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
    let notebooks = history.notebooks()?;
    no_match(&notebooks, notebook_globs, &globs)?;
    for info in notebooks {
        if globs.is_empty() || globs.iter().any(|g| g.is_match(&info.notebook)) {
            let mut timeline = history.timeline(&info.notebook)?;
            // People read histories cell by cell, newest run first.
            newest_first_by_cell(&mut timeline.rows);
            visit(timeline)?;
        }
    }
    Ok(())
}

/// Sorts rows by cell, each cell's newest run first. Timelines come in key order, so a cell's
/// rows are usually together already: then only each cell's rows are sorted, by time.
fn newest_first_by_cell(rows: &mut [Row]) {
    let newest_first = |a: &Row, b: &Row| b.created_at.cmp(&a.created_at);
    if rows.is_sorted_by(|a, b| a.cell <= b.cell) {
        for cell in rows.chunk_by_mut(|a, b| a.cell == b.cell) {
            cell.sort_by(newest_first);
        }
    } else {
        rows.sort_by(|a, b| a.cell.cmp(&b.cell).then(newest_first(a, b)));
    }
}

/// `--notebook` globs that match no notebook are a mistake worth saying (exit 1, as `rg`
/// exits when nothing matches).
fn no_match(
    notebooks: &[celltime_store::model::NotebookInfo],
    texts: &[String],
    globs: &[GlobMatcher],
) -> Result<(), CliError> {
    if globs.is_empty()
        || notebooks
            .iter()
            .any(|i| globs.iter().any(|g| g.is_match(&i.notebook)))
    {
        return Ok(());
    }
    let names: Vec<String> = notebooks.iter().map(|i| sanitise(&i.notebook)).collect();
    Err(CliError::failure(format!(
        "no notebook matches --notebook {} (notebooks: {})",
        sanitise(&texts.join(" --notebook ")),
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    )))
}

#[derive(Serialize)]
pub(super) struct EntryJson<'a> {
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
    /// Where the run's copies live: `store`, `cache` or both.
    copies: Vec<&'static str>,
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
    let history = args.workspace.history_of(args.backend)?;
    if args.notebooks {
        let globs = matchers(&args.notebook)?;
        let notebooks = history.notebooks()?;
        no_match(&notebooks, &args.notebook, &globs)?;
        let infos: Vec<_> = notebooks
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
            // Printed a thousand rows at a time: a large notebook's listing is never held whole.
            let mut chunk = String::new();
            for (n, row) in timeline.rows.iter().filter(|r| wanted_cell(r)).enumerate() {
                let entry = entry_json(&timeline.notebook, row);
                chunk.push_str(if first { "\n  " } else { ",\n  " });
                chunk.push_str(
                    &serde_json::to_string(&entry).map_err(|e| CliError::failure(e.to_string()))?,
                );
                first = false;
                if n % 1000 == 999 {
                    out(&std::mem::take(&mut chunk))?;
                }
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
                "ID", "NOTEBOOK", "CELL", "VERSION", "CREATED", "SIZE", "PARTS", "COPIES", "PIN",
            ];
            let separator = if first { "" } else { "\n" };
            first = false;
            out(&format!("{separator}{}", table(&header, &rows)))
        })?;
    }
    Ok(exit::OK)
}

pub(super) fn entry_json<'a>(notebook: &'a str, row: &'a Row) -> EntryJson<'a> {
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
        copies: copies(row.copies),
    }
}

fn copies(copies: celltime_store::model::Copies) -> Vec<&'static str> {
    let mut out = Vec::new();
    if copies.store {
        out.push("store");
    }
    if copies.cache {
        out.push("cache");
    }
    out
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
        row.copies.label().to_string(),
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
