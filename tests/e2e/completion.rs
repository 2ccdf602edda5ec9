//! Issue 7: shell completion of `kubectl llmd …`, for real: bash sources the output of the real
//! `kubectl completion bash`, and its completion function `__start_kubectl` is driven the way bash drives it on
//! <TAB> (COMP_WORDS/COMP_CWORD set, the function called, COMPREPLY read). kubectl finds `kubectl-llmd` and the
//! repository's `kubectl_complete-llmd` on PATH and relays what `kubectl-llmd __complete` answers.

use crate::common::manifest_dir;
use crate::fixtures::{cluster, v1_pool_yaml};
use crate::harness::Harness;
use crate::run::{llmd_bin, run, Run};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A PATH directory holding kubectl, kubectl-llmd and the repository's kubectl_complete-llmd (as links).
fn bin_dir(h: &Harness, tmp: &Path) -> PathBuf {
    let dir = tmp.join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(h.kubectl_path(), dir.join("kubectl")).unwrap();
    std::os::unix::fs::symlink(llmd_bin(), dir.join("kubectl-llmd")).unwrap();
    std::os::unix::fs::symlink(manifest_dir().join("kubectl_complete-llmd"), dir.join("kubectl_complete-llmd"))
        .unwrap();
    dir
}

fn env_command(program: &str, h: &Harness, tmp: &Path, kubeconfig: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("PATH", format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir_of(tmp).display()))
        .env("KUBECONFIG", kubeconfig)
        .env("KUBERC", "off")
        .env("KUBECACHEDIR", h.dir.join("kubectl-cache"))
        .env("HOME", tmp.join("home"))
        .env_remove("BASH_ENV")
        .stdin(Stdio::null());
    cmd
}

fn bin_dir_of(tmp: &Path) -> PathBuf {
    tmp.join("bin")
}

/// Runs a bash script with kubectl's completion loaded and `complete_words WORD…` defined: it completes the
/// last word as <TAB> would and prints one COMPREPLY entry per line, after a `== WORDS` header.
fn bash_completion(h: &Harness, tmp: &Path, kubeconfig: &Path, body: &str) -> Run {
    let script = format!(
        r#"
# The bash-completion package when installed; else a stand-in for the one function kubectl's script takes from it.
if [[ -r /usr/share/bash-completion/bash_completion ]]; then
    source /usr/share/bash-completion/bash_completion
fi
if ! declare -F _get_comp_words_by_ref >/dev/null; then
    _get_comp_words_by_ref() {{
        cur=${{COMP_WORDS[COMP_CWORD]}}
        prev=${{COMP_WORDS[COMP_CWORD-1]}}
        words=("${{COMP_WORDS[@]}}")
        cword=$COMP_CWORD
    }}
fi
source <(kubectl completion bash)

complete_words() {{
    COMP_WORDS=("$@")
    COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
    COMP_LINE="$*"
    COMP_POINT=${{#COMP_LINE}}
    COMP_TYPE=9
    COMPREPLY=()
    __start_kubectl kubectl "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}" 2>/dev/null
    echo "== $*"
    (( ${{#COMPREPLY[@]}} )) && printf '%s\n' "${{COMPREPLY[@]}}"
    return 0
}}
{body}
"#
    );
    let mut cmd = env_command("bash", h, tmp, kubeconfig);
    cmd.arg("-c").arg(script);
    run(cmd)
}

/// The candidates printed for the completion whose header is `== words`, sorted (bash sorts them for display),
/// descriptions dropped.
fn section(r: &Run, words: &str) -> Vec<String> {
    let header = format!("== {words}");
    let mut lines = r.stdout.lines().skip_while(|l| *l != header);
    assert!(lines.next().is_some(), "no completion for {words:?}:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    let mut words: Vec<String> = lines
        .take_while(|l| !l.starts_with("== "))
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    words.sort();
    words
}

#[test]
fn bash_completes_subcommands_flags_namespaces_and_pools_through_kubectl() {
    let h = cluster(); // the GAIE v1.0.1 CRDs, with inference.networking.k8s.io/v1 InferencePool
    let ns = h.namespace("completion");
    h.apply_yaml(&v1_pool_yaml(&ns, "qwen-pool", "qwen-pool"));
    h.apply_yaml(&v1_pool_yaml(&ns, "llama-pool", "llama-pool"));
    let tmp = tempfile::tempdir().unwrap();
    bin_dir(h, tmp.path());

    let r = bash_completion(
        h,
        tmp.path(),
        &h.kubeconfig_admin,
        &format!(
            r#"
complete_words kubectl llmd ""
complete_words kubectl llmd po
complete_words kubectl llmd pool ""
complete_words kubectl llmd -n {ns} pool status ""
complete_words kubectl llmd pool status -n {ns} q
complete_words kubectl llmd doctor --fa
complete_words kubectl llmd doctor --fail-on ""
complete_words kubectl llmd -o ""
complete_words kubectl llmd -n ""
complete_words kubectl llmd --namespace {prefix}
"#,
            prefix = &ns[..ns.len() - 3]
        ),
    );
    assert_eq!(r.code, 0, "bash:\n{}\n{}", r.stdout, r.stderr);

    let top = section(&r, "kubectl llmd ");
    for sub in ["doctor", "gateway", "pool", "version", "completion"] {
        assert!(top.contains(&sub.to_string()), "kubectl llmd <TAB> lacks {sub}: {top:?}");
    }
    assert!(!top.iter().any(|w| w.starts_with("__")), "hidden command offered: {top:?}");
    assert_eq!(section(&r, "kubectl llmd po"), ["pool"]);
    assert_eq!(section(&r, "kubectl llmd pool "), ["status"]);
    assert_eq!(section(&r, &format!("kubectl llmd -n {ns} pool status ")), ["llama-pool", "qwen-pool"]);
    assert_eq!(section(&r, &format!("kubectl llmd pool status -n {ns} q")), ["qwen-pool"]);
    assert_eq!(section(&r, "kubectl llmd doctor --fa"), ["--fail-on"]);
    assert_eq!(section(&r, "kubectl llmd doctor --fail-on "), ["error", "info", "never", "warning"]);
    assert_eq!(section(&r, "kubectl llmd -o "), ["dot", "json", "mermaid", "table", "wide", "yaml"]);
    let namespaces = section(&r, "kubectl llmd -n ");
    for n in ["default", "kube-system", ns.as_str()] {
        assert!(namespaces.contains(&n.to_string()), "kubectl llmd -n <TAB> lacks {n}: {namespaces:?}");
    }
    assert_eq!(section(&r, &format!("kubectl llmd --namespace {}", &ns[..ns.len() - 3])), vec![ns]);
}

#[test]
fn kubectl_relays_the_cobra_protocol_and_directive() {
    let h = cluster();
    let ns = h.namespace("completion-protocol");
    h.apply_yaml(&v1_pool_yaml(&ns, "only-pool", "only-pool"));
    let tmp = tempfile::tempdir().unwrap();
    bin_dir(h, tmp.path());

    // What bash's completion function asks kubectl: candidates, then the directive line.
    let mut cmd = env_command("kubectl", h, tmp.path(), &h.kubeconfig_admin);
    cmd.args(["__complete", "llmd", "pool", "status", "-n", &ns, ""]);
    let r = run(cmd);
    r.expect_code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"only-pool"), "{}", r.stdout);
    assert_eq!(lines.get(1), Some(&":4"), "ShellCompDirectiveNoFileComp: {}", r.stdout);

    // The script itself, as kubectl runs it: the words after `kubectl llmd`, the last one being completed.
    let mut cmd = env_command("kubectl_complete-llmd", h, tmp.path(), &h.kubeconfig_admin);
    cmd.args(["doctor", "-f", ""]);
    let r = run(cmd);
    r.expect_code(0);
    assert_eq!(r.stdout, ":0\n", "file names for -f come from the shell (ShellCompDirectiveDefault)");
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn an_unreachable_cluster_completes_nothing_quickly_and_quietly() {
    let h = crate::harness::harness();
    let tmp = tempfile::tempdir().unwrap();
    bin_dir(h, tmp.path());
    // A port nobody listens on, and a server that accepts connections but never answers (the kernel completes
    // the TCP handshake from the listen backlog; nothing ever speaks TLS), which only the timeout ends.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_server = format!("https://{}", silent.local_addr().unwrap());
    for server in ["https://127.0.0.1:1", silent_server.as_str()] {
        let kubeconfig = tmp.path().join("unreachable.kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: \"{server}\"}}}}]\n\
                 users: [{{name: u, user: {{token: t}}}}]\ncontexts: [{{name: x, context: {{cluster: c, user: u}}}}]\n\
                 current-context: x\n"
            ),
        )
        .unwrap();
        for words in [&["pool", "status", ""][..], &["-n", ""]] {
            let mut cmd = env_command("kubectl_complete-llmd", h, tmp.path(), &kubeconfig);
            cmd.args(words);
            let started = Instant::now();
            let r = run(cmd);
            let took = started.elapsed();
            r.expect_code(0);
            assert_eq!(r.stdout, ":4\n", "{server} {words:?}");
            assert!(r.stderr.is_empty(), "{server} {words:?}: {}", r.stderr);
            assert!(took < Duration::from_secs(6), "{server} {words:?} took {took:?}");
            eprintln!("completion: {server} {words:?} answered nothing in {:.2}s", took.as_secs_f64());
        }
    }
}
