use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    celltime::cli::run(celltime::cli::Cli::parse())
}
