//! Keys → actions, in scopes. The same table drives dispatch, the `?` help and the hint bar,
//! so help never drifts from behaviour. Config overrides replace an action's keys (no hidden
//! default alternates survive a remap).

use super::action::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::HashMap;
use std::fmt;

/// Where a binding applies. The active scopes form a chain, innermost first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    Navigation,
    Cells,
    Timeline,
    Details,
    Marks,
    Visual,
    Prompt,
    Plan,
    Confirm,
    Help,
    Compare,
    TimeMachine,
}

impl Scope {
    pub const ALL: [Scope; 13] = [
        Scope::Global,
        Scope::Navigation,
        Scope::Cells,
        Scope::Timeline,
        Scope::Details,
        Scope::Marks,
        Scope::Visual,
        Scope::Prompt,
        Scope::Plan,
        Scope::Confirm,
        Scope::Help,
        Scope::Compare,
        Scope::TimeMachine,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Navigation => "navigation",
            Scope::Cells => "cells",
            Scope::Timeline => "timeline",
            Scope::Details => "details",
            Scope::Marks => "marks",
            Scope::Visual => "visual",
            Scope::Prompt => "prompt",
            Scope::Plan => "plan",
            Scope::Confirm => "confirm",
            Scope::Help => "help",
            Scope::Compare => "compare",
            Scope::TimeMachine => "time-machine",
        }
    }

    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The scope chains the UI activates, innermost first (`AppState::scopes` returns one).
pub mod chains {
    use super::Scope::{self, *};

    pub const PROMPT: &[Scope] = &[Prompt];
    pub const PLAN: &[Scope] = &[Plan, Navigation];
    pub const CONFIRM: &[Scope] = &[Confirm];
    pub const HELP: &[Scope] = &[Help, Navigation];
    pub const COMPARE: &[Scope] = &[Compare, Navigation];
    pub const TIME_MACHINE: &[Scope] = &[TimeMachine, Navigation];
    pub const VISUAL: &[Scope] = &[Visual, Timeline, Navigation, Global];
    pub const CELLS: &[Scope] = &[Cells, Navigation, Global];
    pub const TIMELINE: &[Scope] = &[Timeline, Navigation, Global];
    pub const DETAILS: &[Scope] = &[Details, Navigation, Global];
    pub const MARKS: &[Scope] = &[Marks, Navigation, Global];

    pub const ALL: [&[Scope]; 11] = [
        PROMPT,
        PLAN,
        CONFIRM,
        HELP,
        COMPARE,
        TIME_MACHINE,
        VISUAL,
        CELLS,
        TIMELINE,
        DETAILS,
        MARKS,
    ];
}

/// Keys no config can take: the terminal conventions every program keeps.
pub const RESERVED: [(&str, &str, &str); 2] = [
    (
        "ctrl-c",
        "interrupt",
        "quit at once (in a prompt: cancel it)",
    ),
    ("ctrl-z", "suspend", "suspend to the shell (fg resumes)"),
];

/// The reserved action of a key, whatever the key map says.
pub fn reserved(chord: KeyChord) -> Option<Action> {
    let ctrl = |c| KeyChord::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    if chord == ctrl('c') {
        Some(Action::Interrupt)
    } else if chord == ctrl('z') {
        Some(Action::Suspend)
    } else {
        None
    }
}

/// A key with its modifiers, normalised so `G` and `shift-g` are one chord.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeyChord {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> KeyChord {
        let mods = match code {
            KeyCode::Char(_) | KeyCode::BackTab => mods - KeyModifiers::SHIFT,
            _ => mods,
        };
        KeyChord {
            code,
            mods: mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT),
        }
    }

    pub fn from_event(event: &KeyEvent) -> KeyChord {
        KeyChord::new(event.code, event.modifiers)
    }

    pub fn to_event(self) -> KeyEvent {
        KeyEvent::new(self.code, self.mods)
    }

    /// Parses `j`, `G`, `space`, `ctrl-d`, `alt-x`, `shift-up`, `f5`, `pgdn`, …
    pub fn parse(text: &str) -> Result<KeyChord, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (flag, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            if rest.len() == len {
                break;
            }
            mods |= flag;
            rest = &rest[len..];
        }
        let code = named_code(rest).ok_or_else(|| {
            format!("unknown key {text:?}: use a single character or a name such as space, enter, esc, tab, up, pgdn, f1, with ctrl-/alt-/shift- prefixes")
        })?;
        Ok(KeyChord::new(code, mods))
    }
}

const NAMED: &[(&str, KeyCode)] = &[
    ("space", KeyCode::Char(' ')),
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("del", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
];

const ALIASES: &[(&str, &str)] = &[
    ("return", "enter"),
    ("escape", "esc"),
    ("delete", "del"),
    ("pageup", "pgup"),
    ("pagedown", "pgdn"),
];

fn named_code(text: &str) -> Option<KeyCode> {
    let mut chars = text.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(KeyCode::Char(c));
    }
    let lower = text.to_ascii_lowercase();
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map_or(lower.as_str(), |(_, name)| name);
    if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == name) {
        return Some(*code);
    }
    let n: u8 = name.strip_prefix('f')?.parse().ok()?;
    (1..=24).contains(&n).then_some(KeyCode::F(n))
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (flag, prefix) in [
            (KeyModifiers::CONTROL, "ctrl-"),
            (KeyModifiers::ALT, "alt-"),
            (KeyModifiers::SHIFT, "shift-"),
        ] {
            if self.mods.contains(flag) {
                f.write_str(prefix)?;
            }
        }
        if let Some((name, _)) = NAMED.iter().find(|(_, code)| *code == self.code) {
            return f.write_str(name);
        }
        match self.code {
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Key strings for tests and replays: characters stand for themselves, `<name>` for named
/// keys (`"jj<space>D<enter>"`).
pub fn parse_keys(spec: &str) -> Result<Vec<KeyEvent>, String> {
    let mut keys = Vec::new();
    let mut rest = spec;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
            && end > 1
        {
            keys.push(KeyChord::parse(&rest[1..end])?.to_event());
            rest = &rest[end + 1..];
            continue;
        }
        keys.push(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        rest = &rest[c.len_utf8()..];
    }
    Ok(keys)
}

/// (keys, action name, description) for the help screen.
pub type HelpRow = (String, &'static str, &'static str);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub scope: Scope,
    pub action: Action,
    pub keys: Vec<KeyChord>,
    /// Shown in the hint bar when the scope is active.
    pub hint: bool,
}

type DefaultBinding = (Scope, Action, &'static [&'static str], bool);

const DEFAULTS: &[DefaultBinding] = {
    use Action as A;
    use Scope as S;
    &[
        (S::Global, A::Help, &["?"], true),
        (S::Global, A::Quit, &["q"], true),
        (S::Global, A::FocusNext, &["tab"], false),
        (S::Global, A::FocusPrev, &["backtab"], false),
        (S::Global, A::FocusLeft, &["h", "left"], false),
        (S::Global, A::FocusRight, &["l", "right"], false),
        (S::Global, A::Pin, &["p"], false),
        (S::Global, A::Serve, &["S"], false),
        (S::Global, A::SetBase, &["b"], false),
        (S::Global, A::MarksPane, &["M"], true),
        (S::Global, A::OpenPlan, &["D"], true),
        (S::Global, A::Undo, &["u"], true),
        (S::Global, A::TimeMachine, &["t"], true),
        (S::Global, A::Compare, &["c"], false),
        (S::Global, A::MarkAllButNewest, &["a"], false),
        (S::Global, A::MarkAllButNewestEverywhere, &["A"], false),
        (S::Global, A::MarkByPolicy, &["P"], false),
        (S::Global, A::ClearMarks, &["C"], false),
        (S::Global, A::Reload, &["R"], false),
        (S::Global, A::NextTab, &["]", ">"], false),
        (S::Global, A::PrevTab, &["[", "<"], false),
        (S::Global, A::TabCode, &["1"], false),
        (S::Global, A::TabDiff, &["2"], false),
        (S::Global, A::TabOutputs, &["3"], false),
        (S::Global, A::TabVariables, &["4"], false),
        (S::Global, A::TabConsole, &["5"], false),
        (S::Global, A::TabMeta, &["6"], false),
        (S::Global, A::DiffLayout, &["s"], false),
        (S::Global, A::Wrap, &["W"], false),
        (S::Global, A::ScrollLeft, &["H", "shift-left"], false),
        (S::Global, A::ScrollRight, &["L", "shift-right"], false),
        (S::Global, A::Zoom, &["z"], true),
        (S::Global, A::CopyId, &["y"], false),
        (S::Global, A::OpenExternal, &["o"], false),
        (S::Global, A::Cancel, &["esc"], false),
        (S::Navigation, A::MoveDown, &["j", "down"], false),
        (S::Navigation, A::MoveUp, &["k", "up"], false),
        (S::Navigation, A::PageDown, &["pgdn", "ctrl-d"], false),
        (S::Navigation, A::PageUp, &["pgup", "ctrl-u"], false),
        (S::Navigation, A::Top, &["g", "home"], false),
        (S::Navigation, A::Bottom, &["G", "end"], false),
        (S::Cells, A::Open, &["enter"], true),
        (S::Cells, A::Filter, &["/"], true),
        (S::Timeline, A::ToggleMark, &["space"], true),
        (S::Timeline, A::Visual, &["v"], true),
        (S::Timeline, A::Search, &["/"], true),
        (S::Timeline, A::NextMatch, &["n"], false),
        (S::Timeline, A::PrevMatch, &["N"], false),
        (S::Timeline, A::Open, &["enter"], false),
        (S::Details, A::Open, &["enter"], false),
        (S::Details, A::ScrollLeft, &["H", "shift-left"], false),
        (S::Details, A::ScrollRight, &["L", "shift-right"], false),
        (S::Marks, A::ToggleMark, &["space"], true),
        (S::Marks, A::Open, &["enter"], true),
        (S::Visual, A::ToggleMark, &["space"], true),
        (S::Visual, A::Cancel, &["esc", "v"], true),
        (S::Prompt, A::Submit, &["enter"], true),
        (S::Prompt, A::Cancel, &["esc"], true),
        (S::Prompt, A::DeleteChar, &["backspace"], false),
        (S::Prompt, A::ClearInput, &["ctrl-u"], false),
        (S::Plan, A::Confirm, &["y", "enter"], true),
        (S::Plan, A::Cancel, &["n", "esc"], true),
        (S::Confirm, A::Confirm, &["y", "enter"], true),
        (S::Confirm, A::Cancel, &["n", "esc"], true),
        (S::Help, A::Close, &["?", "esc", "q"], true),
        (S::Compare, A::Close, &["esc", "q", "c"], true),
        (S::TimeMachine, A::Close, &["esc", "q", "t"], true),
        (S::TimeMachine, A::Earlier, &["h", "left", ","], true),
        (S::TimeMachine, A::Later, &["l", "right", "."], true),
        (S::TimeMachine, A::Earliest, &["home"], false),
        (S::TimeMachine, A::Latest, &["end"], false),
    ]
};

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
    lookup: HashMap<(Scope, KeyChord), Action>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        let bindings = DEFAULTS
            .iter()
            .map(|&(scope, action, keys, hint)| Binding {
                scope,
                action,
                keys: keys
                    .iter()
                    .map(|k| KeyChord::parse(k).expect("default keys parse"))
                    .collect(),
                hint,
            })
            .collect();
        Keymap::from_bindings(bindings)
    }
}

/// A user override: `scope` None means every scope the action is bound in by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub scope: Option<Scope>,
    pub action: Action,
    pub keys: Vec<KeyChord>,
}

impl Keymap {
    fn from_bindings(bindings: Vec<Binding>) -> Keymap {
        let mut lookup = HashMap::new();
        for b in &bindings {
            for key in &b.keys {
                lookup.entry((b.scope, *key)).or_insert(b.action);
            }
        }
        Keymap { bindings, lookup }
    }

    /// The defaults with overrides applied; the second value lists conflicts: one key bound
    /// to two actions in one scope (the first binding wins), an action none of whose keys
    /// reaches it because inner scopes take them all, a reserved key (Ctrl-C, Ctrl-Z).
    pub fn with_overrides(overrides: &[Override]) -> (Keymap, Vec<String>) {
        let mut bindings = Keymap::default().bindings;
        for o in overrides {
            let mut found = false;
            for b in bindings.iter_mut().filter(|b| b.action == o.action) {
                if o.scope.is_none_or(|s| s == b.scope) {
                    b.keys = o.keys.clone();
                    found = true;
                }
            }
            if let (false, Some(scope)) = (found, o.scope) {
                bindings.push(Binding {
                    scope,
                    action: o.action,
                    keys: o.keys.clone(),
                    hint: false,
                });
            }
        }
        let mut problems = conflicts(&bindings);
        let keymap = Keymap::from_bindings(bindings);
        problems.extend(keymap.unreachable());
        problems.extend(reserved_keys(&keymap.bindings));
        (keymap, problems)
    }

    /// Actions whose every key is taken by another action in every chain their scope is in
    /// (`quit = "j"`: `j` moves down wherever quit applies).
    fn unreachable(&self) -> Vec<String> {
        let mut out = Vec::new();
        for b in self.bindings.iter().filter(|b| !b.keys.is_empty()) {
            let in_chains: Vec<&[Scope]> = chains::ALL
                .into_iter()
                .filter(|c| c.contains(&b.scope))
                .collect();
            let reachable = in_chains.iter().any(|chain| {
                b.keys
                    .iter()
                    .any(|k| self.resolve(chain, *k) == Some(b.action))
            });
            if in_chains.is_empty() || reachable {
                continue;
            }
            let chain = in_chains[0];
            let taken: Vec<String> = b
                .keys
                .iter()
                .filter_map(|k| Some(format!("{k} ({})", self.resolve(chain, *k)?.name())))
                .collect();
            out.push(format!(
                "{} ({}) cannot be reached: {} already mean something else there",
                b.action.name(),
                b.scope.name(),
                taken.join(", ")
            ));
        }
        out
    }

    /// The action of a key in the first scope of the chain that binds it.
    pub fn resolve(&self, chain: &[Scope], key: KeyChord) -> Option<Action> {
        chain
            .iter()
            .find_map(|scope| self.lookup.get(&(*scope, key)).copied())
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// Keys of an action in the first scope of the chain that binds it, for messages.
    pub fn keys_for(&self, chain: &[Scope], action: Action) -> Option<&[KeyChord]> {
        chain.iter().find_map(|scope| {
            self.bindings
                .iter()
                .find(|b| b.scope == *scope && b.action == action && !b.keys.is_empty())
                .map(|b| b.keys.as_slice())
        })
    }

    /// (keys, description) of the hinted bindings reachable in the chain, innermost first,
    /// without actions shadowed by an inner scope.
    pub fn hints(&self, chain: &[Scope]) -> Vec<(String, &'static str)> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for scope in chain {
            for b in self.bindings.iter().filter(|b| b.scope == *scope) {
                if !b.hint || b.keys.is_empty() || seen.contains(&b.action) {
                    continue;
                }
                seen.push(b.action);
                if let Some(first) = b
                    .keys
                    .iter()
                    .find(|k| self.resolve(chain, **k) == Some(b.action))
                {
                    out.push((first.to_string(), short_label(b.action)));
                }
            }
        }
        out
    }

    /// Help sections: per scope, (keys joined, action name, description); the reserved keys
    /// come first in the global section.
    pub fn help(&self) -> Vec<(Scope, Vec<HelpRow>)> {
        Scope::ALL
            .iter()
            .map(|&scope| {
                let reserved = RESERVED
                    .iter()
                    .filter(|_| scope == Scope::Global)
                    .map(|(key, name, about)| (key.to_string(), *name, *about));
                let rows = reserved
                    .chain(
                        self.bindings
                            .iter()
                            .filter(|b| b.scope == scope && !b.keys.is_empty())
                            .map(|b| {
                                let keys: Vec<String> =
                                    b.keys.iter().map(|k| k.to_string()).collect();
                                (keys.join(" "), b.action.name(), b.action.about())
                            }),
                    )
                    .collect();
                (scope, rows)
            })
            .filter(|(_, rows): &(Scope, Vec<_>)| !rows.is_empty())
            .collect()
    }
}

fn reserved_keys(bindings: &[Binding]) -> Vec<String> {
    let mut out = Vec::new();
    for b in bindings {
        for key in b.keys.iter().filter(|k| reserved(**k).is_some()) {
            out.push(format!(
                "{key} is reserved (it always {}); {} does not get it",
                if reserved(*key) == Some(Action::Interrupt) {
                    "quits"
                } else {
                    "suspends"
                },
                b.action.name()
            ));
        }
    }
    out
}

fn conflicts(bindings: &[Binding]) -> Vec<String> {
    let mut owner: HashMap<(Scope, KeyChord), Action> = HashMap::new();
    let mut out = Vec::new();
    for b in bindings {
        for key in &b.keys {
            match owner.get(&(b.scope, *key)) {
                Some(first) if *first != b.action => out.push(format!(
                    "key {key} in scope {} is bound to both {} and {}; {} wins",
                    b.scope.name(),
                    first.name(),
                    b.action.name(),
                    first.name()
                )),
                Some(_) => {}
                None => {
                    owner.insert((b.scope, *key), b.action);
                }
            }
        }
    }
    out
}

/// Hint-bar words, shorter than the help descriptions.
fn short_label(action: Action) -> &'static str {
    match action {
        Action::Help => "help",
        Action::Quit => "quit",
        Action::MarksPane => "marks",
        Action::OpenPlan => "delete…",
        Action::Undo => "undo",
        Action::TimeMachine => "time machine",
        Action::Open => "open",
        Action::Filter => "filter",
        Action::ToggleMark => "mark",
        Action::Visual => "range",
        Action::Search => "search",
        Action::Submit => "ok",
        Action::Cancel => "cancel",
        Action::Confirm => "yes",
        Action::Close => "close",
        Action::Earlier => "earlier",
        Action::Later => "later",
        other => other.name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> KeyChord {
        KeyChord::parse(text).unwrap()
    }

    #[test]
    fn keys_parse_and_print() {
        for text in [
            "j", "G", "space", "ctrl-d", "alt-x", "shift-up", "f5", "pgdn", "?",
        ] {
            assert_eq!(key(text).to_string(), text);
        }
        assert_eq!(key("PageDown"), key("pgdn"));
        assert_eq!(
            KeyChord::new(KeyCode::Char('G'), KeyModifiers::SHIFT),
            key("G")
        );
        assert!(KeyChord::parse("hyper-x").is_err());
        assert!(KeyChord::parse("").is_err());
        assert_eq!(
            key("ctrl--"),
            KeyChord::new(KeyCode::Char('-'), KeyModifiers::CONTROL)
        );
    }

    #[test]
    fn key_strings_mix_characters_and_names() {
        let keys = parse_keys("j <enter><ctrl-d>").unwrap();
        let chords: Vec<String> = keys
            .iter()
            .map(|k| KeyChord::from_event(k).to_string())
            .collect();
        assert_eq!(chords, ["j", "space", "enter", "ctrl-d"]);
        assert!(parse_keys("<nope>").is_err());
    }

    #[test]
    fn inner_scopes_shadow_outer_ones() {
        let map = Keymap::default();
        let chain = [Scope::Timeline, Scope::Navigation, Scope::Global];
        assert_eq!(map.resolve(&chain, key("space")), Some(Action::ToggleMark));
        assert_eq!(map.resolve(&chain, key("j")), Some(Action::MoveDown));
        assert_eq!(map.resolve(&chain, key("q")), Some(Action::Quit));
        assert_eq!(map.resolve(&[Scope::Plan], key("q")), None);
        let tm = [Scope::TimeMachine, Scope::Navigation];
        assert_eq!(map.resolve(&tm, key("home")), Some(Action::Earliest));
        assert_eq!(map.resolve(&tm, key("g")), Some(Action::Top));
    }

    #[test]
    fn defaults_have_no_conflicts_and_destructive_keys_are_safe() {
        assert!(conflicts(Keymap::default().bindings()).is_empty());
        let map = Keymap::default();
        for b in map.bindings() {
            if matches!(b.action, Action::Confirm | Action::OpenPlan) {
                assert!(!b.keys.contains(&key("ctrl-r")) && !b.keys.contains(&key("alt-enter")));
            }
        }
    }

    #[test]
    fn overrides_replace_keys_and_report_conflicts() {
        let (map, conflicts) = Keymap::with_overrides(&[Override {
            scope: None,
            action: Action::ToggleMark,
            keys: vec![key("x")],
        }]);
        assert!(conflicts.is_empty());
        let chain = [Scope::Timeline, Scope::Navigation, Scope::Global];
        assert_eq!(map.resolve(&chain, key("x")), Some(Action::ToggleMark));
        assert_eq!(
            map.resolve(&chain, key("space")),
            None,
            "no hidden default left"
        );
        let (_, conflicts) = Keymap::with_overrides(&[Override {
            scope: Some(Scope::Global),
            action: Action::Undo,
            keys: vec![key("q")],
        }]);
        assert_eq!(conflicts.len(), 2, "{conflicts:?}");
        assert!(conflicts[0].contains("bound to both quit and undo"));
        assert!(conflicts[1].contains("undo (global) cannot be reached"));
    }

    #[test]
    fn an_action_every_key_of_which_is_shadowed_is_reported() {
        let (map, problems) = Keymap::with_overrides(&[Override {
            scope: None,
            action: Action::Quit,
            keys: vec![key("j")],
        }]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("quit (global) cannot be reached"),
            "{problems:?}"
        );
        assert!(problems[0].contains("j (move-down)"), "{problems:?}");
        assert_eq!(
            map.resolve(chains::TIMELINE, key("j")),
            Some(Action::MoveDown)
        );
        assert!(Keymap::default().unreachable().is_empty());
    }

    #[test]
    fn reserved_keys_cannot_be_bound() {
        let (_, problems) = Keymap::with_overrides(&[Override {
            scope: None,
            action: Action::Pin,
            keys: vec![key("ctrl-c"), key("x")],
        }]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("ctrl-c is reserved"), "{problems:?}");
        assert_eq!(reserved(key("ctrl-c")), Some(Action::Interrupt));
        assert_eq!(reserved(key("ctrl-z")), Some(Action::Suspend));
        assert_eq!(reserved(key("c")), None);
    }

    #[test]
    fn hints_follow_the_chain() {
        let map = Keymap::default();
        let hints = map.hints(&[Scope::Plan]);
        assert_eq!(
            hints,
            [("y".to_string(), "yes"), ("n".to_string(), "cancel")]
        );
    }
}
