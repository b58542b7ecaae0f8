//! Markdown as formatted text, parsed with pulldown-cmark: headings, emphasis, code, lists,
//! quotes, links and tables, wrapped to the view's width. Inline HTML tags (marimo wraps
//! markdown in `<span>`s) are dropped and their text kept.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::Doc;
use super::doc::{AnsiStyle, DocBuilder, Limits, Line, Role};

pub fn render(source: &str, limits: &Limits) -> Doc {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut r = Renderer {
        out: DocBuilder::new(*limits),
        width: limits.width.max(20),
        words: Vec::new(),
        styles: Vec::new(),
        prefix: Vec::new(),
        lists: Vec::new(),
        pending_item: None,
        table: None,
        link: Vec::new(),
        code_block: false,
        blank_before: false,
        html: String::new(),
    };
    for event in Parser::new_ext(source, options) {
        if let Event::Html(block) = &event {
            r.html.push_str(block);
            continue;
        }
        r.html_block();
        r.event(event);
    }
    r.html_block();
    r.flush();
    r.out.finish()
}

struct Table {
    alignments: Vec<Alignment>,
    rows: Vec<Vec<String>>,
    cell: String,
}

struct Renderer {
    out: DocBuilder,
    width: usize,
    /// The paragraph being filled: (text, role), split at spaces when wrapped.
    words: Vec<(String, Role)>,
    styles: Vec<Role>,
    /// Indentation of quotes and list items.
    prefix: Vec<String>,
    /// Open lists: the next number, or None for bullets.
    lists: Vec<Option<u64>>,
    /// The marker of a list item whose first line is not written yet.
    pending_item: Option<String>,
    table: Option<Table>,
    link: Vec<String>,
    code_block: bool,
    blank_before: bool,
    /// A raw HTML block being collected (it comes a line at a time).
    html: String,
}

pub(super) fn bold() -> Role {
    Role::Ansi(AnsiStyle {
        bold: true,
        ..AnsiStyle::default()
    })
}

pub(super) fn italic() -> Role {
    Role::Ansi(AnsiStyle {
        italic: true,
        ..AnsiStyle::default()
    })
}

impl Renderer {
    fn role(&self) -> Role {
        self.styles.last().copied().unwrap_or(Role::Text)
    }

    fn text(&mut self, text: &str, role: Role) {
        if let Some(t) = &mut self.table {
            t.cell.push_str(text);
            return;
        }
        self.words.push((text.to_string(), role));
    }

    fn block_start(&mut self) {
        self.flush();
        if self.blank_before && self.pending_item.is_none() {
            self.out.blank();
        }
        self.blank_before = false;
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) if self.code_block => {
                for line in t.lines() {
                    let mut l = self.line_prefix();
                    l.push("    ", Role::Text);
                    l.push(line, Role::String);
                    self.out.push_line(l);
                }
            }
            Event::Text(t) => {
                let role = self.role();
                self.text(&t, role);
            }
            Event::Code(t) => self.text(&t, Role::String),
            Event::SoftBreak => self.text(" ", Role::Text),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.block_start();
                let rule = "─".repeat(self.width.min(40));
                self.out.push_line(Line::plain(&rule, Role::Dim));
                self.blank_before = true;
            }
            Event::TaskListMarker(done) => {
                let role = self.role();
                self.text(if done { "[x] " } else { "[ ] " }, role);
            }
            // Inline tags are dropped, the text between them kept (it comes as Text events);
            // HTML blocks are collected and rendered as HTML.
            Event::Html(_) | Event::InlineHtml(_) => {}
            Event::FootnoteReference(f) => self.text(&format!("[{f}]"), Role::Dim),
            Event::InlineMath(m) | Event::DisplayMath(m) => self.text(&m, Role::String),
        }
    }

    fn start(&mut self, tag: Tag) {
        match tag {
            Tag::Paragraph => self.block_start(),
            Tag::Heading { level, .. } => {
                self.block_start();
                let role = if level == HeadingLevel::H1 {
                    Role::Ansi(AnsiStyle {
                        bold: true,
                        underline: true,
                        ..AnsiStyle::default()
                    })
                } else {
                    Role::Header
                };
                self.styles.push(role);
            }
            Tag::BlockQuote(_) => {
                self.block_start();
                self.prefix.push("│ ".into());
            }
            Tag::CodeBlock(kind) => {
                self.block_start();
                if let CodeBlockKind::Fenced(lang) = kind
                    && !lang.is_empty()
                {
                    let mut l = self.line_prefix();
                    l.push(&format!("    {lang}"), Role::Dim);
                    self.out.push_line(l);
                }
                self.code_block = true;
            }
            Tag::List(start) => {
                self.block_start();
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush();
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "• ".into(),
                };
                self.pending_item = Some(marker);
                self.prefix.push("  ".into());
            }
            Tag::Emphasis => self.styles.push(italic()),
            Tag::Strong => self.styles.push(bold()),
            Tag::Strikethrough => self.styles.push(Role::Dim),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.link.push(dest_url.to_string());
                self.styles.push(Role::Function);
            }
            Tag::Table(alignments) => {
                self.block_start();
                self.table = Some(Table {
                    alignments,
                    rows: Vec::new(),
                    cell: String::new(),
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.rows.push(Vec::new());
                }
            }
            Tag::TableCell => {}
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.flush();
                self.blank_before = true;
            }
            TagEnd::Heading(_) => {
                self.flush();
                self.styles.pop();
                self.blank_before = true;
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.prefix.pop();
                self.blank_before = true;
            }
            TagEnd::CodeBlock => {
                self.code_block = false;
                self.blank_before = true;
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                self.blank_before = true;
            }
            TagEnd::Item => {
                self.flush();
                self.prefix.pop();
                self.pending_item = None;
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.styles.pop();
            }
            TagEnd::Link | TagEnd::Image => {
                self.styles.pop();
                if let Some(url) = self.link.pop()
                    && !url.is_empty()
                {
                    self.text(&format!(" ({url})"), Role::Dim);
                }
            }
            TagEnd::TableCell => {
                if let Some(t) = &mut self.table {
                    let cell = std::mem::take(&mut t.cell);
                    if let Some(row) = t.rows.last_mut() {
                        row.push(cell.trim().to_string());
                    }
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.table_lines(&t);
                }
                self.blank_before = true;
            }
            _ => {}
        }
    }

    /// Renders a collected raw HTML block as text.
    fn html_block(&mut self) {
        if self.html.is_empty() {
            return;
        }
        let html = std::mem::take(&mut self.html);
        self.block_start();
        if let Ok(lines) = super::html::lines(html.as_bytes(), self.width) {
            for line in lines {
                self.out.push_line(line);
            }
        }
        self.blank_before = true;
    }

    /// The quote bars and list indentation of a new line; a list item's marker on its first.
    fn line_prefix(&mut self) -> Line {
        let mut line = Line::default();
        let depth = self.prefix.len();
        for (i, p) in self.prefix.iter().enumerate() {
            let is_item = i + 1 == depth && self.pending_item.is_some();
            if !is_item {
                line.push(p, Role::Dim);
            }
        }
        if let Some(marker) = self.pending_item.take() {
            line.push(&marker, Role::Dim);
        }
        line
    }

    /// Writes the paragraph being filled, wrapped to the width.
    fn flush(&mut self) {
        if self.words.is_empty() {
            return;
        }
        let words = std::mem::take(&mut self.words);
        let mut line = self.line_prefix();
        let indent = line.width();
        let mut used = indent;
        let mut fresh = true;
        for (text, role) in &words {
            for piece in text.split_inclusive(' ') {
                let n = piece.chars().count();
                if used + n > self.width && !fresh {
                    self.out.push_line(std::mem::take(&mut line));
                    line = self.line_prefix();
                    if line.width() < indent {
                        line.push(&" ".repeat(indent - line.width()), Role::Text);
                    }
                    used = indent;
                    fresh = true;
                }
                let piece = if fresh { piece.trim_start() } else { piece };
                line.push(piece, *role);
                used += piece.chars().count();
                fresh = fresh && piece.is_empty();
            }
        }
        self.out.push_line(line);
    }

    fn table_lines(&mut self, t: &Table) {
        let columns = t.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                t.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (i, row) in t.rows.iter().enumerate() {
            let mut line = Line::default();
            for (c, width) in widths.iter().enumerate() {
                if c > 0 {
                    line.push("  ", Role::Text);
                }
                let text = row.get(c).map_or("", String::as_str);
                let pad = width.saturating_sub(text.chars().count());
                let role = if i == 0 { Role::Header } else { Role::Text };
                let right = t.alignments.get(c) == Some(&Alignment::Right);
                if right {
                    line.push(&" ".repeat(pad), Role::Text);
                }
                line.push(text, role);
                if !right && c + 1 < columns {
                    line.push(&" ".repeat(pad), Role::Text);
                }
            }
            line.grid = true;
            self.out.push_line(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(md: &str) -> String {
        render(md, &Limits::default()).to_text()
    }

    #[test]
    fn formatting_marks_become_styles() {
        let doc = render("# Title\n\nThe **Total** is `42`.", &Limits::default());
        assert_eq!(doc.to_text(), "Title\n\nThe Total is 42.");
        let roles: Vec<Role> = doc.lines[2].spans.iter().map(|s| s.role).collect();
        assert!(
            roles.contains(&bold()) && roles.contains(&Role::String),
            "{roles:?}"
        );
    }

    #[test]
    fn lists_quotes_links_code_and_tables() {
        assert_eq!(text("- a\n- b\n\n1. x\n2. y"), "• a\n• b\n\n1. x\n2. y");
        assert_eq!(text("> quoted"), "│ quoted");
        assert_eq!(text("[docs](https://x.y)"), "docs (https://x.y)");
        assert_eq!(text("```py\nx = 1\n```"), "    py\n    x = 1");
        assert_eq!(text("| a | b |\n|---|--:|\n| 1 | 22 |"), "a   b\n1  22");
    }

    #[test]
    fn inline_html_tags_are_dropped() {
        assert_eq!(
            text("<span style=\"color: red\">**Total**: 3</span>"),
            "Total: 3"
        );
    }

    #[test]
    fn html_blocks_are_rendered() {
        assert_eq!(
            text("<div>\n<b>Hi</b> there\n</div>\n\nafter"),
            "Hi there\n\nafter"
        );
    }

    #[test]
    fn long_paragraphs_wrap() {
        let limits = Limits {
            width: 20,
            ..Limits::default()
        };
        let doc = render(&"word ".repeat(10), &limits);
        assert!(doc.lines.len() > 1);
        assert!(doc.lines.iter().all(|l| l.width() <= 20));
    }
}
