//! `ls`: entries, cells or notebooks, without reading any content.

use super::format::{parts, size, table, time};
use super::json::{self, Kind};
use super::{Backend, CliError, CliResult, Skipped, WorkspaceArgs, exit, out};
use celltime_store::model::{History, NotebookGlobs, Row, Timeline};
use clap::Args;
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
    /// Machine-readable output (schemas celltime.ls.v1, celltime.ls-cells.v1,
    /// celltime.ls-notebooks.v1; see docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    /// Only runs of one backend (default: both; a run held by both is one row).
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
}

fn matchers(globs: &[String]) -> Result<NotebookGlobs, CliError> {
    NotebookGlobs::new(globs).map_err(|e| CliError::usage(e.to_string()))
}

/// Timelines of the selected notebooks, loaded one at a time; one that cannot be read is
/// reported and skipped.
fn for_each_timeline(
    history: &dyn History,
    notebook_globs: &[String],
    skipped: &mut Skipped,
    mut visit: impl FnMut(Timeline) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let globs = matchers(notebook_globs)?;
    let notebooks = history.notebooks()?;
    no_match(&notebooks, notebook_globs, &globs)?;
    for info in notebooks {
        if globs.matches(&info.notebook) {
            let mut timeline = match history.timeline(&info.notebook) {
                Ok(timeline) => timeline,
                Err(e) => {
                    skipped.report(e);
                    continue;
                }
            };
            // People read histories cell by cell, newest run first.
            newest_first_by_cell(&mut timeline.rows);
            visit(timeline)?;
        }
    }
    Ok(())
}

/// Sorts rows by cell, each cell's newest run first (ties in key order, then by id: the order
/// is total, so sorting in place gives one answer). Timelines come in key order, so a cell's
/// rows are usually together already: then only each cell's rows are sorted.
fn newest_first_by_cell(rows: &mut [Row]) {
    let newest_first = |a: &Row, b: &Row| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.module.cmp(&b.module))
            .then_with(|| a.version.cmp(&b.version))
            .then(a.id.cmp(&b.id))
    };
    if rows.is_sorted_by(|a, b| a.cell <= b.cell) {
        for cell in rows.chunk_by_mut(|a, b| a.cell == b.cell) {
            cell.sort_unstable_by(newest_first);
        }
    } else {
        rows.sort_unstable_by(|a, b| a.cell.cmp(&b.cell).then_with(|| newest_first(a, b)));
    }
}

/// `--notebook` globs that match no notebook are a mistake worth saying (exit 1, as `rg`
/// exits when nothing matches).
fn no_match(
    notebooks: &[celltime_store::model::NotebookInfo],
    texts: &[String],
    globs: &NotebookGlobs,
) -> Result<(), CliError> {
    if texts.is_empty() || notebooks.iter().any(|i| globs.matches(&i.notebook)) {
        return Ok(());
    }
    let names: Vec<&str> = notebooks.iter().map(|i| i.notebook.as_str()).collect();
    Err(CliError::failure(format!(
        "no notebook matches --notebook {} (notebooks: {})",
        texts.join(" --notebook "),
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    )))
}

#[derive(Serialize)]
struct NotebookJson {
    notebook: String,
    cells: usize,
    entries: usize,
    size: u64,
}

#[derive(Serialize)]
struct CellJson {
    notebook: String,
    cell: String,
    entries: usize,
    size: u64,
    #[serde(serialize_with = "rfc3339")]
    newest_at: celltime_store::model::Timestamp,
    pinned: usize,
}

fn rfc3339<S: serde::Serializer>(
    t: &celltime_store::model::Timestamp,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&json::time(*t))
}

pub fn ls(args: LsArgs) -> CliResult {
    let history = args.workspace.history_of(args.backend)?;
    let mut skipped = Skipped::default();
    if args.notebooks {
        let globs = matchers(&args.notebook)?;
        let notebooks = history.notebooks()?;
        no_match(&notebooks, &args.notebook, &globs)?;
        let infos: Vec<_> = notebooks
            .into_iter()
            .filter(|i| globs.matches(&i.notebook))
            .collect();
        if args.json {
            #[derive(Serialize)]
            struct Notebooks {
                notebooks: Vec<NotebookJson>,
            }
            let notebooks = infos
                .into_iter()
                .map(|i| NotebookJson {
                    notebook: i.notebook,
                    cells: i.cells,
                    entries: i.entries,
                    size: i.bytes,
                })
                .collect();
            json::print(Kind::LsNotebooks, &Notebooks { notebooks })?;
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
        for_each_timeline(history.as_ref(), &args.notebook, &mut skipped, |timeline| {
            cells.extend(
                cell_summaries(&timeline)
                    .into_iter()
                    .filter(|c| args.cell.is_empty() || args.cell.contains(&c.cell)),
            );
            Ok(())
        })?;
        if args.json {
            #[derive(Serialize)]
            struct Cells {
                cells: Vec<CellJson>,
            }
            json::print(Kind::LsCells, &Cells { cells })?;
        } else {
            let rows: Vec<Vec<String>> = cells
                .iter()
                .map(|c| {
                    vec![
                        c.notebook.clone(),
                        c.cell.clone(),
                        c.entries.to_string(),
                        size(c.size),
                        time(c.newest_at),
                        c.pinned.to_string(),
                    ]
                })
                .collect();
            out(&table(
                &["NOTEBOOK", "CELL", "ENTRIES", "SIZE", "NEWEST", "PINNED"],
                &rows,
            ))?;
        }
        return Ok(skipped.exit_code(exit::OK));
    }
    if args.json {
        json::write(&json::open_list(Kind::Ls, "entries"))?;
        let mut first = true;
        for_each_timeline(history.as_ref(), &args.notebook, &mut skipped, |timeline| {
            let rows: Vec<&Row> = timeline.rows.iter().filter(|r| wanted_cell(r)).collect();
            json::write_entries(&timeline.notebook, &rows, &mut first, &mut json::write)
        })?;
        json::write(json::close_list(first))?;
    } else {
        // One table per notebook, printed as it is read: a million-entry listing never has
        // to sit in memory at once.
        let mut first = true;
        for_each_timeline(history.as_ref(), &args.notebook, &mut skipped, |timeline| {
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
    Ok(skipped.exit_code(exit::OK))
}

fn entry_line(notebook: &str, row: &Row) -> Vec<String> {
    let approx = if row.approximate_time { "~" } else { "" };
    vec![
        row.id.short(),
        notebook.to_string(),
        row.cell.to_string(),
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
                c.size += row.size;
                c.pinned += usize::from(row.pinned);
                c.newest_at = c.newest_at.max(row.created_at);
            }
            None => cells.push(CellJson {
                notebook: timeline.notebook.clone(),
                cell: row.cell.to_string(),
                entries: 1,
                size: row.size,
                newest_at: row.created_at,
                pinned: usize::from(row.pinned),
            }),
        }
    }
    cells
}

/// The cells as `ls --cells` prints them: the UI's plain mode (`TERM=dumb`).
pub fn plain_cells(workspace: WorkspaceArgs, backend: Option<Backend>) -> CliResult {
    ls(LsArgs {
        workspace,
        notebook: Vec::new(),
        cell: Vec::new(),
        notebooks: false,
        cells: true,
        json: false,
        backend,
    })
}
