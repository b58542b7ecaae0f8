//! `completions` and `man`: generated from the same clap definition that parses the command
//! line, so they never drift from it.

use super::{CliError, CliResult, exit, out};
use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// The shells `completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

impl CompletionShell {
    fn shell(self) -> Shell {
        match self {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
            CompletionShell::Powershell => Shell::PowerShell,
        }
    }
}

/// The completion script for `shell`.
pub fn completion_script(shell: CompletionShell) -> String {
    let mut command = super::Cli::command();
    let mut buffer = Vec::new();
    clap_complete::generate(shell.shell(), &mut command, "celltime", &mut buffer);
    String::from_utf8_lossy(&buffer).into_owned()
}

/// The manual page, in roff (`celltime man | man -l -`).
pub fn man_page() -> Result<String, CliError> {
    let command = super::Cli::command();
    let mut buffer = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut buffer)
        .map_err(|e| CliError::failure(format!("cannot write the manual page: {e}")))?;
    Ok(String::from_utf8_lossy(&buffer).into_owned())
}

pub fn completions(args: CompletionsArgs) -> CliResult {
    out(&completion_script(args.shell))?;
    Ok(exit::OK)
}

pub fn man() -> CliResult {
    out(&man_page()?)?;
    Ok(exit::OK)
}
