//! Command-line types. Every kubectl flag is declared here, once.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Install, diagnose and repair the llm-d inference gateway stack.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl llmd",
    bin_name = "kubectl llmd",
    version,
    about = "Install, diagnose and repair the llm-d inference gateway stack",
    long_about = "kubectl llmd takes an llm-d cluster from empty to inference traffic that routes:\n\
                  it installs the Gateway API and Inference Extension CRDs and a gateway control plane,\n\
                  diagnoses every link from Gateway to model-server pods, and repairs what it can.\n\n\
                  Exit codes: 0 success or nothing found, 1 findings at or above --fail-on, 2 could not run\n\
                  (and --fix declined, refused or failed).",
    propagate_version = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's connection and output flags, accepted before or after the subcommand.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Kubectl options")]
pub struct GlobalFlags {
    /// Path to the kubeconfig file to use (else $KUBECONFIG, else ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The name of the kubeconfig cluster to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The name of the kubeconfig user to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Namespace scope (default: the context's namespace, else "default"; doctor: all namespaces).
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// All namespaces.
    #[arg(short = 'A', long, global = true, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Time to wait for one server request ("30s", "1m", "500ms"; a bare number is seconds; 0 = no limit).
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: std::time::Duration,
    /// Never colour the output (colour is used only on a terminal; NO_COLOR is honoured too).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// More detail on stderr (-v: requests and timings, -vv: debug).
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Output formats, as kubectl names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Wide,
    Json,
    Yaml,
    /// Graphviz DOT of the routing picture (`pool status` only).
    Dot,
    /// Mermaid flowchart of the routing picture (`pool status` only).
    Mermaid,
}

impl OutputFormat {
    /// The report format it asks for (-o dot|mermaid never reach a report: `commands::run` refuses
    /// them outside `pool status`; they fall back to the table).
    pub fn report_format(self) -> crate::render::Format {
        use crate::render::Format;
        match self {
            OutputFormat::Table | OutputFormat::Dot | OutputFormat::Mermaid => Format::Table,
            OutputFormat::Wide => Format::Wide,
            OutputFormat::Json => Format::Json,
            OutputFormat::Yaml => Format::Yaml,
        }
    }

    /// A graph of the routing picture rather than a table or a document.
    pub fn is_graph(self) -> bool {
        matches!(self, OutputFormat::Dot | OutputFormat::Mermaid)
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose CRD versions, GatewayClasses and InferencePool routing.
    Doctor(DoctorArgs),
    /// Install, inspect or remove the Gateway API / Inference Extension CRDs and a gateway control plane.
    #[command(subcommand)]
    Gateway(GatewayCommand),
    /// InferencePool routing status.
    #[command(subcommand)]
    Pool(PoolCommand),
    /// Print the plugin version and the server's version.
    Version,
    /// Print a shell completion script.
    Completion(CompletionArgs),
    /// Completion candidates for the words after `kubectl llmd` (called by `kubectl_complete-llmd`).
    #[command(hide = true, name = "__complete", disable_help_flag = true, disable_version_flag = true)]
    Complete(CompleteArgs),
}

/// Severity threshold for a non-zero exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    /// The least severity that fails the run (None: never).
    pub fn threshold(self) -> Option<crate::findings::Severity> {
        use crate::findings::Severity;
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

/// Several kubeconfig contexts at once (`doctor`, `pool status`): see docs/fleet.md.
#[derive(Debug, Clone, Args, Default)]
pub struct FleetFlags {
    /// Run against these kubeconfig contexts (comma-separated), concurrently; one row per context.
    #[arg(long, value_name = "NAMES", value_delimiter = ',', conflicts_with = "all_contexts")]
    pub contexts: Vec<String>,
    /// Run against every context of the (merged) kubeconfig.
    #[arg(long)]
    pub all_contexts: bool,
}

impl FleetFlags {
    /// True when several contexts were asked for.
    pub fn is_fleet(&self) -> bool {
        self.all_contexts || !self.contexts.is_empty()
    }
}

/// `doctor` flags.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub fleet: FleetFlags,
    /// Exit 1 when a finding of this severity or worse is found.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Minimum versions to judge by (llm-d-prereq, current, or GATEWAY_API@GAIE such as v1.5.1@v1.5.0;
    /// `latest` allowed); newer compatible bundles pass. Default llm-d-prereq, where GATEWAY_API_CRD_REVISION
    /// or GATEWAY_API_VERSION, and GATEWAY_API_INFERENCE_EXTENSION_CRD_REVISION, GAIE_VERSION or
    /// GATEWAY_API_INFERENCE_EXTENSION_VERSION override the versions.
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Check manifests offline instead of the cluster (files, directories, - for stdin; repeatable).
    /// Objects without a namespace go to -n, else the kubeconfig context's namespace, else default.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Repair what can be repaired (optionally only these codes, comma-separated).
    #[arg(long, value_name = "CODES", num_args = 0..=1, require_equals = true, default_missing_value = "all")]
    pub fix: Option<String>,
    /// With --fix: apply without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// With --fix: show the plan, validated by server-side dry run, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --fix: install CRD bundles from these YAML files (a file or a directory) instead of downloading them.
    #[arg(long, value_name = "PATH", requires = "fix")]
    pub crds_from: Option<PathBuf>,
    /// With --fix: download CRD bundles from this mirror instead of https://raw.githubusercontent.com and https://github.com.
    #[arg(long, value_name = "URL", env = "LLMD_CRDS_BASE_URL")]
    pub crds_base_url: Option<String>,
    /// With --fix: the gateway control plane to install when no InferencePool-capable GatewayClass exists (LLMD-GWC-001).
    #[arg(long, value_enum, requires = "fix")]
    pub provider: Option<ProviderArg>,
    /// With --fix: helm binary for control-plane repairs (default: helm on PATH).
    #[arg(long, value_name = "PATH", requires = "fix")]
    pub helm: Option<PathBuf>,
    /// With --fix: take each chart from DIR/<chart name> instead of its repository.
    #[arg(long, value_name = "DIR", env = "LLMD_CHART_SOURCE")]
    pub chart_source: Option<PathBuf>,
}

/// `gateway` subcommands.
#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Install the CRDs and a gateway control plane.
    Install(GatewayInstallArgs),
    /// Remove what install added.
    Uninstall(GatewayUninstallArgs),
    /// Installed bundle versions, providers and GatewayClasses.
    Status(GatewayStatusArgs),
}

/// Gateway control planes `gateway install --provider` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    Istio,
    Agentgateway,
    Kgateway,
    Gke,
    #[value(alias = "ngf")]
    NginxGatewayFabric,
    EnvoyAiGateway,
}

impl ProviderArg {
    /// The catalog's provider.
    pub fn id(self) -> crate::catalog::providers::ProviderId {
        use crate::catalog::providers::ProviderId;
        match self {
            ProviderArg::Istio => ProviderId::Istio,
            ProviderArg::Agentgateway => ProviderId::Agentgateway,
            ProviderArg::Kgateway => ProviderId::Kgateway,
            ProviderArg::Gke => ProviderId::Gke,
            ProviderArg::NginxGatewayFabric => ProviderId::NginxGatewayFabric,
            ProviderArg::EnvoyAiGateway => ProviderId::EnvoyAiGateway,
        }
    }
}

/// `gateway install` flags.
#[derive(Debug, Args)]
pub struct GatewayInstallArgs {
    /// Gateway control plane to install through helm (gke: install nothing, check the managed prerequisites).
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// Version profile (llm-d-prereq, current, or GATEWAY_API@GAIE); default llm-d-prereq, where
    /// GATEWAY_API_CRD_REVISION / GATEWAY_API_VERSION and GATEWAY_API_INFERENCE_EXTENSION_CRD_REVISION /
    /// GAIE_VERSION / GATEWAY_API_INFERENCE_EXTENSION_VERSION override the versions (`latest` allowed).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Gateway API CRD version (any git ref of kubernetes-sigs/gateway-api).
    #[arg(long, value_name = "REF")]
    pub gateway_api_version: Option<String>,
    /// Inference Extension CRD version (any git ref of kubernetes-sigs/gateway-api-inference-extension).
    #[arg(long, value_name = "REF")]
    pub inference_extension_version: Option<String>,
    /// Install the CRDs from these YAML files (a file or a directory) instead of downloading them.
    #[arg(long, value_name = "PATH")]
    pub crds_from: Option<PathBuf>,
    /// Download the CRDs from this mirror instead of https://raw.githubusercontent.com and https://github.com.
    #[arg(long, value_name = "URL", env = "LLMD_CRDS_BASE_URL")]
    pub crds_base_url: Option<String>,
    /// Install only the CRDs.
    #[arg(long, conflicts_with = "control_plane_only")]
    pub crds_only: bool,
    /// Install only the control plane (needs --provider).
    #[arg(long, requires = "provider")]
    pub control_plane_only: bool,
    /// Show the plan, validated by server-side dry run, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Upgrade an existing control plane (otherwise it is left as found).
    #[arg(long)]
    pub upgrade: bool,
    /// Control plane version (default: the profile's).
    #[arg(long, value_name = "VERSION")]
    pub provider_version: Option<String>,
    /// helm binary (default: helm on PATH).
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
    /// Take each chart from DIR/<chart name> (and each values file from DIR/<file name>) instead of
    /// its repository (mirrors, air-gapped clusters).
    #[arg(long, value_name = "DIR", env = "LLMD_CHART_SOURCE")]
    pub chart_source: Option<PathBuf>,
    /// Print the helm commands and do nothing.
    #[arg(long)]
    pub print: bool,
    /// How long to wait for CRDs, the controller and its GatewayClass.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
}

/// `gateway uninstall` flags.
#[derive(Debug, Args)]
pub struct GatewayUninstallArgs {
    /// Control plane to remove (default: every one installed through helm with the catalog's release names).
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// Remove only the CRDs.
    #[arg(long, conflicts_with = "control_plane_only")]
    pub crds_only: bool,
    /// Remove only the control plane.
    #[arg(long)]
    pub control_plane_only: bool,
    /// Delete CRDs even when custom resources still exist (they are deleted with them).
    #[arg(long)]
    pub force: bool,
    /// Show what would be removed and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// helm binary (default: helm on PATH).
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
}

/// `gateway status` flags.
#[derive(Debug, Args)]
pub struct GatewayStatusArgs {
    /// helm binary used to list releases (default: helm on PATH; skipped when absent).
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
}

/// `pool` subcommands.
#[derive(Debug, Subcommand)]
pub enum PoolCommand {
    /// The routing picture of every InferencePool (or of NAME) and the first broken link.
    Status(PoolStatusArgs),
}

/// `pool status` flags.
#[derive(Debug, Args)]
pub struct PoolStatusArgs {
    #[command(flatten)]
    pub fleet: FleetFlags,
    /// Show only this InferencePool (shown as a tree).
    pub name: Option<String>,
    /// Show the chain GatewayClass → Gateway → HTTPRoute → InferencePool → endpoint picker → pods.
    #[arg(long)]
    pub tree: bool,
    /// Redraw whenever an object in the chain changes, until interrupted.
    #[arg(long, short = 'w')]
    pub watch: bool,
    /// Version profile the underlying checks use (see doctor --profile).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
}

/// `completion` flags.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// Shell to generate the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `__complete` arguments: kubectl's plugin-completion protocol (see `commands::completion`).
#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The words after `kubectl llmd`; the last is the word being completed ("" for a new word).
    /// Pass them after `--` so that none is taken for a flag of this command.
    #[arg(num_args = 0.., allow_hyphen_values = true, trailing_var_arg = true)]
    pub words: Vec<String>,
}

/// Parse "30s", "1m30s", "500ms", "2h" or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    let mut total = std::time::Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("invalid duration {s:?}: expected a number such as 30s, 1m or 500ms"));
        }
        let value: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid duration {s:?}: expected a number such as 30s, 1m or 500ms"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            other => return Err(format!("invalid duration {s:?}: unknown unit {other:?} (use ms, s, m or h)")),
        };
        total += std::time::Duration::from_secs_f64(value * factor);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

impl From<&GlobalFlags> for crate::cluster::client::Settings {
    /// The connection settings of the global flags (the library never sees clap's types).
    fn from(g: &GlobalFlags) -> Self {
        crate::cluster::client::Settings {
            kubeconfig: g.kubeconfig.clone(),
            context: g.context.clone(),
            cluster: g.cluster.clone(),
            user: g.user.clone(),
            namespace: g.namespace.clone(),
            request_timeout: g.request_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_parse_like_kubectl() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
