#!/usr/bin/env bash
# Run one cargo-fuzz target from the committed seeds: fuzz/run.sh TARGET SECONDS [libFuzzer flags…].
# New inputs go to fuzz/corpus/TARGET (not committed); a crash is written to fuzz/artifacts/TARGET.
set -euo pipefail
cd "$(dirname "$0")"
target=$1 seconds=$2
shift 2
mkdir -p "corpus/$target"
exec cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
  -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 "$@"
