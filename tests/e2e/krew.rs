//! Issue 7: the krew manifest and the release archive, verified with the real krew and validate-krew-manifest
//! (`go install sigs.k8s.io/krew/cmd/…@v0.4.3`, the only v0.4.x the module proxy serves), offline.
//!
//! The archive is made by `scripts/release.sh --binary <the test build>`: the script a release runs, with the
//! already-built debug binary instead of a release build, so the archive layout and the manifest are a
//! release's. krew installs it with `--manifest … --archive …` (no download, no index update); `kubectl
//! krew uninstall` needs a local index, so the test adds one cloned with git from a local directory holding
//! `krew-index/plugins/llmd.yaml`, which also proves that entry loads as an index entry.

use crate::common::{manifest_dir, tools_dir};
use crate::harness::{assert_success, harness};
use crate::run::{llmd_bin, run, Run};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

/// The krew release the tests use.
pub const KREW_VERSION: &str = "v0.4.3";
const PLATFORMS: [&str; 5] = ["linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64"];
const PLACEHOLDER_SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Paths of `krew` and `validate-krew-manifest`, installed with `go install` on first use.
pub struct KrewTools {
    pub krew: PathBuf,
    pub validate: PathBuf,
}

/// Installs the tools once per process. Concurrent test processes do not race: each installs into its own
/// directory and renames the binaries into place (an atomic replace of identical files).
pub fn krew_tools() -> &'static KrewTools {
    static TOOLS: OnceLock<KrewTools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let dir = tools_dir();
        let tools = KrewTools { krew: dir.join("krew"), validate: dir.join("validate-krew-manifest") };
        if tools.krew.is_file() && tools.validate.is_file() {
            return tools;
        }
        let started = Instant::now();
        let staging = dir.join(format!(".install-{}", std::process::id()));
        std::fs::create_dir_all(&staging).unwrap();
        let out = Command::new("go")
            .args([
                "install",
                &format!("sigs.k8s.io/krew/cmd/krew@{KREW_VERSION}"),
                &format!("sigs.k8s.io/krew/cmd/validate-krew-manifest@{KREW_VERSION}"),
            ])
            .env("GOBIN", &staging)
            .env("GOFLAGS", "-mod=mod")
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .output()
            .expect("go is required for the end-to-end tests");
        assert_success(
            &out,
            &format!("go install sigs.k8s.io/krew/cmd/{{krew,validate-krew-manifest}}@{KREW_VERSION}"),
        );
        for name in ["krew", "validate-krew-manifest"] {
            std::fs::rename(staging.join(name), dir.join(name)).unwrap();
        }
        let _ = std::fs::remove_dir_all(&staging);
        eprintln!(
            "krew: installed krew and validate-krew-manifest {KREW_VERSION} in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        tools
    })
}

/// This machine's platform as krew names it (`linux_amd64`, …).
fn local_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{os}_{arch}")
}

fn archive_name(platform: &str) -> String {
    format!("kubectl-llmd_v{}_{platform}.tar.gz", version())
}

/// `validate-krew-manifest -skip-install` on a copy named `llmd.yaml` (the tool takes the plugin name from the
/// file name). Installing every platform would download the release archives, which is not possible offline;
/// the install of this platform's archive is exercised with krew itself below.
fn validate(manifest: &Path) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("llmd.yaml");
    std::fs::copy(manifest, &copy).unwrap();
    let mut cmd = Command::new(&krew_tools().validate);
    cmd.arg("-manifest").arg(&copy).arg("-skip-install").stdin(Stdio::null());
    run(cmd)
}

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    assert_success(&out, "sha256sum");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

/// platform → sha256, read from a rendered manifest (each `uri:` line is followed by its `sha256:` line).
fn checksums(manifest: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = manifest.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(uri) = line.strip_prefix("uri: ") else { continue };
        let platform = PLATFORMS
            .iter()
            .find(|p| uri.ends_with(&format!("_{p}.tar.gz")))
            .unwrap_or_else(|| panic!("uri of no known platform: {uri}"));
        let sha = lines[i + 1].strip_prefix("sha256: ").unwrap_or_else(|| panic!("no sha256 after {uri}"));
        out.push((platform.to_string(), sha.trim_matches('"').to_string()));
    }
    out
}

/// The template rendered as scripts/release.sh renders it, with the given checksums.
fn render_template(sums: &[(String, String)]) -> String {
    let mut text =
        std::fs::read_to_string(manifest_dir().join("plugin.yaml.tmpl")).unwrap().replace("{{VERSION}}", version());
    for (platform, sha) in sums {
        text = text.replace(&format!("{{{{SHA256_{platform}}}}}"), sha);
    }
    text
}

/// The manifest without its leading comment lines.
fn body(manifest: &str) -> String {
    manifest.lines().skip_while(|l| l.starts_with('#')).collect::<Vec<_>>().join("\n")
}

fn krew_command(kubectl: &Path, krew_root: &Path, path: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(kubectl);
    cmd.args(args)
        .env("PATH", path)
        .env("KREW_ROOT", krew_root)
        .env("KREW_NO_UPGRADE_CHECK", "1")
        .env("HOME", krew_root.parent().unwrap().join("home"))
        .env("KUBERC", "off")
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null());
    cmd
}

#[test]
fn release_archive_installs_with_krew_and_runs_through_kubectl() {
    let h = harness();
    let tools = krew_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (dist, out) = (tmp.path().join("dist"), tmp.path().join("out"));

    // The release script, packaging the test build.
    let mut release = Command::new("bash");
    release
        .arg(manifest_dir().join("scripts/release.sh"))
        .arg("--binary")
        .arg(llmd_bin())
        .arg("--dist")
        .arg(&dist)
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::null());
    let r = run(release);
    r.expect_code(0);

    let platform = local_platform();
    let archive = dist.join(archive_name(&platform));
    assert!(archive.is_file(), "no {}: {}", archive.display(), r.stderr);
    eprintln!("krew: archive {} is {} bytes", archive.display(), std::fs::metadata(&archive).unwrap().len());
    let listing = Command::new("tar").arg("tzf").arg(&archive).output().unwrap();
    assert_success(&listing, "tar tzf");
    let mut entries: Vec<String> = String::from_utf8_lossy(&listing.stdout).lines().map(str::to_owned).collect();
    entries.sort();
    assert_eq!(entries, ["LICENSE", "kubectl-llmd", "kubectl_complete-llmd"], "archive root");

    // Checksum file, manifest and index entry agree with the archive.
    let sha = sha256_hex(&archive);
    let sum_file = std::fs::read_to_string(dist.join(format!("{}.sha256", archive_name(&platform)))).unwrap();
    assert_eq!(sum_file, format!("{sha}  {}\n", archive_name(&platform)));
    let manifest = out.join("plugin.yaml");
    let index_entry = out.join("krew-index/plugins/llmd.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert_eq!(text, std::fs::read_to_string(&index_entry).unwrap(), "plugin.yaml and the index entry differ");
    for (p, s) in checksums(&text) {
        let expected = if p == platform { sha.as_str() } else { PLACEHOLDER_SHA };
        assert_eq!(s, expected, "sha256 of {p}");
    }
    let others: Vec<&str> = PLATFORMS.iter().copied().filter(|p| *p != platform).collect();
    assert!(text.starts_with("# Rendered by scripts/release.sh"), "{text}");
    assert!(text.lines().take(4).any(|l| l.contains(&others.join(" "))), "the comment names the placeholders: {text}");
    assert!(text.contains(&format!("version: v{}", version())), "{text}");

    // validate-krew-manifest accepts both files.
    for m in [&manifest, &index_entry] {
        let v = validate(m);
        assert_eq!(v.code, 0, "validate-krew-manifest {}:\n{}{}", m.display(), v.stdout, v.stderr);
        assert!(v.stderr.contains("structural validation OK"), "{}", v.stderr);
    }

    // kubectl krew install --manifest --archive into a fresh KREW_ROOT, offline.
    let krew_root = tmp.path().join("krew");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(&tools.krew, bin.join("kubectl-krew")).unwrap();
    // Only krew's bin directory provides kubectl-llmd; git (for the index) comes from the system.
    let path = format!("{}:{}:/usr/local/bin:/usr/bin:/bin", krew_root.join("bin").display(), bin.display());
    let kubectl = h.kubectl_path();
    let krew = |args: &[&str]| run(krew_command(&kubectl, &krew_root, &path, args));

    let manifest_flag = format!("--manifest={}", manifest.display());
    let archive_flag = format!("--archive={}", archive.display());
    let started = Instant::now();
    let install = krew(&["krew", "install", &manifest_flag, &archive_flag]);
    assert_eq!(install.code, 0, "kubectl krew install:\n{}{}", install.stdout, install.stderr);
    assert!(install.stderr.contains("Installed plugin: llmd"), "{}", install.stderr);
    eprintln!("krew: kubectl krew install took {:.2}s", started.elapsed().as_secs_f64());
    let store = krew_root.join(format!("store/llmd/v{}", version()));
    for f in ["kubectl-llmd", "LICENSE", "kubectl_complete-llmd"] {
        assert!(store.join(f).is_file(), "{} not installed", store.join(f).display());
    }
    let link = krew_root.join("bin/kubectl-llmd");
    assert_eq!(std::fs::read_link(&link).unwrap(), store.join("kubectl-llmd"));

    let list = krew(&["plugin", "list"]);
    assert!(list.stdout.contains(&link.display().to_string()), "kubectl plugin list:\n{}{}", list.stdout, list.stderr);

    // The plugin through real kubectl.
    let admin = h.kubeconfig_admin.to_str().unwrap();
    let v = krew(&["llmd", "version", "--kubeconfig", admin]);
    assert_eq!(v.code, 0, "kubectl llmd version:\n{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains(&format!("Plugin Version: v{}", version())), "{}", v.stdout);
    assert!(v.stdout.contains("Server Version: v1.36.3"), "{}", v.stdout);

    // A local index (a git clone of a directory laid out like krew-index) for the commands that need one.
    let index_src = tmp.path().join("index-src");
    std::fs::create_dir_all(index_src.join("plugins")).unwrap();
    std::fs::copy(&index_entry, index_src.join("plugins/llmd.yaml")).unwrap();
    for args in [
        &["init", "-q"][..],
        &["add", "plugins/llmd.yaml"],
        &["-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid", "commit", "-q", "-m", "index"],
    ] {
        let out = Command::new("git").args(args).current_dir(&index_src).output().expect("git");
        assert_success(&out, &format!("git {args:?}"));
    }
    let add = krew(&["krew", "index", "add", "default", index_src.to_str().unwrap()]);
    assert_eq!(add.code, 0, "kubectl krew index add:\n{}{}", add.stdout, add.stderr);
    let info = krew(&["krew", "info", "llmd"]);
    assert_eq!(info.code, 0, "kubectl krew info:\n{}{}", info.stdout, info.stderr);
    assert!(info.stdout.contains(&format!("VERSION: v{}", version())), "{}", info.stdout);
    assert!(info.stdout.contains(&format!("SHA256: {sha}")), "{}", info.stdout);
    let installed = krew(&["krew", "list"]);
    assert!(installed.stdout.contains("llmd"), "kubectl krew list: {}", installed.stdout);

    // Uninstall removes the plugin.
    let un = krew(&["krew", "uninstall", "llmd"]);
    assert_eq!(un.code, 0, "kubectl krew uninstall:\n{}{}", un.stdout, un.stderr);
    assert!(un.stderr.contains("Uninstalled plugin: llmd"), "{}", un.stderr);
    assert!(std::fs::symlink_metadata(&link).is_err(), "{} still there", link.display());
    assert!(!krew_root.join("store/llmd").exists(), "store/llmd still there");
    let gone = krew(&["llmd", "version", "--kubeconfig", admin]);
    assert_ne!(gone.code, 0, "kubectl llmd still runs after uninstall: {}", gone.stdout);
}

/// The committed plugin.yaml and krew-index/plugins/llmd.yaml: valid, identical, this version, and what the
/// template renders with their checksums (so they are not stale against plugin.yaml.tmpl).
#[test]
fn committed_manifests_are_valid_and_current() {
    let plugin = manifest_dir().join("plugin.yaml");
    let entry = manifest_dir().join("krew-index/plugins/llmd.yaml");
    let text = std::fs::read_to_string(&plugin).unwrap();
    assert_eq!(text, std::fs::read_to_string(&entry).unwrap(), "plugin.yaml and krew-index/plugins/llmd.yaml differ");
    for m in [&plugin, &entry] {
        let v = validate(m);
        assert_eq!(v.code, 0, "validate-krew-manifest {}:\n{}{}", m.display(), v.stdout, v.stderr);
    }
    let sums = checksums(&text);
    let platforms: Vec<&str> = sums.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(platforms, PLATFORMS);
    for (p, s) in &sums {
        assert!(s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{p}: {s}");
        assert!(
            text.contains(&format!(
                "https://github.com/llm-d-incubation/kubectl-llmd/releases/download/v{v}/kubectl-llmd_v{v}_{p}.tar.gz",
                v = version()
            )),
            "uri of {p}"
        );
    }
    assert_eq!(body(&text), body(&render_template(&sums)), "plugin.yaml is stale: run scripts/release.sh");
    let placeholders: Vec<&str> = sums.iter().filter(|(_, s)| s == PLACEHOLDER_SHA).map(|(p, _)| p.as_str()).collect();
    if !placeholders.is_empty() {
        assert!(text.lines().take(4).any(|l| l.contains(&placeholders.join(" "))), "placeholders not named:\n{text}");
    }
}
