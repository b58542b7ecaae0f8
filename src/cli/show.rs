//! `show`: one entry, its key, parts and their previews.

use super::format::time;
use super::json::{self, Kind};
use super::{CliError, CliResult, WorkspaceArgs, exit, out, resolve, write_stdout};
use celltime_store::model::{ContentRef, Detail, PartInfo, PartKind, Row, SHORT_ID_LEN};
use clap::Args;
use serde::Serialize;
use std::io::IsTerminal;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The entry id, or a unique prefix of it (4+ hex characters).
    pub id: String,
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Only parts of this kind, optionally with a label: `outputs`, `outputs:text/html`, `variables:df`.
    #[arg(long, value_name = "KIND[:LABEL]")]
    pub part: Option<String>,
    /// Write the part's bytes unchanged (needs exactly one matching part). To a terminal,
    /// bytes that would drive it (control sequences, binary data) are refused unless --force.
    #[arg(long, requires = "part")]
    pub raw: bool,
    /// With --raw: write to a terminal even bytes that would drive it.
    #[arg(long, requires = "raw")]
    pub force: bool,
    /// Machine-readable entry, parts, parents and notes, no contents (schema
    /// celltime.show.v1, docs/JSON.md).
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
    let history = args.workspace.history()?;
    let (timeline, index) = resolve(history.as_ref(), &args.id)?;
    let row = &timeline.rows[index];
    let detail = history.detail(&timeline.notebook, row.id)?;
    let selected = select_parts(&detail.parts, args.part.as_deref())?;
    if let Some(filter) = &args.part
        && selected.is_empty()
    {
        let has: Vec<String> = detail
            .parts
            .iter()
            .map(|p| match p.label.as_str() {
                "" => p.kind.name().to_string(),
                label => format!("{}:{}", p.kind.name(), celltime_text::escape_line(label)),
            })
            .collect();
        return Err(CliError::failure(format!(
            "entry {} has no part {} (it has: {})",
            row.id.short(),
            celltime_text::escape_line(filter),
            if has.is_empty() {
                "none".to_string()
            } else {
                has.join(", ")
            }
        )));
    }
    if args.raw {
        let [part] = selected.as_slice() else {
            return Err(CliError::usage(format!(
                "--raw needs exactly one part; {} match",
                selected.len()
            )));
        };
        if !args.force && std::io::stdout().is_terminal() {
            // What goes to a terminal is checked whole before a byte of it is written.
            let bytes = history.read(&timeline.notebook, part)?;
            if celltime_text::drives_terminal(&bytes) {
                return Err(CliError::usage(
                    "--raw: this part holds control sequences or binary data, which would drive \
                     the terminal; redirect it to a file or a pipe, or pass --force",
                ));
            }
            write_stdout(&bytes)?;
            return Ok(exit::OK);
        }
        // Streamed: a part of any size costs the memory of one block.
        let mut stdout = UntilClosed(std::io::BufWriter::new(std::io::stdout().lock()), false);
        history.copy_to(&timeline.notebook, part, &mut stdout)?;
        std::io::Write::flush(&mut stdout)?;
        return Ok(exit::OK);
    }
    if args.json {
        return json::print(
            Kind::Show,
            &show_json(&timeline.notebook, row, &detail, &selected),
        )
        .map(|()| exit::OK);
    }
    let mut text = String::new();
    if args.part.is_none() {
        for (label, value) in &detail.facts {
            text.push_str(&format!("{:<12} {}\n", label, value));
        }
        for parent in &detail.parents {
            text.push_str(&format!(
                "{:<12} {} {} v{} {}\n",
                "parent",
                &parent.id.short()[..SHORT_ID_LEN],
                parent.cell,
                parent.version,
                time(parent.created_at)
            ));
        }
    }
    let options = crate::preview::RenderOptions {
        colour: false,
        ..Default::default()
    };
    let mut unavailable = 0;
    let terminal = std::io::stdout().is_terminal();
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
                if terminal
                    && part.kind == PartKind::Outputs
                    && let Some(picture) = crate::preview::image::decode(&part.label, &bytes)
                {
                    out(&std::mem::take(&mut text))?;
                    draw_picture(&picture)?;
                }
            }
            Err(e) => {
                unavailable += 1;
                text.push_str(&format!(
                    "(unavailable: {})\n",
                    celltime_text::escape_line(&e.to_string())
                ));
            }
        }
    }
    out(&text)?;
    if unavailable > 0 {
        // What could be read is shown; the exit status says the rest could not be.
        return Err(CliError::failure(format!(
            "{} of entry {} could not be read (missing or corrupt content; `celltime verify` says more)",
            super::format::count(unavailable, "part", "parts"),
            row.id.short()
        )));
    }
    Ok(exit::OK)
}

/// Standard output for `--raw`: once the reader has gone (`| head`), the rest is dropped
/// quietly instead of failing the command.
struct UntilClosed<W>(W, bool);

impl<W: std::io::Write> std::io::Write for UntilClosed<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.1 {
            return Ok(bytes.len());
        }
        match self.0.write(bytes) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.1 = true;
                Ok(bytes.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// Rows an image takes when `show` draws it on a terminal.
const PICTURE_ROWS: u16 = 20;

/// Draws an image below the text, with kitty, iTerm2 or sixel graphics where the terminal
/// draws them and half blocks elsewhere (`tui::pictures::picker` decides).
fn draw_picture(picture: &crate::preview::image::Picture) -> Result<(), CliError> {
    use ratatui::backend::CrosstermBackend;
    use ratatui::{Terminal, TerminalOptions, Viewport};
    use ratatui_image::{Image, Resize};
    let picker = crate::tui::pictures::picker();
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(std::io::stdout()),
        TerminalOptions {
            viewport: Viewport::Inline(PICTURE_ROWS),
        },
    )?;
    terminal.draw(|frame| {
        let area = frame.area();
        let size = ratatui::layout::Size::new(area.width, area.height);
        if let Ok(protocol) = picker.new_protocol((*picture.0).clone(), size, Resize::Fit(None)) {
            frame.render_widget(Image::new(&protocol), area);
        }
    })?;
    out("\n")
}

#[derive(Serialize)]
struct ShowJson<'a> {
    entry: json::Entry<'a>,
    parts: Vec<PartJson>,
    parents: Vec<ParentJson>,
    /// What the backend knows beyond the entry's fields (marimo's cache file, its loader,
    /// where the cache copy is): display text, one line each.
    notes: Vec<NoteJson>,
}

#[derive(Serialize)]
struct PartJson {
    kind: &'static str,
    label: String,
    format: String,
    size: u64,
    /// `blake3:…` for a store content; the file (relative to marimo's cache folder) for a
    /// cache part.
    content: String,
}

#[derive(Serialize)]
struct ParentJson {
    id: String,
    notebook: String,
    cell: String,
    module: String,
    version: String,
    created_at: String,
}

#[derive(Serialize)]
struct NoteJson {
    label: String,
    text: String,
}

/// Facts the entry object already carries as typed fields (or the parts list does).
fn typed_elsewhere(label: &str) -> bool {
    const FIELDS: [&str; 10] = [
        "id",
        "notebook",
        "cell",
        "module hash",
        "version",
        "created",
        "last used",
        "pinned",
        "size",
        "copies",
    ];
    let first_word = label.split(' ').next().unwrap_or_default();
    FIELDS.contains(&label) || first_word.parse::<PartKind>().is_ok()
}

fn show_json<'a>(
    notebook: &'a str,
    row: &'a Row,
    detail: &Detail,
    parts: &[&PartInfo],
) -> ShowJson<'a> {
    ShowJson {
        entry: json::Entry::of(notebook, row),
        parts: parts
            .iter()
            .map(|p| PartJson {
                kind: p.kind.name(),
                label: p.label.clone(),
                format: p.format.clone(),
                size: p.size,
                content: match &p.content {
                    ContentRef::Hash(hash) => hash.to_string(),
                    ContentRef::File { path, member } => match member {
                        Some(member) => format!("{path}#{member}"),
                        None => path.clone(),
                    },
                },
            })
            .collect(),
        parents: detail
            .parents
            .iter()
            .map(|p| ParentJson {
                id: p.id.to_hex(),
                notebook: p.notebook.clone(),
                cell: p.cell.clone(),
                module: p.module.clone(),
                version: p.version.clone(),
                created_at: json::time(p.created_at),
            })
            .collect(),
        notes: detail
            .facts
            .iter()
            .filter(|(label, _)| !typed_elsewhere(label))
            .map(|(label, text)| NoteJson {
                label: label.clone(),
                text: text.clone(),
            })
            .collect(),
    }
}
