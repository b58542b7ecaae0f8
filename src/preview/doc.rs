//! Display documents: lines of spans tagged with semantic roles, so the TUI (themes) and the
//! CLI (ANSI or plain) decide how each role looks. Every text entering a document is
//! sanitised here: control characters from content never reach a terminal raw.

/// What a span means; renderers map roles to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Text,
    Dim,
    Header,
    /// A control character shown in escaped form (`^[`).
    Escape,
    Keyword,
    String,
    Comment,
    Number,
    Function,
    Type,
    Constant,
    Added,
    Removed,
    /// The changed words inside an added or removed line.
    AddedEmph,
    RemovedEmph,
    Warning,
    Error,
    /// A colour the content chose itself with ANSI codes.
    Ansi(AnsiStyle),
}

/// An SGR state: colours as 8-bit palette indices (0–15 are the terminal's own colours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AnsiStyle {
    pub fg: Option<u8>,
    pub bg: Option<u8>,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub reverse: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    pub spans: Vec<Span>,
    /// A row of a table: never wrapped (views scroll it sideways instead).
    pub grid: bool,
}

impl Line {
    pub fn plain(text: &str, role: Role) -> Line {
        let mut line = Line::default();
        line.push(text, role);
        line
    }

    /// Appends text (without newlines) in its visible, sanitised form.
    pub fn push(&mut self, text: &str, role: Role) {
        let mut column = self.width();
        let mut run = String::new();
        for c in text.chars() {
            match escape(c) {
                Escaped::Keep => {
                    run.push(c);
                    column += 1;
                }
                Escaped::Tab => {
                    let spaces = TAB_WIDTH - column % TAB_WIDTH;
                    run.extend(std::iter::repeat_n(' ', spaces));
                    column += spaces;
                }
                Escaped::Shown(shown) => {
                    self.push_raw(std::mem::take(&mut run), role);
                    column += shown.chars().count();
                    self.push_raw(shown, Role::Escape);
                }
            }
        }
        self.push_raw(run, role);
    }

    fn push_raw(&mut self, text: String, role: Role) {
        if text.is_empty() {
            return;
        }
        match self.spans.last_mut() {
            Some(last) if last.role == role => last.text.push_str(&text),
            _ => self.spans.push(Span { text, role }),
        }
    }

    /// Characters (not display columns); used for tab stops and truncation.
    pub fn width(&self) -> usize {
        self.spans.iter().map(|s| s.text.chars().count()).sum()
    }

    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }
}

const TAB_WIDTH: usize = 4;

enum Escaped {
    Keep,
    Tab,
    Shown(String),
}

/// Tabs expand; every character of the one terminal-unsafe predicate ([`celltime_text`])
/// becomes its visible form (`^[`, `<U+202E>`).
fn escape(c: char) -> Escaped {
    match c {
        '\t' => Escaped::Tab,
        c if celltime_text::is_unsafe(c) => {
            let mut shown = String::new();
            celltime_text::push_visible(&mut shown, c);
            Escaped::Shown(shown)
        }
        _ => Escaped::Keep,
    }
}

/// A single-line label with every terminal-unsafe character in its visible form.
pub fn sanitize(text: &str) -> String {
    celltime_text::escape_line(text).into_owned()
}

/// How much a preview may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_lines: usize,
    /// Longer lines are cut with an ellipsis.
    pub max_line_chars: usize,
    /// Columns to wrap rendered HTML at.
    pub width: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_lines: 5000,
            max_line_chars: 2000,
            width: 100,
        }
    }
}

/// Display lines, capped; `omitted` counts the lines left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Doc {
    pub lines: Vec<Line>,
    pub omitted: usize,
}

impl Doc {
    pub fn message(text: &str, role: Role) -> Doc {
        Doc {
            lines: vec![Line::plain(text, role)],
            omitted: 0,
        }
    }

    /// Plain text of every line, with the "… N more lines" note; for tests and the CLI.
    pub fn to_text(&self) -> String {
        let mut out: Vec<String> = self.lines.iter().map(Line::text).collect();
        if let Some(note) = self.more_note() {
            out.push(note);
        }
        out.join("\n")
    }

    pub fn more_note(&self) -> Option<String> {
        (self.omitted > 0).then(|| format!("… {} more lines", self.omitted))
    }

    pub fn len(&self) -> usize {
        self.lines.len() + usize::from(self.omitted > 0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn append(&mut self, other: Doc) {
        self.lines.extend(other.lines);
        self.omitted += other.omitted;
    }
}

/// Builds a [`Doc`] within [`Limits`].
pub struct DocBuilder {
    doc: Doc,
    limits: Limits,
}

impl DocBuilder {
    pub fn new(limits: Limits) -> DocBuilder {
        DocBuilder {
            doc: Doc::default(),
            limits,
        }
    }

    pub fn is_full(&self) -> bool {
        self.doc.lines.len() >= self.limits.max_lines
    }

    pub fn push_line(&mut self, mut line: Line) {
        if self.is_full() {
            self.doc.omitted += 1;
            return;
        }
        truncate(&mut line, self.limits.max_line_chars);
        self.doc.lines.push(line);
    }

    /// Adds text of one role, one line per `\n`; a huge text is counted, not split.
    pub fn push_text(&mut self, text: &str, role: Role) {
        let text = text.strip_suffix('\n').unwrap_or(text);
        for (i, line) in text.split('\n').enumerate() {
            if self.is_full() {
                let rest = text.split('\n').count() - i;
                self.doc.omitted += rest;
                return;
            }
            self.push_line(Line::plain(line.strip_suffix('\r').unwrap_or(line), role));
        }
    }

    pub fn blank(&mut self) {
        self.push_line(Line::default());
    }

    pub fn add_omitted(&mut self, lines: usize) {
        self.doc.omitted += lines;
    }

    pub fn finish(self) -> Doc {
        self.doc
    }
}

fn truncate(line: &mut Line, max: usize) {
    if line.width() <= max {
        return;
    }
    let mut left = max;
    let mut kept = Vec::new();
    for mut span in line.spans.drain(..) {
        let n = span.text.chars().count();
        if n <= left {
            left -= n;
            kept.push(span);
            continue;
        }
        span.text = span.text.chars().take(left).collect();
        kept.push(span);
        break;
    }
    kept.push(Span {
        text: "…".into(),
        role: Role::Dim,
    });
    line.spans = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_pass_through() {
        let line = Line::plain(
            "a\u{1b}[31mb\u{0}c\u{7f}\u{9b}\u{202e}x\u{200b}\u{feff}\u{2028}",
            Role::Text,
        );
        assert_eq!(
            line.text(),
            "a^[[31mb^@c^?<U+009B><U+202E>x<U+200B><U+FEFF><U+2028>"
        );
        assert!(line.text().chars().all(|c| !c.is_control()));
        let roles: Vec<Role> = line.spans.iter().map(|s| s.role).collect();
        assert_eq!(roles[1], Role::Escape);
    }

    #[test]
    fn tabs_expand_to_stops() {
        assert_eq!(Line::plain("a\tb", Role::Text).text(), "a   b");
        assert_eq!(Line::plain("abcd\tb", Role::Text).text(), "abcd    b");
    }

    #[test]
    fn builder_caps_lines_and_counts_the_rest() {
        let limits = Limits {
            max_lines: 2,
            max_line_chars: 5,
            width: 80,
        };
        let mut b = DocBuilder::new(limits);
        b.push_text("one\ntwo\nthree\nfour\n", Role::Text);
        let doc = b.finish();
        assert_eq!(doc.lines.len(), 2);
        assert_eq!(doc.omitted, 2);
        assert_eq!(doc.to_text(), "one\ntwo\n… 2 more lines");
        let mut b = DocBuilder::new(limits);
        b.push_text("abcdefgh", Role::Text);
        assert_eq!(b.finish().to_text(), "abcde…");
    }
}
