//! What the CLI prints besides data: colour (as ripgrep decides it: `--color`, `NO_COLOR`,
//! `CLICOLOR_FORCE`, `TERM=dumb`, a terminal or not) and progress bars (on stderr, only on a
//! terminal and never with `--quiet`).

use anstream::ColorChoice;
use anstyle::{AnsiColor, Style};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The options every command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct OutputArgs {
    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set or TERM is
    /// dumb; CLICOLOR_FORCE=1 forces it), always, never.
    #[arg(long, value_name = "WHEN", value_enum, global = true, default_value_t = When::Auto)]
    pub color: When,
    /// No progress bars and no notes on stderr; errors still print.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum When {
    #[default]
    Auto,
    Always,
    Never,
}

static QUIET: AtomicBool = AtomicBool::new(false);

impl OutputArgs {
    /// Makes the choices global for this process.
    pub fn apply(&self) {
        let choice = match self.color {
            When::Auto => ColorChoice::Auto,
            When::Always => ColorChoice::Always,
            When::Never => ColorChoice::Never,
        };
        choice.write_global();
        QUIET.store(self.quiet, Ordering::Relaxed);
    }
}

/// Whether stdout gets colour now (anstream's rules over the global choice).
pub fn colour() -> bool {
    !matches!(
        anstream::AutoStream::choice(&std::io::stdout()),
        ColorChoice::Never
    )
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// What a piece of output means; each has one style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Header,
    Id,
    Added,
    Removed,
    Hunk,
    Error,
    Good,
}

impl Paint {
    fn style(self) -> Style {
        match self {
            Paint::Header => Style::new().bold(),
            Paint::Id => AnsiColor::Yellow.on_default(),
            Paint::Added => AnsiColor::Green.on_default(),
            Paint::Removed => AnsiColor::Red.on_default(),
            Paint::Hunk => AnsiColor::Cyan.on_default(),
            Paint::Error => AnsiColor::Red.on_default().bold(),
            Paint::Good => AnsiColor::Green.on_default(),
        }
    }
}

/// `text` in the style of `paint` when stdout gets colour; `text` alone otherwise.
pub fn paint(paint: Paint, text: &str) -> String {
    if colour() && !text.is_empty() {
        let style = paint.style();
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

/// A progress bar on stderr for work of `len` steps, or a hidden one when nobody would see
/// it (stderr is not a terminal, TERM is dumb, `--quiet`).
pub fn progress(len: u64, message: &str) -> ProgressBar {
    if !shows_progress() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(message.to_string());
    // A long single step still shows the bar is alive.
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn shows_progress() -> bool {
    !quiet()
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// A note on stderr (what a command is doing), silent with `--quiet`.
pub fn note(text: &str) {
    if !quiet() {
        eprintln!("celltime: {}", celltime_text::escape_text(text));
    }
}
