//! Outputs by mime type, variables by format, and the fallbacks for binary data.

use super::doc::{DocBuilder, Limits, Line, Role};
use super::{Doc, console, human_bytes, image};
use celltime_pyvalue::table::{Table, read_ipc};
use celltime_pyvalue::value::{PyValue, RenderOptions, render};
use celltime_pyvalue::{npy, pickle, pyjson};

/// Renders one output part.
pub fn output(mime: &str, bytes: &[u8], limits: &Limits, colour: bool) -> Doc {
    let essence = mime.split(';').next().unwrap_or("").trim();
    match essence {
        "text/html" => super::html::render(bytes, limits),
        "application/json" => json(bytes, limits),
        "text/markdown" => markdown(bytes, limits),
        "image/svg+xml" => text(bytes, Role::Text, limits, colour),
        m if m.starts_with("image/") => image_summary(m, bytes),
        m if m.starts_with("text/") || m.ends_with("+json") => {
            text(bytes, Role::Text, limits, colour)
        }
        m => text_or_binary(m, bytes, limits, colour),
    }
}

/// Renders a variables part by its serialisation format.
pub fn variable(format: &str, bytes: &[u8], limits: &Limits, colour: bool) -> Doc {
    if format == "json" {
        return json(bytes, limits);
    }
    match decode_variable(format, bytes) {
        Decoded::Table(table) => super::table::render(&table, limits),
        Decoded::Value { value, cut } => {
            let mut doc = python_value(&value, limits);
            if let Some(cut) = cut {
                let note = format!("cut short: {cut}; … marks what is left out");
                doc.lines.insert(0, Line::plain(&note, Role::Warning));
            }
            doc
        }
        Decoded::Text(_) => text(bytes, Role::Text, limits, colour),
        Decoded::Binary => binary_summary(format, bytes),
        Decoded::Error { what, why } => undecodable(what, bytes, &why),
    }
}

/// A variable decoded as data: a pickle is never executed.
pub enum Decoded {
    Table(Box<Table>),
    Value {
        value: PyValue,
        /// Why part of the value was left out (a decoder limit), if it was.
        cut: Option<String>,
    },
    Text(String),
    Binary,
    Error {
        what: &'static str,
        why: String,
    },
}

impl Decoded {
    /// A one-line text form, for comparing values of different kinds.
    pub fn text(&self) -> String {
        match self {
            Decoded::Table(t) => super::table::heading(t),
            Decoded::Value { value, .. } => {
                celltime_pyvalue::value::render_inline(value, &RenderOptions::default())
            }
            Decoded::Text(t) => t.clone(),
            Decoded::Binary => "(binary)".into(),
            Decoded::Error { why, .. } => format!("(undecodable: {why})"),
        }
    }
}

/// Decodes a variables part by its format: pickles, npy, Python's JSON and Arrow IPC as
/// values or tables, text formats as text.
pub fn decode_variable(format: &str, bytes: &[u8]) -> Decoded {
    match format {
        "pickle" => match pickle::decode_partial(bytes, &pickle_limits()) {
            Ok(partial) => match (Table::from_value(partial.value), partial.cut) {
                (Ok(table), None) => Decoded::Table(Box::new(table)),
                (Ok(table), Some(cut)) => Decoded::Value {
                    value: PyValue::Str(super::table::heading(&table)),
                    cut: Some(cut.to_string()),
                },
                (Err(value), cut) => Decoded::Value {
                    value,
                    cut: cut.map(|c| c.to_string()),
                },
            },
            Err(e) => Decoded::Error {
                what: "pickle",
                why: e.to_string(),
            },
        },
        "json" => match pyjson::parse(bytes, JSON_MAX_DEPTH) {
            Ok(value) => Decoded::Value { value, cut: None },
            Err(_) => Decoded::Text(String::from_utf8_lossy(bytes).into_owned()),
        },
        "arrow" | "arrows" | "feather" | "ipc" => match read_ipc(bytes) {
            Ok(table) => Decoded::Table(Box::new(table)),
            Err(why) => Decoded::Error {
                what: "Arrow IPC file",
                why,
            },
        },
        "npy" => match npy::parse(bytes, NPY_PREVIEW_BYTES) {
            Ok(array) => Decoded::Value {
                value: PyValue::NdArray(Box::new(array)),
                cut: None,
            },
            Err(e) => Decoded::Error {
                what: "npy",
                why: e.to_string(),
            },
        },
        _ if is_binary(bytes) => Decoded::Binary,
        _ => Decoded::Text(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// Array data decoded for a preview; the rest of a large array is only counted.
const NPY_PREVIEW_BYTES: usize = 1 << 20;

/// Fewer nodes than the decoder's defaults: a preview needs the shape of a value, not all of
/// it. Bytes are not tighter: a data frame's columns are its bytes, and a table preview needs
/// them whole (1,000,000 rows × 20 float columns are 160 MB).
fn pickle_limits() -> pickle::Limits {
    pickle::Limits {
        max_nodes: 200_000,
        ..pickle::Limits::default()
    }
}

fn python_value(value: &PyValue, limits: &Limits) -> Doc {
    let options = RenderOptions {
        width: limits.width,
        max_lines: limits.max_lines,
        ..RenderOptions::default()
    };
    let mut out = DocBuilder::new(*limits);
    for line in render(value, &options) {
        out.push_line(Line::plain(&line, Role::Text));
    }
    out.finish()
}

fn undecodable(format: &str, bytes: &[u8], why: &str) -> Doc {
    let mut doc = Doc::message(
        &format!("could not decode this {format}: {why}"),
        Role::Warning,
    );
    doc.append(binary_summary(format, bytes));
    doc
}

/// UTF-8 text (lossy), with ANSI colours rendered or stripped.
pub fn text(bytes: &[u8], role: Role, limits: &Limits, colour: bool) -> Doc {
    console::render(&String::from_utf8_lossy(bytes), role, colour, limits)
}

fn text_or_binary(what: &str, bytes: &[u8], limits: &Limits, colour: bool) -> Doc {
    if is_binary(bytes) {
        binary_summary(what, bytes)
    } else {
        text(bytes, Role::Text, limits, colour)
    }
}

/// NUL bytes or invalid UTF-8 near the start.
pub fn is_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    head.contains(&0)
        || match std::str::from_utf8(head) {
            Ok(_) => false,
            // A multi-byte character cut at the probe's end is still text.
            Err(e) => e.error_len().is_some(),
        }
}

/// A typed summary and the first bytes as hex.
pub fn binary_summary(what: &str, bytes: &[u8]) -> Doc {
    let mut doc = Doc::message(
        &format!("{what}, {} (binary)", human_bytes(bytes.len() as u64)),
        Role::Dim,
    );
    for (i, chunk) in bytes.chunks(16).take(8).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        let text = format!("{:08x}  {:<47}  {ascii}", i * 16, hex.join(" "));
        doc.lines.push(Line::plain(&text, Role::Dim));
    }
    doc
}

fn image_summary(mime: &str, bytes: &[u8]) -> Doc {
    let size = human_bytes(bytes.len() as u64);
    let text = match image::dimensions(bytes) {
        Some((w, h)) => format!("{mime}, {size}, {w}×{h}"),
        None => format!("{mime}, {size}"),
    };
    Doc::message(&text, Role::Dim)
}

/// Pretty JSON with numbers exactly as written; Python's own JSON (NaN, Infinity) through the
/// Python-value reader; else text.
fn json(bytes: &[u8], limits: &Limits) -> Doc {
    if let Some(p) = super::json::pretty(bytes) {
        let mut out = DocBuilder::new(*limits);
        out.push_text(&p, Role::Text);
        return out.finish();
    }
    match pyjson::parse(bytes, JSON_MAX_DEPTH) {
        Ok(value) => python_value(&value, limits),
        Err(_) => text(bytes, Role::Text, limits, false),
    }
}

const JSON_MAX_DEPTH: usize = 200;

/// Markdown rendered as formatted text; marimo's markdown outputs are already HTML.
fn markdown(bytes: &[u8], limits: &Limits) -> Doc {
    let source = String::from_utf8_lossy(bytes);
    if source.trim_start().starts_with('<') {
        return super::html::render(bytes, limits);
    }
    super::markdown::render(&source, limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::image::tests::png_header;

    fn render(mime: &str, bytes: &[u8]) -> String {
        output(mime, bytes, &Limits::default(), true).to_text()
    }

    #[test]
    fn html_becomes_readable_text() {
        let text = render("text/html", b"<h1>Title</h1><p>Some <b>bold</b> words</p>");
        assert!(text.contains("Title"), "{text}");
        assert!(text.contains("Some bold words") || text.contains("Some **bold** words"));
        assert!(!text.contains("<p>"));
    }

    #[test]
    fn json_is_pretty_printed() {
        assert_eq!(
            render("application/json", br#"{"a":[1,2]}"#),
            "{\n  \"a\": [\n    1,\n    2\n  ]\n}"
        );
        assert_eq!(render("application/json", b"{oops"), "{oops");
    }

    #[test]
    fn images_show_type_size_and_dimensions() {
        assert_eq!(
            render("image/png", &png_header(64, 32)),
            "image/png, 29 B, 64×32"
        );
        assert_eq!(render("image/webp", b"RIFF"), "image/webp, 4 B");
        assert_eq!(render("image/svg+xml", b"<svg/>"), "<svg/>");
    }

    #[test]
    fn markdown_is_rendered() {
        let doc = output(
            "text/markdown",
            b"## Hi\n**text**",
            &Limits::default(),
            true,
        );
        assert_eq!(doc.lines[0].spans[0].role, Role::Header);
        assert_eq!(doc.to_text(), "Hi\n\ntext");
    }

    #[test]
    fn binary_data_is_summarised() {
        let text = render("application/octet-stream", &[0, 1, 2, 0xff]);
        assert!(text.starts_with("application/octet-stream, 4 B (binary)"));
        assert!(text.contains("00 01 02 ff"));
        assert!(!is_binary("é".as_bytes()));
    }

    #[test]
    fn pickles_and_arrays_are_decoded_as_data() {
        // pickle.dumps({"a": [1, 2.5]}, protocol=2)
        let pickled =
            b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00es.";
        let doc = variable("pickle", pickled, &Limits::default(), true);
        assert_eq!(doc.to_text(), "{'a': [1, 2.5]}");
        let broken = variable("pickle", &[0x80, 4, 0x95], &Limits::default(), true);
        assert!(
            broken.to_text().starts_with("could not decode this pickle"),
            "{}",
            broken.to_text()
        );
        let mut npy = b"\x93NUMPY\x01\x00".to_vec();
        let header = "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }";
        let padded = format!("{header:<117}\n");
        npy.extend((padded.len() as u16).to_le_bytes());
        npy.extend(padded.as_bytes());
        npy.extend([1, 0, 2, 0, 3, 0]);
        let doc = variable("npy", &npy, &Limits::default(), true);
        assert!(doc.to_text().contains("[1, 2, 3]"), "{}", doc.to_text());
    }

    #[test]
    fn json_numbers_print_exactly_as_stored() {
        let doc = render(
            "application/json",
            b"[0.20065631450172938, 1180591620717411303424]",
        );
        assert_eq!(
            doc,
            "[\n  0.20065631450172938,\n  1180591620717411303424\n]"
        );
        let doc = variable(
            "json",
            b"[0.20065631450172938, 1180591620717411303424]",
            &Limits::default(),
            true,
        );
        assert!(
            doc.to_text().contains("1180591620717411303424"),
            "{}",
            doc.to_text()
        );
    }

    #[test]
    fn pickles_past_the_limits_show_the_part_that_fits() {
        // A 250-deep list.
        let mut p = b"\x80\x04".to_vec();
        p.extend(std::iter::repeat_n(b']', 250));
        p.extend(std::iter::repeat_n(b'a', 249));
        p.push(b'.');
        let text = variable("pickle", &p, &Limits::default(), true).to_text();
        assert!(
            text.starts_with("cut short: nesting deeper than 200"),
            "{text}"
        );
        assert!(text.contains("[[[["), "{text}");
    }

    #[test]
    fn json_variables_accept_python_json() {
        let doc = variable("json", b"[1]", &Limits::default(), true);
        assert_eq!(doc.to_text(), "[\n  1\n]");
        let doc = variable("json", b"[NaN, 1]", &Limits::default(), true);
        assert_eq!(doc.to_text(), "[nan, 1]");
    }
}
