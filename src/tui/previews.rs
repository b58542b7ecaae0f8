//! Builds what the details, compare and time-machine views show, on a worker: reads parts
//! through the [`History`], renders them with [`crate::preview`].

use super::data::NotebookView;
use super::format::{absolute, relative, short_hash};
use super::state::{Body, Preview, Tab, ViewKey};
use crate::preview::results::{self, PartData, ResultsDiff, RunRef};
use crate::preview::{self, DiffOptions, Doc, DocBuilder, Limits, Line, RenderOptions, Role};
use celltime_store::model::{Detail, EntryId, History, PartInfo, PartKind, Row, Timestamp, Zone};

/// What previews need besides the key: the clock and zone for titles.
#[derive(Debug, Clone, Copy)]
pub struct PreviewContext {
    pub now: Timestamp,
    pub tz: Zone,
}

/// Builds the preview a key names.
pub fn build(
    history: &dyn History,
    key: &ViewKey,
    view: Option<&NotebookView>,
    ctx: PreviewContext,
) -> Result<Preview, String> {
    match key {
        ViewKey::Detail {
            notebook,
            id,
            tab,
            base,
            width,
        } => detail(history, notebook, *id, *tab, *base, *width),
        ViewKey::Compare {
            notebook,
            ids,
            base,
        } => compare(history, notebook, ids, base.as_ref(), view, ctx),
        ViewKey::TimeMachine { notebook, at } => {
            let view = view.ok_or("the notebook is not loaded")?;
            Ok(time_machine(history, notebook, view, *at, ctx))
        }
    }
}

fn options(width: u16) -> RenderOptions {
    RenderOptions {
        limits: Limits {
            width: width.max(20) as usize,
            ..Limits::default()
        },
        colour: true,
    }
}

fn detail(
    history: &dyn History,
    notebook: &str,
    id: EntryId,
    tab: Tab,
    base: Option<EntryId>,
    width: u16,
) -> Result<Preview, String> {
    let detail = history.detail(notebook, id).map_err(|e| e.message)?;
    let opts = options(width);
    let preview = match tab {
        Tab::Code => code(history, notebook, &detail, &opts),
        Tab::Diff => diff(history, notebook, &detail, id, base)?,
        Tab::Outputs => parts(
            history,
            notebook,
            &detail,
            PartKind::Outputs,
            "outputs",
            &opts,
        ),
        Tab::Variables => parts(
            history,
            notebook,
            &detail,
            PartKind::Variables,
            "variables",
            &opts,
        ),
        Tab::Console => parts(
            history,
            notebook,
            &detail,
            PartKind::Console,
            "console output",
            &opts,
        ),
        Tab::Meta => meta(&detail),
    };
    Ok(preview)
}

fn read_text(history: &dyn History, notebook: &str, part: &PartInfo) -> Result<String, String> {
    history
        .read(notebook, part)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| e.message)
}

fn code_part(detail: &Detail) -> Option<&PartInfo> {
    detail.parts.iter().find(|p| p.kind == PartKind::Code)
}

fn code(history: &dyn History, notebook: &str, detail: &Detail, opts: &RenderOptions) -> Preview {
    let Some(part) = code_part(detail) else {
        return Preview::doc(
            "code",
            Doc::message("this run has no code snapshot", Role::Dim),
        );
    };
    let title = format!("code · {}", preview::human_bytes(part.size));
    match read_text(history, notebook, part) {
        Ok(text) => Preview::doc(title, preview::code::python(&text, &opts.limits)),
        Err(e) => Preview::doc(title, unreadable(&e)),
    }
}

fn unreadable(message: &str) -> Doc {
    Doc::message(&format!("could not read this part: {message}"), Role::Error)
}

fn diff(
    history: &dyn History,
    notebook: &str,
    detail: &Detail,
    id: EntryId,
    base: Option<EntryId>,
) -> Result<Preview, String> {
    let Some(base) = base else {
        return Ok(Preview::doc(
            "diff",
            Doc::message(
                "no earlier code version of this cell to compare with",
                Role::Dim,
            ),
        ));
    };
    let title = format!("diff {} → {}", base.short(), id.short());
    let base_detail = history.detail(notebook, base).map_err(|e| e.message)?;
    let (Some(old), Some(new)) = (code_part(&base_detail), code_part(detail)) else {
        return Ok(Preview::doc(
            title,
            Doc::message("one of the runs has no code snapshot", Role::Dim),
        ));
    };
    let old = read_text(history, notebook, old);
    let new = read_text(history, notebook, new);
    let (old, new) = match (old, new) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => return Ok(Preview::doc(title, unreadable(&e))),
    };
    let diff = preview::diff_code(&old, &new, &DiffOptions::default());
    if diff.identical {
        return Ok(Preview::doc(
            title,
            Doc::message("the code is the same", Role::Dim),
        ));
    }
    Ok(Preview {
        title: format!("{title} · +{} −{}", diff.added, diff.removed),
        body: Body::Diff(diff),
        picture: None,
        parents: Vec::new(),
        parents_at: 0,
    })
}

/// Every part of one kind, each under its heading.
fn parts(
    history: &dyn History,
    notebook: &str,
    detail: &Detail,
    kind: PartKind,
    what: &str,
    opts: &RenderOptions,
) -> Preview {
    let (count, bytes) = detail
        .parts
        .iter()
        .filter(|p| p.kind == kind)
        .fold((0, 0), |(n, b), p| (n + 1, b + p.size));
    let title = format!(
        "{what}: {} · {}",
        celltime_store::units::count(count, "part", "parts"),
        preview::human_bytes(bytes)
    );
    let mut preview = Preview::doc(
        title,
        parts_doc(history, notebook, detail, &[kind], what, opts),
    );
    if kind == PartKind::Outputs {
        preview.picture = detail
            .parts
            .iter()
            .filter(|p| p.kind == kind && preview::image::is_drawable(&p.label))
            .find_map(|p| {
                let bytes = history.read(notebook, p).ok()?;
                preview::image::decode(&p.label, &bytes)
            });
    }
    preview
}

fn parts_doc(
    history: &dyn History,
    notebook: &str,
    detail: &Detail,
    kinds: &[PartKind],
    what: &str,
    opts: &RenderOptions,
) -> Doc {
    let mut doc = Doc::default();
    for part in detail.parts.iter().filter(|p| kinds.contains(&p.kind)) {
        if !doc.lines.is_empty() {
            doc.lines.push(Line::default());
        }
        let title = preview::part_title(part.kind, &part.label, &part.format, part.size);
        doc.lines.push(Line::plain(&title, Role::Header));
        let body = match history.read(notebook, part) {
            Ok(bytes) => preview::render_part(part.kind, &part.label, &part.format, &bytes, opts),
            Err(e) => unreadable(&e.message),
        };
        doc.append(body);
    }
    if doc.lines.is_empty() {
        // A backend that knows outputs exist but not whether they are this run's says so.
        let note = detail.facts.iter().find(|(k, _)| k == "outputs");
        return match note {
            Some((_, note)) if !kinds.contains(&PartKind::Variables) => {
                Doc::message(&format!("outputs and console text {note}"), Role::Dim)
            }
            _ => Doc::message(&format!("this run has no {what}"), Role::Dim),
        };
    }
    doc
}

fn meta(detail: &Detail) -> Preview {
    let mut out = DocBuilder::new(Limits::default());
    let label_width = detail
        .facts
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    for (label, value) in &detail.facts {
        let mut line = Line::default();
        line.push(&format!("{label:<label_width$}  "), Role::Dim);
        line.push(value, Role::Text);
        out.push_line(line);
    }
    out.blank();
    if detail.parents.is_empty() {
        out.push_line(Line::plain("no parents recorded", Role::Dim));
    } else {
        out.push_line(Line::plain(
            "parents (enter jumps to the selected one)",
            Role::Header,
        ));
    }
    let mut doc = out.finish();
    let facts = doc.lines.len();
    for p in &detail.parents {
        let text = format!(
            "{} · {} · {} · v{} · {}",
            p.notebook,
            p.cell,
            short_hash(&p.module),
            p.version,
            p.created_at
        );
        doc.lines.push(Line::plain(&text, Role::Text));
    }
    Preview {
        title: "meta".into(),
        body: Body::Doc(doc),
        picture: None,
        parents: detail.parents.clone(),
        parents_at: facts,
    }
}

/// Results compared: each run against the marked base, or each non-deterministic alternative
/// against the first (the same comparison as `celltime diff --parts`).
fn compare(
    history: &dyn History,
    notebook: &str,
    ids: &[EntryId],
    base: Option<&(String, EntryId)>,
    view: Option<&NotebookView>,
    ctx: PreviewContext,
) -> Result<Preview, String> {
    let (base_notebook, base_id, others) = match (base, ids.split_first()) {
        (Some((nb, id)), _) => (nb.as_str(), *id, ids),
        (None, Some((first, rest))) => (notebook, *first, rest),
        (None, None) => return Err("nothing to compare".into()),
    };
    let parts_of = |nb: &str, id: EntryId| -> Result<Vec<PartData>, String> {
        let detail = history.detail(nb, id).map_err(|e| e.message)?;
        detail
            .parts
            .iter()
            .map(|p| {
                Ok(PartData {
                    kind: p.kind,
                    label: p.label.clone(),
                    format: p.format.clone(),
                    bytes: history.read(nb, p).map_err(|e| e.message)?,
                })
            })
            .collect()
    };
    let run = |nb: &str, id: EntryId| RunRef {
        id: id.to_hex(),
        notebook: nb.to_string(),
        cell: String::new(),
        created_at: String::new(),
    };
    let base_parts = parts_of(base_notebook, base_id)?;
    let mut doc = Doc::default();
    for &id in others {
        let diff = ResultsDiff {
            base: run(base_notebook, base_id),
            other: run(notebook, id),
            parts: results::diff_parts(&base_parts, &parts_of(notebook, id)?, RESULT_KINDS),
        };
        if let Some(row) = view.and_then(|v| v.row(id)) {
            let when = format!("v{} · {}", row.version, relative(ctx.now, row.created_at));
            doc.lines.push(Line::plain(&when, Role::Dim));
        }
        doc.append(results::render(&diff, &Limits::default()));
        doc.lines.push(Line::default());
    }
    Ok(Preview::doc(
        format!("results against {}", base_id.short()),
        doc,
    ))
}

/// The parts a results comparison covers.
const RESULT_KINDS: &[PartKind] = &[PartKind::Variables, PartKind::Outputs, PartKind::Console];

const TM_CODE_LINES: usize = 12;
const TM_OUTPUT_LINES: usize = 8;

/// Every cell's latest code and output as of `at`.
fn time_machine(
    history: &dyn History,
    notebook: &str,
    view: &NotebookView,
    at: Timestamp,
    ctx: PreviewContext,
) -> Preview {
    let mut doc = Doc::default();
    for cell in &view.cells {
        let row = cell
            .rows()
            .map(|r| &view.rows()[r])
            .find(|row| row.created_at <= at);
        let mut heading = Line::default();
        heading.push(&cell.name, Role::Header);
        match row {
            Some(row) => {
                heading.push(&format!("  {}", row_summary(row, ctx)), Role::Dim);
                doc.lines.push(heading);
                doc.append(tm_cell(history, notebook, row));
            }
            None => {
                heading.push("  no run yet", Role::Dim);
                doc.lines.push(heading);
            }
        }
        doc.lines.push(Line::default());
    }
    Preview::doc(format!("{notebook} as of {}", absolute(at, ctx.tz)), doc)
}

fn row_summary(row: &Row, ctx: PreviewContext) -> String {
    format!(
        "{} · {} · {} · v{}",
        relative(ctx.now, row.created_at),
        row.id.short(),
        short_hash(&row.module),
        row.version
    )
}

fn tm_cell(history: &dyn History, notebook: &str, row: &Row) -> Doc {
    let detail = match history.detail(notebook, row.id) {
        Ok(d) => d,
        Err(e) => return unreadable(&e.message),
    };
    let small = |lines| RenderOptions {
        limits: Limits {
            max_lines: lines,
            ..Limits::default()
        },
        colour: true,
    };
    let mut doc = Doc::default();
    if let Some(part) = code_part(&detail) {
        let body = match read_text(history, notebook, part) {
            Ok(text) => preview::code::python(&text, &small(TM_CODE_LINES).limits),
            Err(e) => unreadable(&e),
        };
        doc.append(indent(body));
    }
    if let Some(part) = detail.parts.iter().find(|p| p.kind == PartKind::Outputs) {
        doc.lines
            .push(Line::plain(&format!("  → {}", part.label), Role::Dim));
        let body = match history.read(notebook, part) {
            Ok(bytes) => {
                preview::render_part(part.kind, &part.label, "", &bytes, &small(TM_OUTPUT_LINES))
            }
            Err(e) => unreadable(&e.message),
        };
        doc.append(indent(body));
    }
    doc
}

fn indent(mut doc: Doc) -> Doc {
    for line in &mut doc.lines {
        line.spans.insert(
            0,
            preview::Span {
                text: "  ".into(),
                role: Role::Text,
            },
        );
    }
    if let Some(note) = doc.more_note() {
        doc.lines.push(Line::plain(&format!("  {note}"), Role::Dim));
        doc.omitted = 0;
    }
    doc
}
