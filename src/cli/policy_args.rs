//! The policy flags (clap) and the policy text read through them, so the CLI and the TUI's
//! "mark by policy" prompt share one grammar and one set of error messages.

use clap::builder::NonEmptyStringValueParser;
use clap::{Args, Parser};

use super::value;
use celltime_store::policy::{GroupBy, Policy, PolicyError};
use celltime_store::units::{self, Count, Size, Span};

/// The policy flags of `celltime prune`; the CLI flattens them into its command.
#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyArgs {
    /// Only notebooks whose key matches GLOB (`*`, `?`, `**`); repeatable, ORed
    #[arg(long, value_name = "GLOB", value_parser = NonEmptyStringValueParser::new(), help_heading = "Scope")]
    pub notebook: Vec<String>,
    /// Only cells named NAME; repeatable, ORed
    #[arg(long, value_name = "NAME", value_parser = NonEmptyStringValueParser::new(), help_heading = "Scope")]
    pub cell: Vec<String>,
    /// Groups the keep rules run in [default: notebook,cell]
    #[arg(long, value_name = "notebook,cell|notebook|none", value_parser = value::<GroupBy>, help_heading = "Scope")]
    pub group_by: Option<GroupBy>,

    /// Keep the N newest entries of each group
    #[arg(long, value_name = "N|all", value_parser = value::<Count>, allow_hyphen_values = true, help_heading = "Keep")]
    pub keep_last: Option<Count>,
    /// Keep entries created within DURATION of the group's newest (non-future) entry
    #[arg(long, value_name = "DURATION", value_parser = value::<Span>, allow_hyphen_values = true, help_heading = "Keep")]
    pub keep_within: Option<Span>,
    /// Keep the newest entry of each of the last N days that have entries
    #[arg(long, value_name = "N|all", value_parser = value::<Count>, allow_hyphen_values = true, help_heading = "Keep")]
    pub keep_daily: Option<Count>,
    /// Keep the newest entry of each of the last N ISO weeks (Mon–Sun) that have entries
    #[arg(long, value_name = "N|all", value_parser = value::<Count>, allow_hyphen_values = true, help_heading = "Keep")]
    pub keep_weekly: Option<Count>,
    /// Keep the newest entry of each of the last N months that have entries
    #[arg(long, value_name = "N|all", value_parser = value::<Count>, allow_hyphen_values = true, help_heading = "Keep")]
    pub keep_monthly: Option<Count>,
    /// Keep the newest entry of each of the N most recent versions of each module
    #[arg(long, value_name = "N", value_parser = units::parse_number, allow_hyphen_values = true, help_heading = "Keep")]
    pub keep_versions: Option<u32>,

    /// Remove unprotected entries last used more than DURATION ago
    #[arg(long, value_name = "DURATION", value_parser = value::<Span>, allow_hyphen_values = true, help_heading = "Budget")]
    pub max_age: Option<Span>,
    /// Remove least recently used unprotected entries until contents total at most SIZE
    #[arg(long, value_name = "SIZE", value_parser = value::<Size>, allow_hyphen_values = true, help_heading = "Budget")]
    pub max_size: Option<Size>,
    /// Remove least recently used unprotected entries until at most N remain
    #[arg(long, value_name = "N", value_parser = units::parse_number, allow_hyphen_values = true, help_heading = "Budget")]
    pub max_entries: Option<u32>,

    /// Allow removing the newest entry of a cell; needs --notebook or --cell
    #[arg(long, help_heading = "Scope")]
    pub unsafe_allow_remove_all: bool,
}

/// Policy text is parsed as if it followed `prune` on a command line.
#[derive(Parser)]
#[command(name = "prune", disable_help_flag = true, disable_version_flag = true)]
struct PolicyLine {
    #[command(flatten)]
    args: PolicyArgs,
}

/// The policy the flags describe, checked.
pub fn policy_from_args(args: &PolicyArgs) -> Result<Policy, PolicyError> {
    Policy {
        notebook: args.notebook.clone(),
        cell: args.cell.clone(),
        group_by: args.group_by.unwrap_or_default(),
        keep_last: args.keep_last,
        keep_within: args.keep_within,
        keep_daily: args.keep_daily,
        keep_weekly: args.keep_weekly,
        keep_monthly: args.keep_monthly,
        keep_versions: args.keep_versions,
        max_age: args.max_age,
        max_size: args.max_size,
        max_entries: args.max_entries,
        unsafe_allow_remove_all: args.unsafe_allow_remove_all,
    }
    .normalised()
}

/// Parses `--keep-last 3 --max-size 5GiB`: words split on whitespace, `'…'` and `"…"`
/// quote literally (no escapes) and join adjacent text, as in a shell.
pub fn policy_from_text(text: &str) -> Result<Policy, PolicyError> {
    let words = split_words(text)?;
    let line = PolicyLine::try_parse_from(std::iter::once("prune".to_string()).chain(words))
        .map_err(|e| PolicyError::Usage(clap_message(&e)))?;
    policy_from_args(&line.args)
}

/// clap's first line without its "error: " prefix: the usage block and the "--help" hint
/// belong to a terminal, not to a TUI prompt.
fn clap_message(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let first = rendered.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

fn split_words(text: &str) -> Result<Vec<String>, PolicyError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                let mut closed = false;
                for q in chars.by_ref() {
                    if q == c {
                        closed = true;
                        break;
                    }
                    word.push(q);
                }
                if !closed {
                    return Err(PolicyError::Usage(format!(
                        "unclosed quote {c} in policy text"
                    )));
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[test]
    fn splits_like_a_shell_without_escapes() {
        let words = split_words(r#" --notebook 'my nb/*'  --cell "it's" a''b '' "#).unwrap();
        assert_eq!(words, ["--notebook", "my nb/*", "--cell", "it's", "ab", ""]);
        assert!(split_words("--cell 'open").is_err());
    }
}
