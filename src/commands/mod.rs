//! One module per subcommand. Each returns `Result<ExitCode>`; only `main` exits.

pub mod completion;
pub mod doctor;
pub mod gateway;
pub mod pool;
pub mod version;

use crate::cli::{Cli, Command};
use crate::error::Result;
use std::process::ExitCode;

/// Run the parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Version => version::run(&cli.global).await,
        Command::Completion(args) => completion::run(args.shell),
        Command::Complete(args) => completion::complete(&args.words).await,
        Command::Doctor(args) => doctor::run(&cli.global, &args).await,
        Command::Gateway(cmd) => gateway::run(&cli.global, cmd).await,
        Command::Pool(crate::cli::PoolCommand::Status(args)) => pool::run(&cli.global, &args).await,
    }
}
