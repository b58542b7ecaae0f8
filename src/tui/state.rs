//! The one `AppState`: everything rendering reads and the reducer changes. No I/O here.

use super::data::{Item, Marks, NotebookView};
use super::keymap::{Keymap, Scope};
use super::theme::Theme;
use crate::preview::{CodeDiff, Doc};
use celltime_store::model::{BackendKind, EntryId, NotebookInfo, ParentInfo, Row, Timestamp, Zone};
use celltime_store::ops::Operation;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Cells,
    Timeline,
    Details,
    Marks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Code,
    Diff,
    Outputs,
    Variables,
    Console,
    Meta,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Code,
        Tab::Diff,
        Tab::Outputs,
        Tab::Variables,
        Tab::Console,
        Tab::Meta,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Code => "Code",
            Tab::Diff => "Diff",
            Tab::Outputs => "Outputs",
            Tab::Variables => "Variables",
            Tab::Console => "Console",
            Tab::Meta => "Meta",
        }
    }
}

/// How diffs are laid out; `Auto` picks side by side from 140 columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffLayout {
    Auto,
    Unified,
    Split,
}

pub const SPLIT_MIN_WIDTH: u16 = 140;

/// A line of the cells pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellRow {
    Notebook(usize),
    Cell(usize, usize),
}

/// A notebook as listed, and its timeline once loaded.
#[derive(Debug, Clone)]
pub struct NotebookSlot {
    pub info: NotebookInfo,
    pub view: Option<Arc<NotebookView>>,
    pub error: Option<String>,
    pub expanded: bool,
    pub loading: bool,
    /// The newest timeline request; older results are dropped.
    pub generation: u64,
}

/// What the details, compare and time-machine views show, keyed so that a cached result is
/// reused and a result for something no longer wanted is never displayed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ViewKey {
    Detail {
        notebook: String,
        id: EntryId,
        tab: Tab,
        /// The diff base (the Diff tab only).
        base: Option<EntryId>,
        /// Wrap width of rendered HTML (the Outputs tab only).
        width: u16,
    },
    /// Results compared: each of `ids` against `base`, or against the first of `ids`.
    Compare {
        notebook: String,
        ids: Vec<EntryId>,
        base: Option<(String, EntryId)>,
    },
    TimeMachine {
        notebook: String,
        at: Timestamp,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Doc(Doc),
    Diff(CodeDiff),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub title: String,
    pub body: Body,
    /// The first drawable image among the parts shown (the Outputs tab).
    pub picture: Option<crate::preview::image::Picture>,
    pub parents: Vec<ParentInfo>,
    /// The line of the first parent (Meta tab).
    pub parents_at: usize,
}

impl Preview {
    /// The preview as plain text (for a pager): a diff in unified form.
    pub fn text(&self) -> String {
        match &self.body {
            Body::Doc(doc) => doc.to_text(),
            Body::Diff(diff) => diff
                .lines
                .iter()
                .map(|l| {
                    let sign = match l.kind {
                        crate::preview::DiffKind::Added => "+",
                        crate::preview::DiffKind::Removed => "-",
                        _ => " ",
                    };
                    format!("{sign}{}", l.line.text())
                })
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    pub fn doc(title: impl Into<String>, doc: Doc) -> Preview {
        Preview {
            title: title.into(),
            body: Body::Doc(doc),
            picture: None,
            parents: Vec::new(),
            parents_at: 0,
        }
    }
}

const PREVIEW_CACHE: usize = 64;

/// Rendered previews by key, the oldest evicted first; failures are remembered so they are
/// not retried on every key press (reload clears them).
#[derive(Debug, Clone, Default)]
pub struct Previews {
    ready: HashMap<ViewKey, Arc<Preview>>,
    order: VecDeque<ViewKey>,
    pub failed: HashMap<ViewKey, String>,
    pub in_flight: HashSet<ViewKey>,
    pub generation: u64,
}

impl Previews {
    pub fn get(&self, key: &ViewKey) -> Option<&Arc<Preview>> {
        self.ready.get(key)
    }

    pub fn insert(&mut self, key: ViewKey, preview: Preview) {
        if self.ready.insert(key.clone(), Arc::new(preview)).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > PREVIEW_CACHE {
            if let Some(old) = self.order.pop_front() {
                self.ready.remove(&old);
            }
        }
    }

    pub fn clear(&mut self) {
        self.ready.clear();
        self.order.clear();
        self.failed.clear();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Search,
    KeepNewestCell,
    KeepNewestAll,
    Policy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
}

/// A target of the deletion plan, as the dialog lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTarget {
    pub notebook: String,
    pub cell: Arc<str>,
    pub id: EntryId,
    pub created_at: Timestamp,
    pub size: u64,
}

/// What applying the marks would do; built from the marks, shown, then confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub groups: Vec<(String, Vec<EntryId>)>,
    /// What the plan relies on in each group's notebook (checked again right before
    /// anything is removed).
    pub expect: Vec<crate::tui::jobs::Expected>,
    pub entries: usize,
    pub bytes: u64,
    pub warnings: Vec<String>,
    /// The first targets (the dialog lists at most [`PLAN_LIST_MAX`]).
    pub targets: Vec<PlanTarget>,
}

pub const PLAN_LIST_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    /// Undo an operation of the log; the text names it and what comes back.
    Undo(String),
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Range selection in the timeline from `anchor` (an item index).
    Visual {
        anchor: usize,
    },
    Prompt(Prompt),
    Plan {
        plan: Plan,
        scroll: usize,
    },
    Confirm(Confirm),
    Help {
        scroll: usize,
    },
    /// Results compared: the runs `ids` of `notebook` against the marked `base`, or the
    /// non-deterministic alternatives `ids` against the first.
    Compare {
        notebook: String,
        ids: Vec<EntryId>,
        base: Option<(String, EntryId)>,
        scroll: usize,
    },
    TimeMachine {
        notebook: usize,
        stop: usize,
        scroll: usize,
    },
}

/// A marked entry: the notebook's slot and the entry.
pub type Marked = (usize, EntryId);

/// (marks version, timeline generation) and the marked entries built for them.
pub type MarkedMemo = ((u64, u64), Arc<Vec<Marked>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub level: Level,
    pub text: String,
}

/// A list's cursor and first visible line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListPos {
    pub cursor: usize,
    pub offset: usize,
}

/// A timeline search: the query and the matching item indices of one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub query: String,
    pub notebook: usize,
    pub cell: usize,
    pub matches: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct DetailsState {
    pub tab: Tab,
    pub scroll: usize,
    pub layout: DiffLayout,
    /// Wrap long lines of outputs, variables, console and the time machine.
    pub wrap: bool,
    /// Columns scrolled sideways, where lines are not wrapped.
    pub hscroll: usize,
    /// An entry every diff is taken against, instead of the previous code version.
    pub base: Option<(String, EntryId)>,
    pub parent_cursor: usize,
}

/// How the UI looks and reads keys; fixed for a session.
#[derive(Debug, Clone)]
pub struct Ui {
    pub keymap: Arc<Keymap>,
    pub theme: Arc<Theme>,
    pub mouse: bool,
    /// Local time for absolute times (injected in tests).
    pub tz: Zone,
    /// How images are drawn on this terminal.
    pub pictures: Arc<super::pictures::Pictures>,
    /// Whether prose wraps at start (`wrap` in the config); `W` switches.
    pub wrap: bool,
    /// The saved default policy (`[prune]` of persist.toml): where `P`'s prompt starts.
    pub default_policy: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub ui: Ui,
    pub location: String,
    pub backend: BackendKind,
    pub now: Timestamp,
    pub size: (u16, u16),
    pub notebooks: Vec<NotebookSlot>,
    pub notebooks_loading: bool,
    /// An `R` reload is under way: its status clears when everything is back.
    pub reloading: bool,
    pub notebooks_error: Option<String>,
    pub notebooks_gen: u64,
    pub filter: String,
    /// Derived from notebooks, expansion and the filter.
    pub cell_rows: Vec<CellRow>,
    pub cells: ListPos,
    /// Select the first cell when timelines arrive, until the user moves.
    pub auto_select: bool,
    pub timeline: ListPos,
    pub marks_list: ListPos,
    pub focus: Pane,
    pub marks_pane: bool,
    /// The details (or marks) pane fills the screen.
    pub zoom: bool,
    pub search: Option<Search>,
    pub details: DetailsState,
    pub previews: Previews,
    pub marks: Marks,
    /// The marked entries in display order, for the marks version and timeline generation
    /// it was built for: a memo, so the marks pane does not sort 100,000 entries per key.
    pub marked_memo: RefCell<Option<MarkedMemo>>,
    /// Why a policy keeps an entry, shown next to kept rows.
    pub keep_reasons: HashMap<EntryId, String>,
    pub last_policy: String,
    pub mode: Mode,
    pub status: Option<Status>,
    /// The operation `u` offers to undo, once the log was read and until confirmed.
    pub undo: Option<Box<Operation>>,
    /// Writes in flight (apply, undo, pin).
    pub writing: usize,
    /// Select this entry once its notebook is loaded (a parent jump).
    pub pending_jump: Option<(String, EntryId)>,
    pub timeline_gen: u64,
    pub quit: bool,
}

impl AppState {
    pub fn new(ui: Ui, location: String, backend: BackendKind, now: Timestamp) -> AppState {
        let last_policy = ui
            .default_policy
            .clone()
            .unwrap_or_else(|| "--keep-last 3".into());
        let wrap = ui.wrap;
        AppState {
            ui,
            location,
            backend,
            now,
            size: (80, 24),
            notebooks: Vec::new(),
            notebooks_loading: false,
            reloading: false,
            notebooks_error: None,
            notebooks_gen: 0,
            filter: String::new(),
            cell_rows: Vec::new(),
            cells: ListPos::default(),
            auto_select: true,
            timeline: ListPos::default(),
            marks_list: ListPos::default(),
            focus: Pane::Cells,
            marks_pane: false,
            zoom: false,
            search: None,
            details: DetailsState {
                tab: Tab::Code,
                scroll: 0,
                layout: DiffLayout::Auto,
                wrap,
                hscroll: 0,
                base: None,
                parent_cursor: 0,
            },
            previews: Previews::default(),
            marks: Marks::default(),
            marked_memo: RefCell::new(None),
            keep_reasons: HashMap::new(),
            last_policy,
            mode: Mode::Normal,
            status: None,
            undo: None,
            writing: 0,
            pending_jump: None,
            timeline_gen: 0,
            quit: false,
        }
    }

    /// The active scope chain, innermost first.
    pub fn scopes(&self) -> &'static [Scope] {
        use super::keymap::chains;
        match &self.mode {
            Mode::Prompt(_) => chains::PROMPT,
            Mode::Plan { .. } => chains::PLAN,
            Mode::Confirm(_) => chains::CONFIRM,
            Mode::Help { .. } => chains::HELP,
            Mode::Compare { .. } => chains::COMPARE,
            Mode::TimeMachine { .. } => chains::TIME_MACHINE,
            Mode::Visual { .. } => chains::VISUAL,
            Mode::Normal => match self.focus {
                Pane::Cells => chains::CELLS,
                Pane::Timeline => chains::TIMELINE,
                Pane::Details => chains::DETAILS,
                Pane::Marks => chains::MARKS,
            },
        }
    }

    /// The notebook and cell under the cells cursor (cell None on a notebook line).
    pub fn selected_cell(&self) -> Option<(usize, Option<usize>)> {
        match self.cell_rows.get(self.cells.cursor)? {
            CellRow::Notebook(n) => Some((*n, None)),
            CellRow::Cell(n, c) => Some((*n, Some(*c))),
        }
    }

    pub fn view(&self, notebook: usize) -> Option<&Arc<NotebookView>> {
        self.notebooks.get(notebook)?.view.as_ref()
    }

    /// The loaded notebook and the cell index of the current timeline.
    pub fn current_cell(&self) -> Option<(&Arc<NotebookView>, usize)> {
        let (n, c) = self.selected_cell()?;
        Some((self.view(n)?, c?))
    }

    /// The timeline's items of the current cell.
    pub fn items(&self) -> &[Item] {
        self.current_cell()
            .map_or(&[], |(view, c)| view.cells[c].items.as_slice())
    }

    /// The entry under the timeline cursor.
    pub fn selected_row(&self) -> Option<(&Arc<NotebookView>, &Row)> {
        let (view, c) = self.current_cell()?;
        let row = view.cells[c].items.get(self.timeline.cursor)?.row()?;
        Some((view, &view.rows()[row]))
    }

    pub fn notebook_index(&self, name: &str) -> Option<usize> {
        self.notebooks.iter().position(|s| s.info.notebook == name)
    }

    /// Effective diff layout for the current terminal width.
    pub fn split_diff(&self) -> bool {
        match self.details.layout {
            DiffLayout::Split => true,
            DiffLayout::Unified => false,
            DiffLayout::Auto => self.size.0 >= SPLIT_MIN_WIDTH,
        }
    }

    pub fn set_status(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some(Status {
            level,
            text: text.into(),
        });
    }
}
