//! One module per subcommand. Each returns `Result<ExitCode>`; only `main` exits.

pub mod completion;
pub mod doctor;
pub mod fix;
pub mod gateway;
pub mod pool;
pub mod version;

use crate::cli::{Cli, Command};
use crate::error::{Failure, Result};
use std::process::ExitCode;

/// Run the parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let graph_ok = matches!(cli.command, Command::Pool(_) | Command::Complete(_) | Command::Completion(_));
    if cli.global.output.is_graph() && !graph_ok {
        return Err(Failure::with_hint(
            "-o dot and -o mermaid draw the routing picture: only `pool status` has them",
            "kubectl llmd pool status -o dot (or -o mermaid); other commands take -o table|wide|json|yaml",
        ));
    }
    match cli.command {
        Command::Version => version::run(&cli.global).await,
        Command::Completion(args) => completion::run(args.shell),
        Command::Complete(args) => completion::complete(&args.words).await,
        Command::Doctor(args) => doctor::run(&cli.global, &args).await,
        Command::Gateway(cmd) => gateway::run(&cli.global, cmd).await,
        Command::Pool(crate::cli::PoolCommand::Status(args)) => pool::run(&cli.global, &args).await,
    }
}
