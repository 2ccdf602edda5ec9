//! Shared end-to-end test harness: one real kube-apiserver v1.36.3 (embedded etcd, built from
//! `tests/kubeharness`) per test process, plus the real `kubectl` v1.36.3 from the same module graph.
//!
//! `harness()` builds both binaries on first use (`tests/kubeharness/build.sh`, cached by a stamp;
//! a cold build takes ~10 minutes on 2 cores), starts the harness once and keeps it for the life of
//! the test process. The harness exits on its own when this process exits, because it watches its
//! stdin, whose write end lives in the static below.
//!
//! Isolation: tests share the cluster, so each test works in its own namespace (`namespace()`), and
//! nothing waits for deletion (no controllers run: namespaces stay Terminating, Deployments get no
//! status, pods never run; write status yourself with `apply_status`). The ClusterRole aggregation
//! controller does run, so the built-in `view`/`edit`/`admin` roles are populated.
//!
//! Environment:
//! - `KUBEHARNESS_BIN_DIR`: use prebuilt `kubeharness` and `kubectl` from this directory, no build.
//! - `KUBEHARNESS_KEEP_DIR=1`: keep the state directory (kubeconfigs, certs, logs) after the run.
//! - `KUBEHARNESS_VERBOSE=N`: kube-apiserver log verbosity (logs go to `<dir>/apiserver.log`).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long the harness may take from spawn to its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(240);
const READY_PREFIX: &str = "KUBEHARNESS_READY ";
const TAIL_LINES: usize = 80;

/// A running kube-apiserver with three users (see `tests/kubeharness/main.go`).
pub struct Harness {
    /// `https://127.0.0.1:PORT`
    pub server: String,
    /// CA certificate (PEM) that signed the serving and client certificates.
    pub ca: PathBuf,
    /// State directory of the harness (kubeconfigs, certs, logs).
    pub dir: PathBuf,
    /// Client certificate with O=system:masters; context `harness-admin`, namespace `default`.
    pub kubeconfig_admin: PathBuf,
    /// Client certificate for user `viewer`, bound to ClusterRole `view` in `viewer_namespace` only;
    /// context `harness-viewer` with that namespace preselected.
    pub kubeconfig_viewer: PathBuf,
    /// Bearer token for user `nogrants`: authenticated, no RBAC bindings; context `harness-nogrants`.
    pub kubeconfig_nogrants: PathBuf,
    /// `viewer-ns`
    pub viewer_namespace: String,
    /// gitVersion reported by the server (`v1.36.3`).
    pub version: String,
    bin_dir: PathBuf,
    log_file: PathBuf,
    // Never read: holding the pipe open keeps the harness alive until this process exits.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

static HARNESS: OnceLock<Result<Harness, String>> = OnceLock::new();
/// The kubeconfig of every user of every instance started by this process (their credentials must
/// never be printed: `tests/e2e/secrets.rs`).
static KUBECONFIGS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The kubeconfigs written by every harness instance started so far (admin, viewer, no-grants each).
pub fn started_kubeconfigs() -> Vec<PathBuf> {
    KUBECONFIGS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}
static NAMESPACE_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The shared harness, built and started on first use (once per test process).
pub fn harness() -> &'static Harness {
    match HARNESS.get_or_init(start) {
        Ok(h) => h,
        Err(e) => panic!("kubeharness unavailable: {e}"),
    }
}

static LAB: OnceLock<Result<Mutex<Harness>, String>> = OnceLock::new();

/// A second harness for tests that change cluster-scoped state (CRDs, GatewayClasses, webhooks):
/// the caller holds it exclusively and must leave it as it found it (no CRDs, no classes).
pub fn lab() -> std::sync::MutexGuard<'static, Harness> {
    match LAB.get_or_init(|| start().map(Mutex::new)) {
        Ok(m) => m.lock().unwrap_or_else(|e| e.into_inner()),
        Err(e) => panic!("kubeharness (lab) unavailable: {e}"),
    }
}

/// The product binary under test.
pub fn llmd_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl-llmd"))
}

impl Harness {
    /// The real kubectl v1.36.3 built from the harness module.
    pub fn kubectl_path(&self) -> PathBuf {
        self.bin_dir.join("kubectl")
    }

    /// Path of the file receiving the harness's stderr and late stdout.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// Creates a fresh namespace `prefix-<n>-<random>` (as admin) and returns its name.
    pub fn namespace(&self, prefix: &str) -> String {
        let n = NAMESPACE_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut prefix: String =
            prefix.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        prefix.truncate(40);
        let prefix = prefix.trim_matches('-');
        let prefix = if prefix.is_empty() { "e2e" } else { prefix };
        let name = format!("{prefix}-{n}-{}", random_suffix());
        let out = self.kubectl(&["create", "namespace", &name]);
        assert_success(&out, &format!("kubectl create namespace {name}"));
        name
    }

    /// Runs kubectl with the admin kubeconfig (via `KUBECONFIG`, so plugin dispatch works too).
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_as(&self.kubeconfig_admin, args)
    }

    /// Runs kubectl with the admin kubeconfig, feeding `stdin`.
    pub fn kubectl_stdin(&self, args: &[&str], stdin: &str) -> Output {
        self.kubectl_as_stdin(&self.kubeconfig_admin, args, stdin)
    }

    /// Runs kubectl with the given kubeconfig.
    pub fn kubectl_as(&self, kubeconfig: &Path, args: &[&str]) -> Output {
        self.kubectl_command(kubeconfig, args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.kubectl_path().display()))
    }

    /// Runs kubectl with the given kubeconfig, feeding `stdin`.
    pub fn kubectl_as_stdin(&self, kubeconfig: &Path, args: &[&str], stdin: &str) -> Output {
        let mut cmd = self.kubectl_command(kubeconfig, args);
        run_with_stdin(&mut cmd, stdin)
    }

    /// A kubectl command with a hermetic environment: `KUBECONFIG` set, no user kuberc,
    /// discovery/HTTP cache inside the harness state directory.
    pub fn kubectl_command(&self, kubeconfig: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.kubectl_path());
        cmd.args(args)
            .env("KUBECONFIG", kubeconfig)
            .env("KUBERC", "off")
            .env("KUBECACHEDIR", self.dir.join("kubectl-cache"));
        cmd
    }

    /// `kubectl apply --server-side --force-conflicts -f -` as admin; panics with stderr on failure.
    pub fn apply_yaml(&self, yaml: &str) {
        let out = self.kubectl_stdin(&["apply", "--server-side", "--force-conflicts", "-f", "-"], yaml);
        assert_success(&out, "kubectl apply --server-side");
    }

    /// Writes `.status` through the status subresource (what a controller would do):
    /// `kubectl apply --server-side --subresource=status --force-conflicts
    /// --field-manager=e2e-status -f -`. The YAML needs apiVersion, kind, metadata.name
    /// (and namespace) and status; the object must exist. Panics with stderr on failure.
    pub fn apply_status(&self, yaml: &str) {
        let out = self.kubectl_stdin(
            &[
                "apply",
                "--server-side",
                "--subresource=status",
                "--force-conflicts",
                "--field-manager=e2e-status",
                "-f",
                "-",
            ],
            yaml,
        );
        assert_success(&out, "kubectl apply --server-side --subresource=status");
    }
}

/// Panics with the command's stdout/stderr unless it succeeded.
pub fn assert_success(out: &Output, what: &str) {
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs `cmd` with `stdin` written from a separate thread (no pipe deadlock on large input).
pub fn run_with_stdin(cmd: &mut Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_owned();
    let writer = thread::spawn(move || {
        // A child that exits early closes the pipe; its exit status tells the story.
        let _ = pipe.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("waiting for {cmd:?}: {e}"));
    let _ = writer.join();
    out
}

fn random_suffix() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.write_u32(std::process::id());
    let mut v = h.finish();
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|_| {
            let c = alphabet[(v % 36) as usize] as char;
            v /= 36;
            c
        })
        .collect()
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `$CARGO_TARGET_DIR/kubeharness` (relative paths taken from the package root) or `target/kubeharness`.
fn default_bin_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if !t.is_empty() => {
            let t = PathBuf::from(t);
            if t.is_absolute() {
                t
            } else {
                manifest_dir().join(t)
            }
        }
        _ => manifest_dir().join("target"),
    };
    target.join("kubeharness")
}

fn build() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("KUBEHARNESS_BIN_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        for bin in ["kubeharness", "kubectl"] {
            if !dir.join(bin).is_file() {
                return Err(format!("KUBEHARNESS_BIN_DIR={} has no {bin}", dir.display()));
            }
        }
        return Ok(dir);
    }
    let dir = default_bin_dir();
    let script = manifest_dir().join("tests/kubeharness/build.sh");
    // build.sh reports progress on stderr; let it through (a cold build takes minutes).
    let status = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    if !status.success() {
        return Err(format!("{} {} failed: {status}", script.display(), dir.display()));
    }
    Ok(dir)
}

type Tail = Arc<Mutex<VecDeque<String>>>;

fn push_tail(tail: &Tail, line: String) {
    let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
    if t.len() == TAIL_LINES {
        t.pop_front();
    }
    t.push_back(line);
}

fn file_tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Build (if needed) and start a new harness instance; it stops when dropped or when this process exits.
pub fn start() -> Result<Harness, String> {
    let bin_dir = build()?;

    let state = tempfile::Builder::new()
        .prefix("kubeharness-")
        .tempdir()
        .map_err(|e| format!("creating state dir: {e}"))?
        .keep();
    let keep = std::env::var_os("KUBEHARNESS_KEEP_DIR").is_some_and(|v| !v.is_empty() && v != "0");
    let log_file = state.join("harness-output.log");
    let log =
        Arc::new(Mutex::new(File::create(&log_file).map_err(|e| format!("creating {}: {e}", log_file.display()))?));

    let mut cmd = Command::new(bin_dir.join("kubeharness"));
    cmd.arg("--dir").arg(&state).arg("--exit-on-stdin-eof=true");
    if !keep {
        cmd.arg("--remove-dir");
    }
    if let Some(v) = std::env::var_os("KUBEHARNESS_VERBOSE") {
        cmd.arg(format!("--v={}", v.to_string_lossy()));
    }
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning {}: {e}", bin_dir.join("kubeharness").display()))?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");

    // stderr: into the log file, keeping a tail for error messages.
    let tail: Tail = Arc::new(Mutex::new(VecDeque::new()));
    {
        let (tail, log) = (tail.clone(), log.clone());
        thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut buf = Vec::new();
            while matches!(r.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
                let _ = log.lock().unwrap_or_else(|e| e.into_inner()).write_all(&buf);
                push_tail(&tail, String::from_utf8_lossy(&buf).trim_end().to_owned());
                buf.clear();
            }
        });
    }
    // stdout: find the ready line, then keep draining into the log file.
    let (tx, rx) = mpsc::channel::<String>();
    {
        let log = log.clone();
        thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            let mut tx = Some(tx);
            loop {
                line.clear();
                match r.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if let Some(json) = line.trim_end().strip_prefix(READY_PREFIX) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(json.to_owned());
                        continue;
                    }
                }
                let _ = log.lock().unwrap_or_else(|e| e.into_inner()).write_all(line.as_bytes());
            }
            // Drain anything else (invalid UTF-8 ends read_line).
            let mut rest = Vec::new();
            let _ = r.read_to_end(&mut rest);
            let _ = log.lock().unwrap_or_else(|e| e.into_inner()).write_all(&rest);
        });
    }

    let fail = |child: &mut Child, why: String| -> String {
        let _ = child.kill();
        let _ = child.wait();
        thread::sleep(Duration::from_millis(200)); // let the stderr thread catch up
        let tail = tail.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect::<Vec<_>>().join("\n");
        format!(
            "{why}\n--- kubeharness stderr (tail) ---\n{tail}\n--- {dir}/apiserver.log (tail) ---\n{api}\n--- {dir}/etcd.log (tail) ---\n{etcd}",
            dir = state.display(),
            api = file_tail(&state.join("apiserver.log"), 40),
            etcd = file_tail(&state.join("etcd.log"), 20),
        )
    };

    let json = loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(json) => break json,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(fail(&mut child, format!("kubeharness exited before ready ({status})")));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(fail(&mut child, format!("kubeharness exited before ready ({status})")));
                }
                if started.elapsed() > READY_TIMEOUT {
                    return Err(fail(&mut child, format!("kubeharness not ready after {READY_TIMEOUT:?}")));
                }
            }
        }
    };

    let v: serde_json::Value = match serde_json::from_str(&json) {
        Ok(v) => v,
        Err(e) => return Err(fail(&mut child, format!("bad ready line {json:?}: {e}"))),
    };
    let s = |ptr: &str| v.pointer(ptr).and_then(|x| x.as_str()).map(str::to_owned);
    let fields = (
        s("/server"),
        s("/ca"),
        s("/dir"),
        s("/kubeconfig/admin"),
        s("/kubeconfig/viewer"),
        s("/kubeconfig/nogrants"),
        s("/viewer_namespace"),
        s("/version"),
    );
    let (Some(server), Some(ca), Some(dir), Some(admin), Some(viewer), Some(nogrants), Some(viewer_ns), Some(version)) =
        fields
    else {
        return Err(fail(&mut child, format!("ready line lacks fields: {json}")));
    };
    eprintln!("kubeharness: {server} ({version}) ready in {:.1}s, state in {dir}", started.elapsed().as_secs_f64());
    KUBECONFIGS.lock().unwrap_or_else(|e| e.into_inner()).extend([&admin, &viewer, &nogrants].map(PathBuf::from));
    Ok(Harness {
        server,
        ca: ca.into(),
        dir: dir.into(),
        kubeconfig_admin: admin.into(),
        kubeconfig_viewer: viewer.into(),
        kubeconfig_nogrants: nogrants.into(),
        viewer_namespace: viewer_ns,
        version,
        bin_dir,
        log_file,
        _stdin: Mutex::new(stdin),
        _child: Mutex::new(child),
    })
}

// Self-tests of the harness fixtures (run as part of the e2e test binary).
#[cfg(test)]
mod selftest {
    use super::*;

    #[test]
    fn harness_users_and_status_subresource() {
        let h = harness();

        // viewer: can read in its namespace, nowhere else.
        let out = h.kubectl_as(&h.kubeconfig_viewer, &["get", "configmaps"]);
        assert_success(&out, "viewer: kubectl get configmaps (in viewer-ns)");
        let out = h.kubectl_as(&h.kubeconfig_viewer, &["get", "configmaps", "-n", "default"]);
        assert!(!out.status.success(), "viewer must not list configmaps in default");
        assert!(String::from_utf8_lossy(&out.stderr).contains("Forbidden"), "{out:?}");

        // nogrants: authenticated, but nothing else.
        let out =
            h.kubectl_as(&h.kubeconfig_nogrants, &["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
        assert_success(&out, "nogrants: kubectl auth whoami");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "nogrants");
        let out = h.kubectl_as(&h.kubeconfig_nogrants, &["get", "namespaces"]);
        assert!(!out.status.success(), "nogrants must not list namespaces");

        // Namespaces are unique; status can be written like a controller would.
        let ns = h.namespace("Harness_Selftest");
        assert!(ns.starts_with("harness-selftest-"), "{ns}");
        assert_ne!(ns, h.namespace("harness-selftest"));
        h.apply_yaml(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {ns}}}\n\
             spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    \
             metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c, image: example/web:1}}]}}\n"
        ));
        h.apply_status(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {ns}}}\n\
             status:\n  observedGeneration: 1\n  replicas: 2\n  readyReplicas: 2\n  availableReplicas: 2\n"
        ));
        let out = h.kubectl(&["get", "deployment", "web", "-n", &ns, "-o", "jsonpath={.status.readyReplicas}"]);
        assert_success(&out, "kubectl get deployment");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "2");
    }
}
