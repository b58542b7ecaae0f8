//! Reading marimo notebook sources (`.py` files, docs/MARIMO-CACHE.md §10) as text, to find their cells
//! and their `persistent_cache` blocks. Nothing is executed or imported; the notebook as it
//! is now is all there is, so code found here is "the code now", not necessarily the code
//! an old entry was computed with.

use super::names::sanitise_block_name;
use std::path::Path;

/// Larger files are not notebooks worth reading.
const MAX_SOURCE_BYTES: u64 = 4 << 20;

/// marimo's first cell ids (`CellIdGenerator(seed=42)`); later ones come from the session.
const FIRST_CELL_IDS: [&str; 12] = [
    "Hbol", "MJUe", "vblA", "bkHC", "lEQa", "PKri", "Xref", "SFPL", "BYtC", "RGSE", "Kclp", "emfo",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The function name; `_` for anonymous cells.
    pub name: String,
    /// 1-based line of the `def`.
    pub line: usize,
    /// The body without the `def` and the final `return`, dedented.
    pub code: String,
    /// The names in the final `return`: what the cell defines.
    pub returns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The block folder name marimo uses (sanitised).
    pub name: String,
    /// Index into [`NotebookSource::cells`] of the cell holding it.
    pub cell: Option<usize>,
    pub line: usize,
    /// The `with` statement and its body, or the decorated function, dedented.
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotebookSource {
    /// Relative to the workspace, e.g. `notebook.py`.
    pub file: String,
    pub cells: Vec<Cell>,
    pub blocks: Vec<Block>,
}

impl NotebookSource {
    /// The notebook key: the file path without `.py`.
    pub fn key(&self) -> String {
        self.file
            .strip_suffix(".py")
            .unwrap_or(&self.file)
            .to_string()
    }

    pub fn block(&self, name: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// marimo's positional id of cell `index` when the session does not say.
    pub fn default_cell_id(index: usize) -> String {
        FIRST_CELL_IDS
            .get(index)
            .map_or_else(|| format!("cell{}", index + 1), |id| id.to_string())
    }
}

/// The marimo notebooks directly in `dir` (the cache serves the notebooks of one folder).
/// Symbolic links are not followed.
pub fn find_notebooks(dir: &Path) -> Vec<NotebookSource> {
    let Ok(items) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<NotebookSource> = items
        .filter_map(Result::ok)
        .filter(|i| i.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|i| {
            let name = i.file_name().into_string().ok()?;
            if !name.ends_with(".py") {
                return None;
            }
            let bytes = crate::store::fs::read_regular(&i.path(), MAX_SOURCE_BYTES).ok()?;
            let text = String::from_utf8(bytes).ok()?;
            text.contains("marimo.App(").then(|| parse(&name, &text))
        })
        .collect();
    found.sort_by(|a, b| a.file.cmp(&b.file));
    found
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

pub fn parse(file: &str, text: &str) -> NotebookSource {
    let lines: Vec<&str> = text.lines().collect();
    let cells = cells_of(&lines);
    let blocks = blocks_of(&lines, &cells);
    NotebookSource {
        file: file.to_string(),
        cells: cells.into_iter().map(|(cell, _)| cell).collect(),
        blocks,
    }
}

/// Cells and the line range of each (the `def` line to the end of its body).
fn cells_of(lines: &[&str]) -> Vec<(Cell, std::ops::Range<usize>)> {
    let mut cells = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let is_cell = line.starts_with("@app.cell")
            || line.starts_with("@app.function")
            || line.starts_with("@app.class_definition");
        i += 1;
        if !is_cell {
            continue;
        }
        let Some(def_at) = (i..lines.len()).find(|&j| !lines[j].starts_with('@')) else {
            break;
        };
        // The parameter list may span lines; the body starts after the line ending in ':'.
        let header_end = (def_at..lines.len())
            .find(|&j| lines[j].trim_end().ends_with(':'))
            .unwrap_or(def_at);
        let end = body_end(lines, header_end, 0);
        cells.push((cell_at(lines, def_at, header_end + 1, end), def_at..end));
        i = end;
    }
    cells
}

/// The first line after `start` that is indented `indent` or less (blank lines belong to
/// the body), with trailing blank lines left out.
fn body_end(lines: &[&str], start: usize, indent: usize) -> usize {
    let mut end = start + 1;
    let mut last = start + 1;
    while end < lines.len() && (is_blank(lines[end]) || indent_of(lines[end]) > indent) {
        end += 1;
        if !is_blank(lines[end - 1]) {
            last = end;
        }
    }
    last
}

fn cell_at(lines: &[&str], def_at: usize, body_start: usize, end: usize) -> Cell {
    let header = lines[def_at].trim_start();
    let name = header
        .trim_start_matches("async ")
        .strip_prefix("def ")
        .or_else(|| header.strip_prefix("class "))
        .and_then(|rest| rest.split(['(', ':']).next())
        .unwrap_or("_")
        .trim()
        .to_string();
    let mut body: Vec<&str> = lines[body_start.min(end)..end].to_vec();
    let mut returns = Vec::new();
    if let Some(last) = body.last()
        && let Some(rest) = last.trim().strip_prefix("return")
        && (rest.is_empty() || rest.starts_with([' ', '(']))
    {
        returns = rest
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split(',')
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        body.pop();
    }
    Cell {
        name,
        line: def_at + 1,
        code: dedent(&body),
        returns,
    }
}

fn dedent(lines: &[&str]) -> String {
    let indent = lines
        .iter()
        .filter(|l| !is_blank(l))
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    let mut text: String = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    while text.ends_with('\n') {
        text.pop();
    }
    text.push('\n');
    text
}

fn blocks_of(lines: &[&str], cells: &[(Cell, std::ops::Range<usize>)]) -> Vec<Block> {
    let cell_of = |line: usize| cells.iter().position(|(_, range)| range.contains(&line));
    let mut blocks = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let call = trimmed.find("persistent_cache");
        let Some(call) = call else { continue };
        let block = if trimmed.starts_with("with ") {
            context_block(lines, i, &trimmed[call..])
        } else if trimmed.starts_with('@') {
            decorated_block(lines, i, &trimmed[call..])
        } else {
            None
        };
        if let Some((name, code)) = block {
            blocks.push(Block {
                name: sanitise_block_name(&name),
                cell: cell_of(i),
                line: i + 1,
                code,
            });
        }
    }
    blocks
}

/// `with mo.persistent_cache(name="x"):` or `with persistent_cache("x"):` and its body.
fn context_block(lines: &[&str], at: usize, call: &str) -> Option<(String, String)> {
    let name = name_argument(call)?;
    let end = body_end(lines, at, indent_of(lines[at]));
    Some((name, dedent(&lines[at..end])))
}

/// `@mo.persistent_cache` (with or without arguments) over a function: the block is named
/// after the function unless `name=` says otherwise.
fn decorated_block(lines: &[&str], at: usize, call: &str) -> Option<(String, String)> {
    let def_at = (at + 1..lines.len()).find(|&j| !lines[j].trim_start().starts_with('@'))?;
    let header = lines[def_at].trim_start().trim_start_matches("async ");
    let function = header
        .strip_prefix("def ")?
        .split('(')
        .next()?
        .trim()
        .to_string();
    let name = keyword_string(call, "name").unwrap_or(function);
    let end = body_end(lines, def_at, indent_of(lines[def_at]));
    Some((name, dedent(&lines[at..end])))
}

/// The block name: `name="…"` or the first positional string argument.
fn name_argument(call: &str) -> Option<String> {
    let args = call.split_once('(')?.1.trim_start();
    if let Some(s) = string_literal(args) {
        return Some(s);
    }
    keyword_string(call, "name")
}

fn keyword_string(call: &str, keyword: &str) -> Option<String> {
    let args = call.split_once('(')?.1;
    let mut rest = args;
    while let Some(at) = rest.find(keyword) {
        let before_ok = at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric();
        let after = rest[at + keyword.len()..].trim_start();
        if before_ok && let Some(value) = after.strip_prefix('=') {
            return string_literal(value.trim_start());
        }
        rest = &rest[at + keyword.len()..];
    }
    None
}

fn string_literal(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &text[1..];
    body.find(quote).map(|end| body[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NB: &str = r#"import marimo

app = marimo.App()


@app.cell
def _(mo, n_items, random):
    # context-manager form
    with mo.persistent_cache(name="ctx_block"):
        token = random.random()

        squares = [i * i for i in range(n_items)]
    after = 1
    return squares, token


@app.cell(hide_code=True)
def named(
    mo,
):
    @mo.persistent_cache
    def expensive(n):
        return n

    with mo.persistent_cache("pos.name", method="json"):
        x = 1
    return (x,)


if __name__ == "__main__":
    app.run()
"#;

    #[test]
    fn cells_and_blocks() {
        let nb = parse("nb.py", NB);
        assert_eq!(nb.key(), "nb");
        assert_eq!(nb.cells.len(), 2);
        assert_eq!(nb.cells[0].returns, vec!["squares", "token"]);
        assert_eq!(nb.cells[1].name, "named");
        assert_eq!(nb.cells[1].returns, vec!["x"]);
        assert!(
            nb.cells[0]
                .code
                .starts_with("# context-manager form\nwith mo")
        );
        let ctx = nb.block("ctx_block").unwrap();
        assert_eq!(ctx.cell, Some(0));
        assert_eq!(
            ctx.code,
            "with mo.persistent_cache(name=\"ctx_block\"):\n    token = random.random()\n\n    squares = [i * i for i in range(n_items)]\n"
        );
        let exp = nb.block("expensive").unwrap();
        assert_eq!(exp.cell, Some(1));
        assert!(
            exp.code
                .starts_with("@mo.persistent_cache\ndef expensive(n):\n")
        );
        assert!(nb.block("pos_name").is_some());
    }
}
