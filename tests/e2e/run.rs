//! Running the real kubectl-llmd binary (directly or through kubectl) and reading what it printed.

pub use crate::harness::llmd_bin;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What one run printed, and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    fn from(out: Output, elapsed: Duration) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed,
        }
    }

    /// Parse stdout as JSON, panicking with both streams when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    /// Assert the exit code, showing both streams when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

/// A command for kubectl-llmd with a clean environment: no KUBECONFIG, HOME pointing nowhere useful, no colour.
pub fn llmd_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(llmd_bin());
    cmd.args(args)
        .env_remove("KUBECONFIG")
        .env_remove("GATEWAY_API_CRD_REVISION")
        .env_remove("GATEWAY_API_INFERENCE_EXTENSION_CRD_REVISION")
        .env_remove("GATEWAY_API_VERSION")
        .env_remove("GAIE_VERSION")
        .env_remove("GATEWAY_API_INFERENCE_EXTENSION_VERSION")
        .env("HOME", std::env::temp_dir().join("llmd-e2e-no-home"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// Run kubectl-llmd with args.
pub fn llmd(args: &[&str]) -> Run {
    run(llmd_command(args))
}

/// Run kubectl-llmd with args and a given KUBECONFIG value.
pub fn llmd_with_kubeconfig_env(args: &[&str], kubeconfig: &str) -> Run {
    let mut cmd = llmd_command(args);
    cmd.env("KUBECONFIG", kubeconfig);
    run(cmd)
}

/// Run any prepared command, timing it. A kubectl-llmd run (direct or as `kubectl llmd`) must not
/// print any credential or Secret data the suite knows of (`secrets.rs`).
pub fn run(mut cmd: Command) -> Run {
    let start = Instant::now();
    let out = cmd.output().expect("spawn");
    let r = Run::from(out, start.elapsed());
    let is_llmd = Path::new(cmd.get_program()) == llmd_bin() || cmd.get_args().next().is_some_and(|a| a == "llmd");
    if is_llmd {
        let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        crate::secrets::assert_not_printed(&format!("kubectl-llmd {}", args.join(" ")), &r.stdout, &r.stderr);
    }
    r
}

/// A directory holding only a `kubectl-llmd` link, for PATH-based plugin discovery.
pub fn plugin_path_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("llmd-e2e-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("kubectl-llmd");
    if !link.exists() {
        std::os::unix::fs::symlink(llmd_bin(), &link).unwrap();
    }
    dir
}

/// PATH with `dir` first.
pub fn path_with(dir: &Path) -> String {
    let old = std::env::var("PATH").unwrap_or_default();
    format!("{}:{old}", dir.display())
}
