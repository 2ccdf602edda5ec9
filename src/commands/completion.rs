//! `kubectl llmd completion SHELL`.

use crate::cli::Cli;
use crate::error::Result;
use clap::CommandFactory;
use std::process::ExitCode;

/// Print the completion script for `shell` on stdout.
pub fn run(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kubectl-llmd", &mut buf);
    crate::render::print_stdout(&String::from_utf8_lossy(&buf));
    Ok(ExitCode::SUCCESS)
}
