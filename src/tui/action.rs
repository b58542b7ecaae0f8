//! Everything the UI can be asked to do. Keys map to the bindable actions (by kebab-case
//! name in the config); the runtime adds input, resize, clock and mouse actions.

use celltime_store::model::Timestamp;

macro_rules! bindable {
    ($($variant:ident => $name:literal, $about:literal;)*) => {
        /// A named action.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant,)*
            /// A character typed into a prompt.
            Insert(char),
            Resize { width: u16, height: u16 },
            Tick(Timestamp),
            Mouse(MouseAction),
            /// The store or marimo's cache changed on disk (the file-system follower).
            DiskChanged,
            /// Ctrl-C: quit now (in a prompt: cancel it). Not rebindable.
            Interrupt,
            /// Ctrl-Z: give the terminal back and stop until `fg`. Not rebindable.
            Suspend,
        }

        impl Action {
            /// Every action a key can be bound to.
            pub const BINDABLE: &'static [Action] = &[$(Action::$variant,)*];

            /// The kebab-case name used in config files and help.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                    Action::Insert(_) => "insert",
                    Action::Resize { .. } => "resize",
                    Action::Tick(_) => "tick",
                    Action::Mouse(_) => "mouse",
                    Action::DiskChanged => "disk-changed",
                    Action::Interrupt => "interrupt",
                    Action::Suspend => "suspend",
                }
            }

            pub fn about(self) -> &'static str {
                match self {
                    $(Action::$variant => $about,)*
                    _ => "",
                }
            }
        }
    };
}

bindable! {
    Quit => "quit", "quit (asks first when entries are marked)";
    Help => "help", "show this help";
    Close => "close", "close this view";
    FocusNext => "focus-next", "focus the next pane";
    FocusPrev => "focus-prev", "focus the previous pane";
    FocusLeft => "focus-left", "focus the pane to the left";
    FocusRight => "focus-right", "focus the pane to the right";
    MoveDown => "move-down", "move down";
    MoveUp => "move-up", "move up";
    PageDown => "page-down", "move one page down";
    PageUp => "page-up", "move one page up";
    Top => "top", "go to the top";
    Bottom => "bottom", "go to the bottom";
    Open => "open", "open: expand a notebook, focus the next pane, jump to a parent";
    Filter => "filter", "filter cells by name";
    Search => "search", "search this timeline";
    NextMatch => "next-match", "next search match";
    PrevMatch => "prev-match", "previous search match";
    ToggleMark => "toggle-mark", "mark or unmark for deletion";
    Visual => "visual", "select a range of runs";
    Pin => "pin", "pin or unpin (pinned runs are kept by policies)";
    Serve => "serve", "serve marimo this run for its cell and module from now on";
    SetBase => "set-base", "mark this run as the base of diffs and compare (again: unmark)";
    MarksPane => "marks-pane", "show or hide the marked entries";
    OpenPlan => "delete-plan", "review the deletion plan of the marked entries";
    Confirm => "confirm", "yes";
    Cancel => "cancel", "no";
    Undo => "undo", "undo the last operation: a deletion, prune, pin or import (asks first)";
    TimeMachine => "time-machine", "the notebook as it was at a time";
    Compare => "compare", "compare results with the base run (b), or the versions of this code";
    MarkAllButNewest => "mark-all-but-newest", "mark all but the newest N runs of this cell";
    MarkAllButNewestEverywhere => "mark-all-but-newest-everywhere", "mark all but the newest N runs of every cell of every notebook";
    MarkByPolicy => "mark-by-policy", "mark what a retention policy would remove";
    ClearMarks => "clear-marks", "unmark everything";
    Reload => "reload", "reload from disk";
    NextTab => "next-tab", "next details tab";
    PrevTab => "prev-tab", "previous details tab";
    TabCode => "tab-code", "code tab";
    TabDiff => "tab-diff", "diff tab";
    TabOutputs => "tab-outputs", "outputs tab";
    TabVariables => "tab-variables", "variables tab";
    TabConsole => "tab-console", "console tab";
    TabMeta => "tab-meta", "meta tab";
    DiffLayout => "diff-layout", "unified or side-by-side diff";
    Wrap => "wrap", "wrap long lines of outputs, variables and console text (or scroll them sideways)";
    ScrollLeft => "scroll-left", "scroll the details left";
    ScrollRight => "scroll-right", "scroll the details right (long lines end in › where they are cut)";
    Zoom => "zoom", "the details pane full screen (again: back)";
    CopyId => "copy-id", "copy the selected run's id to the clipboard (OSC 52)";
    OpenExternal => "open-external", "open the selected run's output in $PAGER or the system viewer";
    Earlier => "earlier", "one run earlier";
    Later => "later", "one run later";
    Earliest => "earliest", "the first run";
    Latest => "latest", "the last run";
    Submit => "submit", "accept the input";
    DeleteChar => "delete-char", "delete the last character";
    ClearInput => "clear-input", "clear the input";
}

impl Action {
    pub fn from_name(name: &str) -> Option<Action> {
        Action::BINDABLE.iter().copied().find(|a| a.name() == name)
    }
}

/// Mouse input reduced to what the UI uses; coordinates are terminal cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MouseAction {
    Click { x: u16, y: u16 },
    ScrollUp { x: u16, y: u16 },
    ScrollDown { x: u16, y: u16 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &action in Action::BINDABLE {
            let name = action.name();
            assert!(seen.insert(name), "duplicate {name}");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            assert_eq!(Action::from_name(name), Some(action));
            assert!(!action.about().is_empty());
        }
        assert_eq!(Action::from_name("insert"), None);
    }
}
