//! `kubectl llmd version`: the plugin's version and the server's.

use crate::cli::{GlobalFlags, OutputFormat};
use crate::cluster::connect;
use crate::error::Result;
use crate::render::{print_stdout, to_json, to_yaml};
use serde::Serialize;
use std::process::ExitCode;

/// The plugin's own version, as "v0.1.0".
pub fn plugin_version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionReport {
    plugin_version: String,
    server_version: ServerVersion,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServerVersion {
    git_version: String,
    major: String,
    minor: String,
    platform: String,
    server: String,
    context: String,
}

/// Print both versions; exit 2 (via Err) when the server cannot be asked.
pub async fn run(flags: &GlobalFlags) -> Result<ExitCode> {
    let conn = connect(&flags.into()).await?;
    let human = matches!(flags.output, OutputFormat::Table | OutputFormat::Wide);
    if human {
        // Like kubectl: the local half is known even when the server is not.
        print_stdout(&format!("Plugin Version: {}\n", plugin_version()))?;
    }
    let info = conn.client.apiserver_version().await.map_err(|e| conn.explain("cannot get the server version", &e))?;
    let report = VersionReport {
        plugin_version: plugin_version(),
        server_version: ServerVersion {
            git_version: info.git_version.clone(),
            major: info.major.clone(),
            minor: info.minor.clone(),
            platform: info.platform.clone(),
            server: conn.server.clone(),
            context: conn.context.clone(),
        },
    };
    match flags.output {
        // (-o dot|mermaid never reach here: commands::run refuses them outside `pool status`.)
        OutputFormat::Table | OutputFormat::Wide | OutputFormat::Dot | OutputFormat::Mermaid => {
            print_stdout(&format!("Server Version: {} ({})\n", report.server_version.git_version, conn.server))?
        }
        OutputFormat::Json => print_stdout(&to_json(&report))?,
        OutputFormat::Yaml => print_stdout(&to_yaml(&report))?,
    }
    Ok(ExitCode::SUCCESS)
}
