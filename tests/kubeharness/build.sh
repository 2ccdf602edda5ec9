#!/usr/bin/env bash
# Build the kubeharness (embedded etcd + kube-apiserver v1.36.3) and kubectl v1.36.3
# from this module into OUTDIR. Skips the build when both binaries exist and the
# stamp matches the sha256 of go.mod, go.sum and every .go file of the module.
#
# usage: tests/kubeharness/build.sh OUTDIR
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
stamp="$out/kubeharness.stamp"

k8s_version=v1.36.3
ldflags="-s -w"
ldflags+=" -X k8s.io/component-base/version.gitVersion=$k8s_version"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
ldflags+=" -X k8s.io/component-base/version.gitMinor=36"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
# No commit hash is available offline; the build date is the v1.36.3 tag time served by the module proxy.
ldflags+=" -X k8s.io/component-base/version.gitCommit="
ldflags+=" -X k8s.io/component-base/version.buildDate=2026-07-22T18:07:38Z"

log() { echo "kubeharness/build.sh: $*" >&2; }

# The stamp covers the module's sources and the build settings.
compute_stamp() {
	(
		cd "$here"
		{
			sha256sum go.mod go.sum
			find . -name '*.go' -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
			echo "ldflags: $ldflags"
		} | sha256sum | cut -d' ' -f1
	)
}

# Serialise concurrent builds into the same OUTDIR (e.g. two test processes starting at once).
if command -v flock >/dev/null; then
	exec 9>"$out/.build.lock"
	flock 9
fi

want=$(compute_stamp)
if [[ -x "$out/kubeharness" && -x "$out/kubectl" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
	log "up to date: $out/kubeharness, $out/kubectl (stamp $want)"
	exit 0
fi

command -v go >/dev/null || { log "go not found in PATH"; exit 1; }
log "building kubeharness and kubectl $k8s_version into $out with $(go env GOVERSION) (a cold build takes several minutes)"

tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cd "$here"
# GOWORK=off: ignore any go.work above this directory. -buildvcs=false: the module lives
# inside the product's git checkout, whose VCS state is irrelevant here (and fails on a repo
# without commits). go.sum is complete, so the default -mod=readonly suffices.
export GOWORK=off
start=$(date +%s)
log "+ go build -buildvcs=false -ldflags '$ldflags' -o $tmp/ . k8s.io/kubernetes/cmd/kubectl"
go build -buildvcs=false -ldflags "$ldflags" -o "$tmp/" . k8s.io/kubernetes/cmd/kubectl

mv -f "$tmp/kubeharness" "$out/kubeharness"
mv -f "$tmp/kubectl" "$out/kubectl"
echo "$want" >"$stamp"
log "built $out/kubeharness and $out/kubectl in $(($(date +%s) - start))s"
