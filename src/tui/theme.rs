//! Colours as semantic roles. The default uses only the 16 terminal colours; `NO_COLOR`
//! switches to a monochrome theme that keeps meaning through modifiers alone.

use crate::preview::{AnsiStyle, Role};
use ratatui::style::{Color, Modifier, Style};

macro_rules! roles {
    ($($variant:ident => $name:literal;)*) => {
        /// A meaning something on screen has; the config sets colours per role.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ThemeRole { $($variant,)* }

        impl ThemeRole {
            pub const ALL: &'static [ThemeRole] = &[$(ThemeRole::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(ThemeRole::$variant => $name,)* }
            }
        }
    };
}

roles! {
    Text => "text";
    Title => "title";
    Border => "border";
    BorderFocused => "border-focused";
    Selected => "selected";
    SelectedUnfocused => "selected-unfocused";
    Dim => "dim";
    Separator => "separator";
    Marked => "marked";
    Planned => "planned";
    Pinned => "pinned";
    Match => "match";
    KeepReason => "keep-reason";
    Error => "error";
    Warning => "warning";
    Info => "info";
    HintKey => "hint-key";
    Hint => "hint";
    Tab => "tab";
    TabActive => "tab-active";
    Dialog => "dialog";
    Header => "header";
    Escape => "escape";
    Keyword => "keyword";
    String => "string";
    Comment => "comment";
    Number => "number";
    Function => "function";
    Type => "type";
    Constant => "constant";
    Added => "added";
    Removed => "removed";
    AddedEmph => "added-emph";
    RemovedEmph => "removed-emph";
}

impl ThemeRole {
    pub fn from_name(name: &str) -> Option<ThemeRole> {
        ThemeRole::ALL.iter().copied().find(|r| r.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    styles: Vec<Style>,
    /// False under `NO_COLOR`: content colours (ANSI) are dropped too.
    pub colour: bool,
}

impl Theme {
    pub fn new(colour: bool) -> Theme {
        let styles = ThemeRole::ALL
            .iter()
            .map(|&r| if colour { coloured(r) } else { mono(r) })
            .collect();
        Theme { styles, colour }
    }

    pub fn style(&self, role: ThemeRole) -> Style {
        self.styles[role as usize]
    }

    /// Replaces a role's style (config overrides). Colours are ignored in monochrome.
    pub fn set(&mut self, role: ThemeRole, style: Style) {
        let style = if self.colour {
            style
        } else {
            Style {
                fg: None,
                bg: None,
                ..style
            }
        };
        self.styles[role as usize] = style;
    }

    /// The style of a preview role.
    pub fn preview(&self, role: Role) -> Style {
        let themed = match role {
            Role::Text => ThemeRole::Text,
            Role::Dim => ThemeRole::Dim,
            Role::Header => ThemeRole::Header,
            Role::Escape => ThemeRole::Escape,
            Role::Keyword => ThemeRole::Keyword,
            Role::String => ThemeRole::String,
            Role::Comment => ThemeRole::Comment,
            Role::Number => ThemeRole::Number,
            Role::Function => ThemeRole::Function,
            Role::Type => ThemeRole::Type,
            Role::Constant => ThemeRole::Constant,
            Role::Added => ThemeRole::Added,
            Role::Removed => ThemeRole::Removed,
            Role::AddedEmph => ThemeRole::AddedEmph,
            Role::RemovedEmph => ThemeRole::RemovedEmph,
            Role::Warning => ThemeRole::Warning,
            Role::Error => ThemeRole::Error,
            Role::Ansi(ansi) => return self.ansi(ansi),
        };
        self.style(themed)
    }

    fn ansi(&self, ansi: AnsiStyle) -> Style {
        let mut style = Style::new();
        if self.colour {
            style.fg = ansi.fg.map(Color::Indexed);
            style.bg = ansi.bg.map(Color::Indexed);
        }
        for (on, modifier) in [
            (ansi.bold, Modifier::BOLD),
            (ansi.dim, Modifier::DIM),
            (ansi.italic, Modifier::ITALIC),
            (ansi.underline, Modifier::UNDERLINED),
            (ansi.reverse, Modifier::REVERSED),
        ] {
            if on {
                style = style.add_modifier(modifier);
            }
        }
        style
    }
}

fn coloured(role: ThemeRole) -> Style {
    use ThemeRole::*;
    let s = Style::new();
    match role {
        Text | Info => s,
        Title => s.fg(Color::Cyan).add_modifier(Modifier::BOLD),
        Border | Separator | Dim | Hint => s.fg(Color::DarkGray),
        BorderFocused => s.fg(Color::Cyan),
        Selected => s.add_modifier(Modifier::REVERSED),
        SelectedUnfocused => s.bg(Color::DarkGray),
        Marked => s.fg(Color::Red).add_modifier(Modifier::BOLD),
        Planned => s.fg(Color::Red).add_modifier(Modifier::CROSSED_OUT),
        Pinned => s.fg(Color::Yellow),
        Match => s.fg(Color::Yellow).add_modifier(Modifier::UNDERLINED),
        KeepReason => s.fg(Color::Green),
        Error => s.fg(Color::Red).add_modifier(Modifier::BOLD),
        Warning | Number | Constant => s.fg(Color::Yellow),
        HintKey => s.fg(Color::Cyan).add_modifier(Modifier::BOLD),
        Tab => s.fg(Color::Gray),
        TabActive => s.add_modifier(Modifier::REVERSED | Modifier::BOLD),
        Dialog => s.fg(Color::Yellow),
        Header | Type => s.fg(Color::Cyan),
        Escape | Keyword => s.fg(Color::Magenta),
        String | Added => s.fg(Color::Green),
        Comment => s.fg(Color::DarkGray).add_modifier(Modifier::ITALIC),
        Function => s.fg(Color::Blue),
        Removed => s.fg(Color::Red),
        AddedEmph => s
            .fg(Color::Black)
            .bg(Color::Green)
            .add_modifier(Modifier::BOLD),
        RemovedEmph => s
            .fg(Color::Black)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
    }
}

/// Meaning kept through modifiers only.
fn mono(role: ThemeRole) -> Style {
    use ThemeRole::*;
    let s = Style::new();
    match role {
        Title | BorderFocused | Header | Error | HintKey | Marked => s.add_modifier(Modifier::BOLD),
        Selected | TabActive | AddedEmph | RemovedEmph => s.add_modifier(Modifier::REVERSED),
        SelectedUnfocused | Match => s.add_modifier(Modifier::UNDERLINED),
        Planned => s.add_modifier(Modifier::CROSSED_OUT),
        Dim | Separator | Comment | Border | Hint => s.add_modifier(Modifier::DIM),
        Escape | Warning => s.add_modifier(Modifier::ITALIC),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_theme_uses_only_the_16_colours() {
        let theme = Theme::new(true);
        for &role in ThemeRole::ALL {
            let style = theme.style(role);
            for colour in [style.fg, style.bg].into_iter().flatten() {
                assert!(
                    !matches!(colour, Color::Rgb(..) | Color::Indexed(16..)),
                    "{} uses {colour:?}",
                    role.name()
                );
            }
        }
    }

    #[test]
    fn monochrome_has_no_colours_even_for_ansi_content() {
        let mut theme = Theme::new(false);
        theme.set(ThemeRole::Marked, Style::new().fg(Color::Red));
        let ansi = Role::Ansi(AnsiStyle {
            fg: Some(1),
            bold: true,
            ..AnsiStyle::default()
        });
        assert_eq!(
            theme.preview(ansi),
            Style::new().add_modifier(Modifier::BOLD)
        );
        for &role in ThemeRole::ALL {
            assert_eq!(theme.style(role).fg, None);
            assert_eq!(theme.style(role).bg, None);
        }
    }

    #[test]
    fn role_names_round_trip() {
        for &role in ThemeRole::ALL {
            assert_eq!(ThemeRole::from_name(role.name()), Some(role));
        }
    }
}
