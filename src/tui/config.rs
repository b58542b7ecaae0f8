//! The TUI's config file: key overrides by action name, theme colours by role, mouse on/off.
//!
//! ```toml
//! mouse = false
//! wrap = false                # long lines scroll sideways instead (W switches)
//! [keys]                      # every scope the action is bound in
//! toggle-mark = ["space", "x"]
//! [keys.timeline]             # one scope
//! pin = "P"
//! [theme]
//! marked = "lightred"
//! selected = { fg = "black", bg = "yellow", bold = true }
//! ```

use super::action::Action;
use super::keymap::{KeyChord, Override, Scope};
use super::theme::ThemeRole;
use ratatui::style::{Color, Modifier, Style};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use toml_edit::{Document, Item, Table, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub overrides: Vec<Override>,
    pub theme: Vec<(ThemeRole, Style)>,
    pub mouse: bool,
    /// Wrap long prose lines at start.
    pub wrap: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            overrides: Vec::new(),
            theme: Vec::new(),
            mouse: true,
            wrap: true,
        }
    }
}

/// A config problem: `path:line: message`.
pub type ConfigError = celltime_store::Located;

/// `$CELLTIME_CONFIG`, else `$XDG_CONFIG_HOME/celltime/config.toml`, else
/// `~/.config/celltime/config.toml`.
pub fn default_path(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(path) = set("CELLTIME_CONFIG") {
        return Some(PathBuf::from(path));
    }
    let base = set("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(base.join("celltime").join("config.toml"))
}

/// Reads a config file; a missing file means the defaults.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(ConfigError {
            path: path.to_path_buf(),
            line: None,
            message: format!("cannot read the config: {e}"),
        }),
    }
}

pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let fail = |span: Option<std::ops::Range<usize>>, message: String| ConfigError {
        path: path.to_path_buf(),
        line: span.map(|s| celltime_store::store::line_of(text, s.start)),
        message,
    };
    let doc = Document::parse(text).map_err(|e| fail(e.span(), e.message().to_string()))?;
    let mut config = Config::default();
    let Some(root) = doc.as_item().as_table() else {
        return Ok(config);
    };
    for (name, item) in root.iter() {
        match name {
            "mouse" => {
                config.mouse = item
                    .as_bool()
                    .ok_or_else(|| fail(item.span(), "mouse must be true or false".into()))?;
            }
            "wrap" => {
                config.wrap = item
                    .as_bool()
                    .ok_or_else(|| fail(item.span(), "wrap must be true or false".into()))?;
            }
            "keys" => {
                let table = as_table(item)
                    .ok_or_else(|| fail(item.span(), "[keys] must be a table".into()))?;
                parse_keys(table, None, &mut config.overrides).map_err(|(s, m)| fail(s, m))?;
            }
            "theme" => {
                let table = as_table(item)
                    .ok_or_else(|| fail(item.span(), "[theme] must be a table".into()))?;
                for (role, value) in table.iter() {
                    let role_id = ThemeRole::from_name(role).ok_or_else(|| {
                        fail(
                            value.span(),
                            format!("unknown theme role {role:?}; roles: {}", role_names()),
                        )
                    })?;
                    let style = parse_style(value).map_err(|m| fail(value.span(), m))?;
                    config.theme.push((role_id, style));
                }
            }
            other => {
                return Err(fail(
                    item.span(),
                    format!("unknown setting {other:?}: expected mouse, wrap, [keys] or [theme]"),
                ));
            }
        }
    }
    Ok(config)
}

type Located = (Option<std::ops::Range<usize>>, String);

fn as_table(item: &Item) -> Option<Table> {
    match item {
        Item::Table(t) => Some(t.clone()),
        Item::Value(Value::InlineTable(t)) => Some(t.clone().into_table()),
        _ => None,
    }
}

fn parse_keys(table: Table, scope: Option<Scope>, out: &mut Vec<Override>) -> Result<(), Located> {
    for (name, item) in table.iter() {
        if scope.is_none()
            && let Some(inner) = Scope::from_name(name)
            && let Some(t) = as_table(item)
        {
            parse_keys(t, Some(inner), out)?;
            continue;
        }
        let action = Action::from_name(name).ok_or_else(|| {
            (
                item.span(),
                format!("unknown action {name:?} (the help screen, ?, lists every action name)"),
            )
        })?;
        let keys = key_list(item).map_err(|m| (item.span(), m))?;
        out.push(Override {
            scope,
            action,
            keys,
        });
    }
    Ok(())
}

fn key_list(item: &Item) -> Result<Vec<KeyChord>, String> {
    let texts: Vec<&str> = match item.as_value() {
        Some(Value::String(s)) => vec![s.value().as_str()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().ok_or("keys must be strings"))
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(
                "expected a key such as \"x\" or a list such as [\"x\", \"ctrl-x\"]".into(),
            );
        }
    };
    texts.into_iter().map(KeyChord::parse).collect()
}

fn parse_style(item: &Item) -> Result<Style, String> {
    if let Some(text) = item.as_str() {
        return Ok(Style::new().fg(colour(text)?));
    }
    let table = as_table(item)
        .ok_or("expected a colour or a table such as { fg = \"red\", bold = true }")?;
    let mut style = Style::new();
    for (key, value) in table.iter() {
        let flag = |m: Modifier| -> Result<Modifier, String> {
            match value.as_bool() {
                Some(true) => Ok(m),
                Some(false) => Ok(Modifier::empty()),
                None => Err(format!("{key} must be true or false")),
            }
        };
        match key {
            "fg" => style = style.fg(colour(value.as_str().ok_or("fg must be a colour name")?)?),
            "bg" => style = style.bg(colour(value.as_str().ok_or("bg must be a colour name")?)?),
            "bold" => style = style.add_modifier(flag(Modifier::BOLD)?),
            "dim" => style = style.add_modifier(flag(Modifier::DIM)?),
            "italic" => style = style.add_modifier(flag(Modifier::ITALIC)?),
            "underline" => style = style.add_modifier(flag(Modifier::UNDERLINED)?),
            "reverse" => style = style.add_modifier(flag(Modifier::REVERSED)?),
            "strike" => style = style.add_modifier(flag(Modifier::CROSSED_OUT)?),
            other => {
                return Err(format!(
                    "unknown style key {other:?}: use fg, bg, bold, dim, italic, underline, reverse, strike"
                ));
            }
        }
    }
    Ok(style)
}

fn colour(text: &str) -> Result<Color, String> {
    Color::from_str(text).map_err(|_| {
        format!("unknown colour {text:?}: use a name (red, lightblue, darkgray, …), a number 0-255 or #rrggbb")
    })
}

fn role_names() -> String {
    let names: Vec<&str> = ThemeRole::ALL.iter().map(|r| r.name()).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Config {
        parse(text, Path::new("/c/config.toml")).unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse(text, Path::new("/c/config.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_keys_theme_and_mouse() {
        let config = parse_ok(
            r#"
mouse = false
wrap = false
[keys]
toggle-mark = ["space", "x"]
[keys.timeline]
pin = "P"
[theme]
marked = "lightred"
selected = { fg = "black", bg = "yellow", bold = true }
"#,
        );
        assert!(!config.mouse);
        assert!(!config.wrap);
        assert_eq!(config.overrides.len(), 2);
        assert_eq!(config.overrides[0].action, Action::ToggleMark);
        assert_eq!(config.overrides[0].keys.len(), 2);
        assert_eq!(config.overrides[1].scope, Some(Scope::Timeline));
        assert_eq!(
            config.theme[0],
            (ThemeRole::Marked, Style::new().fg(Color::LightRed))
        );
        assert_eq!(
            config.theme[1].1,
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        assert_eq!(
            parse_err("mouse = true\n[keys]\nfly = \"x\"\n"),
            "/c/config.toml:3: unknown action \"fly\" (the help screen, ?, lists every action name)"
        );
        assert!(
            parse_err("[theme]\nmarked = \"octarine\"\n")
                .starts_with("/c/config.toml:2: unknown colour")
        );
        assert!(
            parse_err("[keys]\nquit = \"hyper-q\"\n").starts_with("/c/config.toml:2: unknown key")
        );
        assert!(parse_err("mouse = \n").starts_with("/c/config.toml:1:"));
        assert!(parse_err("colour = 1\n").contains("unknown setting"));
    }

    #[test]
    fn path_comes_from_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            default_path(env(&[
                ("CELLTIME_CONFIG", "/x.toml"),
                ("XDG_CONFIG_HOME", "/xdg")
            ])),
            Some(PathBuf::from("/x.toml"))
        );
        assert_eq!(
            default_path(env(&[("XDG_CONFIG_HOME", "/xdg")])),
            Some(PathBuf::from("/xdg/celltime/config.toml"))
        );
        assert_eq!(
            default_path(env(&[("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.config/celltime/config.toml"))
        );
        assert_eq!(default_path(env(&[])), None);
    }

    #[test]
    fn a_missing_file_means_defaults() {
        assert_eq!(
            load(Path::new("/nonexistent/celltime.toml")).unwrap(),
            Config::default()
        );
    }
}
