//! HTML outputs as text, and marimo's table element (`<marimo-table data-data=… >`, how marimo
//! shows a data frame) as a table.

use std::sync::Arc;

use super::doc::{DocBuilder, Limits, Line, Role};
use super::{Doc, table};
use celltime_pyvalue::pyjson;
use celltime_pyvalue::table::{Column, Table, TableKind, Values};
use celltime_pyvalue::value::PyValue;

pub fn render(bytes: &[u8], limits: &Limits) -> Doc {
    let source = String::from_utf8_lossy(bytes);
    if let Some(doc) = marimo_table(&source, limits) {
        return doc;
    }
    match lines(bytes, limits.width) {
        Ok(lines) => {
            let mut out = DocBuilder::new(*limits);
            for line in lines {
                out.push_line(line);
            }
            out.finish()
        }
        Err(e) => {
            let mut doc = Doc::message(&format!("HTML could not be rendered: {e}"), Role::Warning);
            doc.append(super::output::text(bytes, Role::Text, limits, false));
            doc
        }
    }
}

/// HTML as formatted lines: bold, italic, code and links keep their look, markup is gone.
pub fn lines(bytes: &[u8], width: usize) -> Result<Vec<Line>, html2text::Error> {
    use html2text::render::RichAnnotation as A;
    let rich = html2text::config::rich().lines_from_read(bytes, width.max(20))?;
    Ok(rich
        .iter()
        .map(|tagged| {
            let mut line = Line::default();
            for piece in tagged.tagged_strings() {
                let role = piece.tag.iter().rev().find_map(|a| match a {
                    A::Strong => Some(super::markdown::bold()),
                    A::Emphasis => Some(super::markdown::italic()),
                    A::Code | A::Preformat(_) => Some(Role::String),
                    A::Link(_) | A::Image(_) => Some(Role::Function),
                    A::Strikeout => Some(Role::Dim),
                    _ => None,
                });
                line.push(&piece.s, role.unwrap_or(Role::Text));
            }
            line
        })
        .collect())
}

/// The value of attribute `name` on the first `tag` element, entities decoded.
fn attribute(html: &str, tag: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("<{tag}"))?;
    let element = &html[start..];
    let element = &element[..element.find('>')?];
    let at = element.find(&format!(" {name}="))? + name.len() + 2;
    let rest = &element[at..];
    let quote = rest.chars().next().filter(|q| matches!(q, '\'' | '"'))?;
    let value = &rest[1..];
    Some(decode_entities(&value[..value.find(quote)?]))
}

/// `&quot;`, `&amp;`, `&lt;`, `&gt;`, `&apos;` and numeric references.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let c = match entity {
            "quot" => Some('"'),
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// marimo's `<marimo-table>`: `data-data` holds the shown rows as a JSON string of records,
/// `data-field-types` the columns and their dtypes, `data-total-rows` the frame's length.
fn marimo_table(html: &str, limits: &Limits) -> Option<Doc> {
    if !html.contains("<marimo-table") {
        return None;
    }
    let data = attribute(html, "marimo-table", "data-data")?;
    // The attribute is a JSON string whose content is the JSON of the records.
    let records = match pyjson::parse(data.as_bytes(), 64).ok()? {
        PyValue::Str(inner) => pyjson::parse(inner.as_bytes(), 64).ok()?,
        other => other,
    };
    let PyValue::List(records) = records else {
        return None;
    };
    let fields = attribute(html, "marimo-table", "data-field-types")
        .and_then(|f| pyjson::parse(f.as_bytes(), 64).ok());
    let mut columns: Vec<(String, String)> = match fields {
        Some(PyValue::List(fields)) => fields
            .iter()
            .filter_map(|f| match f {
                PyValue::List(pair) => match pair.as_slice() {
                    [PyValue::Str(name), PyValue::List(kind)] => {
                        let dtype = match kind.as_slice() {
                            [_, PyValue::Str(d)] => d.clone(),
                            _ => String::new(),
                        };
                        Some((name.clone(), dtype))
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if columns.is_empty()
        && let Some(PyValue::Dict(first)) = records.first()
    {
        columns = first
            .iter()
            .filter_map(|(k, _)| match k {
                PyValue::Str(k) => Some((k.clone(), String::new())),
                _ => None,
            })
            .collect();
    }
    let cell = |record: &PyValue, name: &str| match record {
        PyValue::Dict(pairs) => pairs
            .iter()
            .find(|(k, _)| matches!(k, PyValue::Str(k) if k == name))
            .map_or(PyValue::None, |(_, v)| v.clone()),
        _ => PyValue::None,
    };
    let table = Table {
        kind: TableKind::MarimoTable,
        rows: records.len() as u64,
        index: None,
        columns: columns
            .into_iter()
            .map(|(name, dtype)| Column {
                values: Values::Objects(Arc::new(records.iter().map(|r| cell(r, &name)).collect())),
                name,
                dtype,
            })
            .collect(),
    };
    let mut doc = table::render(&table, limits);
    let total: Option<u64> =
        attribute(html, "marimo-table", "data-total-rows").and_then(|t| t.parse().ok());
    if let Some(total) = total.filter(|&t| t > table.rows) {
        let note = format!(
            "marimo's output holds the first {} of {} rows",
            table::thousands(table.rows),
            table::thousands(total)
        );
        doc.lines.insert(1, Line::plain(&note, Role::Dim));
    }
    Some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What marimo 0.25.2 wrote to its session snapshot for `pd.DataFrame({"city": ["Oslo",
    /// "Lima"], "temp": [3.5, 19.25]})` as a cell's output.
    const MARIMO_TABLE: &str = "<marimo-ui-element object-id='MJUe-0' random-id='a3cfb05c-18f5-947d-bff9-3daf988901a6'><marimo-table data-initial-value='[]' data-label='null' data-data='&quot;[{&#92;&quot;city&#92;&quot;:&#92;&quot;Oslo&#92;&quot;,&#92;&quot;temp&#92;&quot;:3.5},{&#92;&quot;city&#92;&quot;:&#92;&quot;Lima&#92;&quot;,&#92;&quot;temp&#92;&quot;:19.25}]&quot;' data-total-rows='2' data-total-columns='2' data-max-columns='50' data-banner-text='&quot;&quot;' data-pagination='false' data-page-size='10' data-field-types='[[&quot;city&quot;,[&quot;string&quot;,&quot;str&quot;]],[&quot;temp&quot;,[&quot;number&quot;,&quot;float64&quot;]]]' data-show-filters='true' data-row-headers='[]'></marimo-table></marimo-ui-element>";

    #[test]
    fn marimo_tables_are_tables() {
        let text = render(MARIMO_TABLE.as_bytes(), &Limits::default()).to_text();
        assert_eq!(
            text,
            "marimo table · 2 rows × 2 columns\ncity     temp\nstr   float64\nOslo      3.5\nLima    19.25"
        );
        let more = MARIMO_TABLE.replace("data-total-rows='2'", "data-total-rows='5000'");
        let text = render(more.as_bytes(), &Limits::default()).to_text();
        assert!(text.contains("first 2 of 5,000 rows"), "{text}");
    }

    #[test]
    fn marimo_markdown_output_reads_as_text() {
        // What marimo 0.25.2 stored for `mo.md("# Report\n\nThe **Total** is `42`.")`.
        let html =
            br#"<span class="markdown prose dark:prose-invert contents"><h1 id="report">Report</h1>
<span class="paragraph">The <strong>Total</strong> is <code>42</code>.</span></span>"#;
        let doc = render(html, &Limits::default());
        let text = doc.to_text();
        assert!(!text.contains("**") && !text.contains('<'), "{text}");
        assert!(text.contains("The Total is 42."), "{text}");
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("a &amp; &lt;b&gt; &#92;&#x41; &bogus x&"),
            "a & <b> \\A &bogus x&"
        );
    }

    #[test]
    fn other_html_becomes_text() {
        let text = render(
            b"<h1>Title</h1><p>Some <b>bold</b> words</p>",
            &Limits::default(),
        )
        .to_text();
        assert!(text.contains("Title") && !text.contains("<p>"), "{text}");
    }
}
