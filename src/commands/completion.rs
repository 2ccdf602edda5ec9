//! Shell completion.
//!
//! - `kubectl llmd completion SHELL` prints a static clap_complete script for the `kubectl-llmd` binary.
//! - `kubectl llmd __complete -- WORDS…` (hidden) prints candidates for the words after `kubectl llmd`, in the
//!   protocol kubectl (≥ 1.26) expects from a `kubectl_complete-<plugin>` executable: kubectl runs
//!   `kubectl_complete-llmd arg1 arg2 … cur` (`cur` is "" when a new word starts), reads one candidate per line
//!   (`word` or `word<TAB>description`), and takes a last line `:<n>` as cobra's ShellCompDirective. The
//!   `kubectl_complete-llmd` script at the repository root forwards to this command.
//!
//! Subcommands, flags and enumerated values come from the clap definition; namespace names (after
//! `-n/--namespace`) and InferencePool names (for `pool status`) come from the cluster, with a short timeout and
//! silently nothing on any error; context, cluster and user names come from the kubeconfig.

use crate::cli::{Cli, GlobalFlags};
use crate::error::Result;
use clap::builder::PossibleValue;
use clap::{Arg, CommandFactory};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Print the completion script for `shell` on stdout.
pub fn run(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut cmd = visible_command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kubectl-llmd", &mut buf);
    crate::render::print_stdout(&String::from_utf8_lossy(&buf))?;
    Ok(ExitCode::SUCCESS)
}

/// The command line without hidden subcommands: clap_complete's static scripts list hidden subcommands
/// (`__complete`) otherwise, and clap has no way to remove one, so the root is rebuilt around the visible ones.
fn visible_command() -> clap::Command {
    let root = Cli::command();
    let mut cmd = clap::Command::new("kubectl llmd")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true)
        .args(root.get_arguments().cloned())
        .subcommands(root.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(bin) = root.get_bin_name() {
        cmd = cmd.bin_name(bin.to_string());
    }
    if let Some(about) = root.get_about() {
        cmd = cmd.about(about.clone());
    }
    debug_assert_eq!(cmd.get_name(), root.get_name());
    cmd
}

/// How long a completion may wait for the cluster, in all.
pub const CLUSTER_TIMEOUT: Duration = Duration::from_secs(3);

/// cobra's ShellCompDirective bits (spf13/cobra completions.go).
pub mod directive {
    /// Default: the shell may fall back to file completion when there are no candidates.
    pub const DEFAULT: u32 = 0;
    /// An error occurred; the shell completes nothing.
    pub const ERROR: u32 = 1;
    /// Do not add a space after the completion.
    pub const NO_SPACE: u32 = 2;
    /// Never fall back to file completion.
    pub const NO_FILE_COMP: u32 = 4;
}

/// Something only the cluster or the kubeconfig knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Namespace names (cluster).
    Namespaces,
    /// InferencePool names (inference.networking.k8s.io/v1) in the namespace in effect (cluster).
    Pools,
    /// Context names (kubeconfig).
    Contexts,
    /// Cluster names (kubeconfig).
    Clusters,
    /// User names (kubeconfig).
    Users,
}

/// What to offer for the word being completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The part of the current word candidates must start with (after any `--flag=` or glued `-n`).
    pub prefix: String,
    /// Put in front of every candidate: the `-n` of a value glued to its short flag (`-nkube<TAB>`), or the
    /// names already typed in a `--contexts` list (`a,b,`).
    pub glue: String,
    /// Fixed candidates: (word, description).
    pub words: Vec<(String, String)>,
    /// Names to look up.
    pub lookup: Option<Lookup>,
    /// cobra directive for the answer.
    pub directive: u32,
    /// Connection flags seen on the command line (for lookups).
    pub flags: ConnFlags,
}

/// The connection flags a lookup needs, as typed so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnFlags {
    pub kubeconfig: Option<String>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
    pub all_namespaces: bool,
}

impl ConnFlags {
    fn record(&mut self, arg: &Arg, value: &str) {
        let v = Some(value.to_string());
        match arg.get_id().as_str() {
            "kubeconfig" => self.kubeconfig = v,
            "context" => self.context = v,
            "cluster" => self.cluster = v,
            "user" => self.user = v,
            "namespace" => self.namespace = v,
            _ => {}
        }
    }

    fn global_flags(&self) -> GlobalFlags {
        GlobalFlags {
            kubeconfig: self.kubeconfig.as_ref().map(PathBuf::from),
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            namespace: self.namespace.clone(),
            all_namespaces: self.all_namespaces,
            request_timeout: CLUSTER_TIMEOUT,
            no_color: true,
            ..GlobalFlags::default()
        }
    }
}

/// `kubectl llmd __complete -- WORDS…`: print the candidates and the directive; always exit 0.
pub async fn complete(words: &[String]) -> Result<ExitCode> {
    let plan = plan(words);
    let mut candidates = plan.words.clone();
    if let Some(lookup) = plan.lookup {
        let names = tokio::time::timeout(CLUSTER_TIMEOUT, look_up(lookup, &plan.flags)).await.unwrap_or_default();
        // A name already in a --contexts list is not offered again.
        let listed: Vec<&str> = plan.glue.split(',').collect();
        candidates.extend(
            names
                .into_iter()
                .filter(|n| n.starts_with(&plan.prefix) && !listed.contains(&n.as_str()))
                .map(|n| (n, String::new())),
        );
    }
    if !plan.glue.is_empty() {
        candidates = candidates.into_iter().map(|(w, h)| (format!("{}{w}", plan.glue), h)).collect();
    }
    crate::render::print_stdout(&render(&candidates, plan.directive))?;
    Ok(ExitCode::SUCCESS)
}

/// The protocol text: one candidate per line (`word<TAB>description`), then `:<directive>`.
pub fn render(candidates: &[(String, String)], directive: u32) -> String {
    let mut out = String::new();
    for (word, help) in candidates {
        out.push_str(word);
        if !help.is_empty() {
            out.push('\t');
            out.push_str(help);
        }
        out.push('\n');
    }
    out.push_str(&format!(":{directive}\n"));
    out
}

/// Decide what to complete for `words` (the words after `kubectl llmd`, the last one being completed).
pub fn plan(words: &[String]) -> Plan {
    let mut root = Cli::command();
    root.build(); // propagates the global flags into every subcommand
    let (typed, cur) = match words.split_last() {
        Some((cur, typed)) => (typed, cur.as_str()),
        None => (&[][..], ""),
    };

    let mut cmd = &root;
    let mut path: Vec<String> = Vec::new();
    let mut flags = ConnFlags::default();
    let mut pending: Option<Arg> = None;
    let mut positionals = 0usize;
    let mut after_dashdash = false;

    for w in typed {
        if let Some(arg) = pending.take() {
            flags.record(&arg, w);
            continue;
        }
        if after_dashdash {
            positionals += 1;
            continue;
        }
        if w == "--" {
            after_dashdash = true;
        } else if let Some(long) = w.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            if let Some(arg) = find_long(cmd, name) {
                if arg.get_id() == "all_namespaces" {
                    flags.all_namespaces = true;
                }
                match value {
                    Some(v) => flags.record(arg, v),
                    None if takes_separate_value(arg) => pending = Some(arg.clone()),
                    None => {}
                }
            }
        } else if w.len() > 1 && w.starts_with('-') {
            let shorts: Vec<char> = w[1..].chars().collect();
            for (i, c) in shorts.iter().enumerate() {
                let Some(arg) = find_short(cmd, *c) else { break };
                if arg.get_id() == "all_namespaces" {
                    flags.all_namespaces = true;
                }
                if arg.get_action().takes_values() {
                    let rest: String = shorts[i + 1..].iter().collect();
                    let rest = rest.strip_prefix('=').unwrap_or(&rest);
                    if rest.is_empty() {
                        pending = Some(arg.clone());
                    } else {
                        flags.record(arg, rest);
                    }
                    break;
                }
            }
        } else if positionals == 0 && cmd.has_subcommands() {
            if let Some(sub) = cmd.find_subcommand(w.as_str()) {
                path.push(sub.get_name().to_string());
                cmd = sub;
            } else {
                positionals += 1;
            }
        } else {
            positionals += 1;
        }
    }

    let mut plan = Plan {
        prefix: cur.to_string(),
        glue: String::new(),
        words: Vec::new(),
        lookup: None,
        directive: directive::NO_FILE_COMP,
        flags,
    };

    // The value of a flag typed as the previous word (`-n <TAB>`).
    if let Some(arg) = pending {
        values_of(&arg, &mut plan);
        return filtered(plan);
    }
    if !after_dashdash {
        // `--flag=<TAB>`: bash completes only the part after `=`, so candidates are bare values.
        if let Some((name, value)) = cur.strip_prefix("--").and_then(|l| l.split_once('=')) {
            plan.prefix = value.to_string();
            match find_long(cmd, name) {
                Some(arg) if arg.get_action().takes_values() => values_of(arg, &mut plan),
                _ => {}
            }
            return filtered(plan);
        }
        // `-n<TAB>` is a flag; `-nfoo` is a value glued to a short flag.
        if let Some(shorts) = cur.strip_prefix('-') {
            let mut chars = shorts.chars();
            if let (Some(c), rest) = (chars.next(), chars.as_str()) {
                if c != '-' && !rest.is_empty() {
                    if let Some(arg) = find_short(cmd, c).filter(|a| a.get_action().takes_values()) {
                        plan.glue = format!("-{c}");
                        plan.prefix = match rest.strip_prefix('=') {
                            Some(value) => {
                                plan.glue.push('=');
                                value.to_string()
                            }
                            None => rest.to_string(),
                        };
                        values_of(arg, &mut plan);
                        return filtered(plan);
                    }
                }
            }
            for arg in cmd.get_arguments().filter(|a| !a.is_positional() && !a.is_hide_set()) {
                let help = first_line(arg.get_help().map(|h| h.to_string()).unwrap_or_default());
                if let Some(long) = arg.get_long() {
                    plan.words.push((format!("--{long}"), help.clone()));
                }
                if shorts.is_empty() {
                    if let Some(short) = arg.get_short() {
                        plan.words.push((format!("-{short}"), help));
                    }
                }
            }
            return filtered(plan);
        }
    }

    // A new word: subcommands, enumerated positional values, pool names.
    if positionals == 0 && !after_dashdash {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            let about = first_line(sub.get_about().map(|a| a.to_string()).unwrap_or_default());
            plan.words.push((sub.get_name().to_string(), about));
        }
    }
    if path == ["pool", "status"] && positionals == 0 {
        plan.lookup = Some(Lookup::Pools);
    } else if let Some(arg) = cmd.get_positionals().nth(positionals) {
        values_of(arg, &mut plan);
    }
    filtered(plan)
}

/// Keep the fixed candidates that start with the prefix.
fn filtered(mut plan: Plan) -> Plan {
    let prefix = plan.prefix.clone();
    plan.words.retain(|(w, _)| w.starts_with(&prefix));
    plan
}

/// What values an option or positional takes.
fn values_of(arg: &Arg, plan: &mut Plan) {
    plan.directive = directive::NO_FILE_COMP;
    match arg.get_id().as_str() {
        "namespace" => plan.lookup = Some(Lookup::Namespaces),
        "context" => plan.lookup = Some(Lookup::Contexts),
        // A comma-separated list: complete the name after the last comma, keep what precedes it.
        "contexts" => {
            plan.lookup = Some(Lookup::Contexts);
            if let Some((done, rest)) = plan.prefix.clone().rsplit_once(',') {
                plan.glue.push_str(done);
                plan.glue.push(',');
                plan.prefix = rest.to_string();
            }
            plan.directive = directive::NO_FILE_COMP | directive::NO_SPACE;
        }
        "cluster" => plan.lookup = Some(Lookup::Clusters),
        "user" => plan.lookup = Some(Lookup::Users),
        // Paths: let the shell complete file names.
        "kubeconfig" | "files" => plan.directive = directive::DEFAULT,
        "profile" => {
            plan.words.push(("llm-d-prereq".into(), "the pins of llm-d's gateway prerequisite".into()));
            plan.words.push(("current".into(), "the pins of the current guides".into()));
        }
        _ => {
            for pv in arg.get_possible_values().iter().filter(|pv| !pv.is_hide_set()) {
                plan.words.push((pv.get_name().to_string(), possible_value_help(pv)));
            }
        }
    }
}

fn possible_value_help(pv: &PossibleValue) -> String {
    first_line(pv.get_help().map(|h| h.to_string()).unwrap_or_default())
}

fn first_line(s: String) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// `--name` (or a visible alias) among the arguments of `cmd`.
fn find_long<'a>(cmd: &'a clap::Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| a.get_long_and_visible_aliases().is_some_and(|v| v.contains(&name)))
}

/// `-c` among the arguments of `cmd`.
fn find_short(cmd: &clap::Command, c: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| a.get_short_and_visible_aliases().is_some_and(|v| v.contains(&c)))
}

/// Whether `--flag VALUE` takes the next word (not so for `--fix[=CODES]`, which needs `=`).
fn takes_separate_value(arg: &Arg) -> bool {
    arg.get_action().takes_values() && !arg.is_require_equals_set()
}

/// Names from the cluster or the kubeconfig; empty on any error.
async fn look_up(lookup: Lookup, flags: &ConnFlags) -> Vec<String> {
    let global = flags.global_flags();
    let mut names = match lookup {
        Lookup::Contexts | Lookup::Clusters | Lookup::Users => {
            let Ok(paths) = crate::cluster::client::kubeconfig_paths(&(&global).into()) else { return Vec::new() };
            let Ok(kc) = crate::cluster::client::load_kubeconfig(&paths) else { return Vec::new() };
            match lookup {
                Lookup::Contexts => kc.contexts.into_iter().map(|c| c.name).collect(),
                Lookup::Clusters => kc.clusters.into_iter().map(|c| c.name).collect(),
                _ => kc.auth_infos.into_iter().map(|c| c.name).collect(),
            }
        }
        Lookup::Namespaces => {
            let Ok(conn) = crate::cluster::connect(&(&global).into()).await else { return Vec::new() };
            let api: Api<Namespace> = Api::all(conn.client);
            match api.list_metadata(&ListParams::default()).await {
                Ok(list) => list.items.into_iter().filter_map(|o| o.metadata.name).collect(),
                Err(_) => Vec::new(),
            }
        }
        Lookup::Pools => {
            let Ok(conn) = crate::cluster::connect(&(&global).into()).await else { return Vec::new() };
            let ar = ApiResource {
                group: "inference.networking.k8s.io".into(),
                version: "v1".into(),
                api_version: "inference.networking.k8s.io/v1".into(),
                kind: "InferencePool".into(),
                plural: "inferencepools".into(),
            };
            let api: Api<DynamicObject> = if flags.all_namespaces {
                Api::all_with(conn.client, &ar)
            } else {
                Api::namespaced_with(conn.client, &conn.namespace, &ar)
            };
            match api.list_metadata(&ListParams::default()).await {
                Ok(list) => list.items.into_iter().filter_map(|o| o.metadata.name).collect(),
                Err(_) => Vec::new(),
            }
        }
    };
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(words: &[&str]) -> Plan {
        plan(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>())
    }

    fn names(plan: &Plan) -> Vec<&str> {
        plan.words.iter().map(|(w, _)| w.as_str()).collect()
    }

    #[test]
    fn top_level_offers_the_visible_subcommands() {
        let plan = p(&[""]);
        assert_eq!(names(&plan), ["doctor", "gateway", "pool", "version", "completion"]);
        assert_eq!(plan.directive, directive::NO_FILE_COMP);
        assert_eq!(plan.lookup, None);
        assert!(plan.words[0].1.starts_with("Diagnose"), "{:?}", plan.words[0]);
        assert_eq!(names(&p(&["do"])), ["doctor"]);
        assert_eq!(names(&p(&[])), names(&p(&[""])));
    }

    #[test]
    fn nested_subcommands_and_positional_values() {
        assert_eq!(names(&p(&["gateway", ""])), ["install", "uninstall", "status"]);
        assert_eq!(names(&p(&["pool", ""])), ["status"]);
        assert_eq!(names(&p(&["completion", ""])), ["bash", "elvish", "fish", "powershell", "zsh"]);
        assert_eq!(names(&p(&["completion", "z"])), ["zsh"]);
        assert!(names(&p(&["completion", "bash", ""])).is_empty());
        // Global flags before the subcommand do not get in the way.
        assert_eq!(names(&p(&["-n", "x", "--context", "c", "-A", "gateway", "st"])), ["status"]);
    }

    #[test]
    fn pool_status_looks_up_pools_in_the_namespace_typed() {
        let plan = p(&["pool", "status", ""]);
        assert_eq!(plan.lookup, Some(Lookup::Pools));
        assert!(plan.words.is_empty());
        let plan = p(&["-n", "llm-d", "pool", "--kubeconfig=/k", "status", "qw"]);
        assert_eq!(plan.lookup, Some(Lookup::Pools));
        assert_eq!(plan.prefix, "qw");
        assert_eq!(plan.flags.namespace.as_deref(), Some("llm-d"));
        assert_eq!(plan.flags.kubeconfig.as_deref(), Some("/k"));
        assert!(p(&["pool", "status", "-A", ""]).flags.all_namespaces);
        assert_eq!(p(&["pool", "status", "p1", ""]).lookup, None);
    }

    #[test]
    fn flag_values() {
        let plan = p(&["doctor", "-n", ""]);
        assert_eq!(plan.lookup, Some(Lookup::Namespaces));
        let plan = p(&["--namespace", "kube"]);
        assert_eq!((plan.lookup, plan.prefix.as_str()), (Some(Lookup::Namespaces), "kube"));
        let plan = p(&["--namespace=kube"]);
        assert_eq!((plan.lookup, plan.prefix.as_str()), (Some(Lookup::Namespaces), "kube"));
        assert_eq!(names(&p(&["-o", ""])), ["table", "wide", "json", "yaml", "dot", "mermaid"]);
        assert_eq!(names(&p(&["doctor", "--output=j"])), ["json"]);
        let glued = p(&["doctor", "-oj"]);
        assert_eq!((names(&glued), glued.glue.as_str()), (vec!["json"], "-o"));
        let glued = p(&["-nkube"]);
        assert_eq!(
            (glued.lookup, glued.glue.as_str(), glued.prefix.as_str()),
            (Some(Lookup::Namespaces), "-n", "kube")
        );
        assert_eq!(names(&p(&["doctor", "--fail-on", ""])), ["error", "warning", "info", "never"]);
        assert_eq!(names(&p(&["doctor", "--profile", ""])), ["llm-d-prereq", "current"]);
        assert_eq!(p(&["--context", ""]).lookup, Some(Lookup::Contexts));
        // --contexts takes a comma-separated list: the name after the last comma is completed.
        let list = p(&["doctor", "--contexts", "prod-eu,prod-"]);
        assert_eq!(
            (list.lookup, list.glue.as_str(), list.prefix.as_str()),
            (Some(Lookup::Contexts), "prod-eu,", "prod-")
        );
        assert_eq!(list.directive, directive::NO_FILE_COMP | directive::NO_SPACE);
        let list = p(&["pool", "status", "--contexts=a,"]);
        assert_eq!((list.lookup, list.glue.as_str(), list.prefix.as_str()), (Some(Lookup::Contexts), "a,", ""));
        let first = p(&["doctor", "--contexts", "st"]);
        assert_eq!((first.lookup, first.glue.as_str(), first.prefix.as_str()), (Some(Lookup::Contexts), "", "st"));
        // Paths: file completion by the shell.
        let plan = p(&["doctor", "-f", ""]);
        assert_eq!((plan.directive, plan.words.len()), (directive::DEFAULT, 0));
        assert_eq!(p(&["--kubeconfig", ""]).directive, directive::DEFAULT);
        // --fix takes its value only with `=`: the next word is a new word.
        assert_eq!(p(&["doctor", "--fix", ""]).lookup, None);
    }

    #[test]
    fn flags_of_the_current_command() {
        let all = p(&["doctor", "-"]);
        let n = names(&all);
        for f in ["--fail-on", "--profile", "--filename", "-f", "--namespace", "-n", "--kubeconfig", "--help"] {
            assert!(n.contains(&f), "{f} missing from {n:?}");
        }
        let long = p(&["doctor", "--fa"]);
        assert_eq!(names(&long), ["--fail-on"]);
        assert!(!names(&p(&["version", "--"])).contains(&"--fail-on"));
    }

    #[test]
    fn static_scripts_leave_out_the_hidden_subcommand() {
        for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Zsh, clap_complete::Shell::Fish] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut visible_command(), "kubectl-llmd", &mut buf);
            let text = String::from_utf8(buf).unwrap();
            assert!(!text.contains("__complete"), "{shell}");
            for sub in ["doctor", "gateway", "pool", "version", "completion", "namespace", "fail-on"] {
                assert!(text.contains(sub), "{shell}: {sub}");
            }
        }
    }

    #[test]
    fn protocol_text() {
        let text = render(&[("a".into(), "first".into()), ("b".into(), String::new())], 4);
        assert_eq!(text, "a\tfirst\nb\n:4\n");
        assert_eq!(render(&[], 0), ":0\n");
    }
}
