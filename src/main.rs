use clap::Parser;
use llmd::error::Form;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = llmd::cli::Cli::parse();
    init_logging(cli.global.verbose, cli.global.no_color);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(llmd::commands::run(cli)) {
        Ok(code) => code,
        Err(failure) => {
            match failure.form {
                Form::Error => {
                    eprintln!("error: {}", failure.message);
                    if let Some(hint) = &failure.hint {
                        eprintln!("hint: {hint}");
                    }
                }
                Form::Declined => eprintln!("{}", failure.message),
                Form::Quiet(_) => {}
            }
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Logs go to stderr; -v shows info (requests, timings), -vv debug. RUST_LOG overrides.
/// Coloured only when stderr is a terminal, never with --no-color or NO_COLOR (as the data on stdout).
fn init_logging(verbose: u8, no_color: bool) {
    let level = match verbose {
        0 => "warn,kube=off,hyper=off,rustls=off",
        1 => "info,kube=warn,hyper=off,rustls=off",
        _ => "debug,hyper=info,rustls=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| level.into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(!no_color && !no_color_env() && std::io::stderr().is_terminal())
        .init();
}

fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
