#!/usr/bin/env bash
# Runs each fuzz target (fuzz/) for a bounded time with cargo-fuzz on the
# nightly toolchain (scripts/setup.sh installs both). A crash fails the run
# and leaves its input in fuzz/artifacts/<target>/; turn it into a
# regression test before fixing it.
#   scripts/fuzz.sh            # every target, FUZZ_SECONDS each (default 20)
#   scripts/fuzz.sh wedge 300  # one target, longer
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tapster/target}/fuzz"
seconds="${2:-${FUZZ_SECONDS:-20}}"
targets=("${1:-token_id}")
if [ $# -eq 0 ]; then
  targets=(token_id wedge api_bodies receipt_text)
fi
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "== fuzz $target for ${seconds}s"
  cargo +nightly fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 2>&1 | tail -n 12
done
