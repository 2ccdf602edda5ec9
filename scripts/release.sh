#!/usr/bin/env bash
# Build the release archive krew installs, its sha256, and the krew manifest rendered from plugin.yaml.tmpl.
#
# Usage: scripts/release.sh [--version X] [--target TRIPLE] [--binary PATH] [--dist DIR] [--out DIR]
#                           [--no-render | --render-only]
#
#   (no options)     cargo build --release for this machine, then
#                      dist/kubectl-llmd_v<version>_<os>_<arch>.tar.gz   kubectl-llmd, kubectl_complete-llmd and
#                                                                     LICENSE at the archive root (.exe on windows)
#                      dist/kubectl-llmd_v<version>_<os>_<arch>.tar.gz.sha256
#                    and renders plugin.yaml and krew-index/plugins/llmd.yaml (the entry submitted to krew-index).
#   --version X      the version to release (v optional); it must be Cargo.toml's (default).
#   --target TRIPLE  cross-build for a Rust target (cargo build --release --target TRIPLE); os/arch follow it.
#   --binary PATH    package this already-built binary instead of building (the test suite uses the debug binary
#                    to stay fast; the archive layout and the manifest are those of a release).
#   --dist DIR       where archives go (default: dist).
#   --out DIR        where plugin.yaml and krew-index/plugins/llmd.yaml are written (default: the repository).
#   --no-render      build and package only (one job of the release workflow's matrix).
#   --render-only    render the manifest from the archives already in --dist (the workflow's last job).
#
# Checksums: each platform's sha256 is that of its archive in --dist. A platform whose archive is not there (a
# local run builds only this machine's) gets the placeholder 0000…0000 (64 zeros: well-formed, so the manifest
# validates, but no archive has it, so krew refuses to install that platform rather than install a wrong file).
# The rendered file then starts with a comment naming those platforms. .github/workflows/release.yml builds every
# platform and renders the manifest with all real checksums: that is the file to submit to krew-index.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PLATFORMS=(linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64)
PLACEHOLDER_SHA="0000000000000000000000000000000000000000000000000000000000000000"

die() { echo "release: $*" >&2; exit 2; }
note() { echo "release: $*" >&2; }

version="" target="" binary="" dist="" out="" mode="all"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --version) version="${2:?--version needs a value}"; shift 2 ;;
    --version=*) version="${1#*=}"; shift ;;
    --target) target="${2:?--target needs a value}"; shift 2 ;;
    --target=*) target="${1#*=}"; shift ;;
    --binary) binary="${2:?--binary needs a value}"; shift 2 ;;
    --binary=*) binary="${1#*=}"; shift ;;
    --dist) dist="${2:?--dist needs a value}"; shift 2 ;;
    --dist=*) dist="${1#*=}"; shift ;;
    --out) out="${2:?--out needs a value}"; shift 2 ;;
    --out=*) out="${1#*=}"; shift ;;
    --no-render) mode="package"; shift ;;
    --render-only) mode="render"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

cargo_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n1)"
[[ -n "$cargo_version" ]] || die "cannot read the version from $ROOT/Cargo.toml"
version="${version#v}"
version="${version:-$cargo_version}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "version $version is not semver (X.Y.Z)"
if [[ "$mode" != "render" && "$version" != "$cargo_version" ]]; then
  die "version v$version differs from Cargo.toml's $cargo_version: the binary would report another version"
fi

dist="${dist:-$ROOT/dist}"
out="${out:-$ROOT}"
mkdir -p "$dist"
dist="$(cd "$dist" && pwd)"

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

archive_name() { echo "kubectl-llmd_v${version}_$1.tar.gz"; }

# <os>_<arch> of a Rust target triple, as krew names them.
platform_of() {
  local triple="$1" os arch
  case "$triple" in
    x86_64-*) arch=amd64 ;;
    aarch64-*|arm64-*) arch=arm64 ;;
    *) die "unsupported target architecture: $triple" ;;
  esac
  case "$triple" in
    *-linux-*) os=linux ;;
    *-apple-darwin) os=darwin ;;
    *-windows-*) os=windows ;;
    *) die "unsupported target OS: $triple" ;;
  esac
  echo "${os}_${arch}"
}

package() {
  local triple="${target:-$(rustc -vV | sed -n 's/^host: //p')}"
  [[ -n "$triple" ]] || die "cannot tell the host target (rustc -vV)"
  local platform exe="kubectl-llmd"
  platform="$(platform_of "$triple")"
  [[ "$platform" == windows_* ]] && exe="kubectl-llmd.exe"

  if [[ -z "$binary" ]]; then
    local started=$SECONDS
    if [[ -n "$target" ]]; then
      (cd "$ROOT" && cargo build --release --locked --target "$target")
      binary="${CARGO_TARGET_DIR:-$ROOT/target}/$target/release/$exe"
    else
      (cd "$ROOT" && cargo build --release --locked)
      binary="${CARGO_TARGET_DIR:-$ROOT/target}/release/$exe"
    fi
    note "release build took $((SECONDS - started))s"
  fi
  [[ -f "$binary" ]] || die "no binary at $binary"

  local stage
  stage="$(mktemp -d)"
  cp "$binary" "$stage/$exe"
  chmod 0755 "$stage/$exe"
  cp "$ROOT/LICENSE" "$stage/LICENSE"
  chmod 0644 "$stage/LICENSE"
  local files=("$exe" LICENSE)
  if [[ "$platform" != windows_* ]]; then
    cp "$ROOT/kubectl_complete-llmd" "$stage/kubectl_complete-llmd"
    chmod 0755 "$stage/kubectl_complete-llmd"
    files+=(kubectl_complete-llmd)
  fi

  local archive
  archive="$dist/$(archive_name "$platform")"
  # Reproducible where GNU tar allows: fixed order, owner and mtime (the last commit's), no gzip timestamp.
  local epoch="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || true)}"
  epoch="${epoch:-0}"
  local tar_flags=()
  if tar --version 2>/dev/null | grep -q 'GNU tar'; then
    tar_flags=(--sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu)
  fi
  # (${a[@]+"${a[@]}"}: an empty array under set -u on bash 3.2, macOS's.)
  tar ${tar_flags[@]+"${tar_flags[@]}"} -C "$stage" -cf - "${files[@]}" | gzip -n -9 >"$archive.tmp"
  mv "$archive.tmp" "$archive"
  rm -rf "$stage"
  local sum
  sum="$(sha256 "$archive")"
  echo "$sum  $(basename "$archive")" >"$archive.sha256"
  note "$archive ($(wc -c <"$archive" | tr -d ' ') bytes) sha256 $sum"
}

render() {
  local template="$ROOT/plugin.yaml.tmpl" placeholders=() sed_args=(-e "s/{{VERSION}}/$version/g")
  local p archive sum
  for p in "${PLATFORMS[@]}"; do
    archive="$dist/$(archive_name "$p")"
    if [[ -f "$archive" ]]; then
      sum="$(sha256 "$archive")"
    else
      sum="$PLACEHOLDER_SHA"
      placeholders+=("$p")
    fi
    sed_args+=(-e "s/{{SHA256_$p}}/$sum/g")
  done

  local rendered
  rendered="$(sed "${sed_args[@]}" "$template")"
  if grep -q '{{' <<<"$rendered"; then die "unrendered placeholder left in $template"; fi
  if [[ ${#placeholders[@]} -gt 0 ]]; then
    rendered="# Rendered by scripts/release.sh from plugin.yaml.tmpl.
# Placeholder sha256 (64 zeros; these archives were not built here) for: ${placeholders[*]}.
# .github/workflows/release.yml builds every platform and renders this file with every checksum:
# that is the file to submit to krew-index.
$rendered"
    note "placeholder sha256 for: ${placeholders[*]} (no archive in $dist)"
  fi

  mkdir -p "$out/krew-index/plugins"
  printf '%s\n' "$rendered" >"$out/plugin.yaml"
  printf '%s\n' "$rendered" >"$out/krew-index/plugins/llmd.yaml"
  note "wrote $out/plugin.yaml and $out/krew-index/plugins/llmd.yaml (v$version)"
}

case "$mode" in
  all) package; render ;;
  package) package ;;
  render) render ;;
esac
