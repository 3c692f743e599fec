#!/usr/bin/env bash
# The one test command (README): installs what is missing, then runs the
# format check, clippy with warnings as errors, and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

# Reuse a build cache outside the clone when there is one; a clean clone
# without it just builds from scratch. That shared cache is emptied first
# when it holds more than TAPSTER_TARGET_CAP_GIB (default 60 GiB); a
# CARGO_TARGET_DIR given by the caller is left alone.
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="$HOME/.cache/tapster/target"
  scripts/cap-target.sh "$CARGO_TARGET_DIR" "${TAPSTER_TARGET_CAP_GIB:-60}"
fi
mkdir -p "$CARGO_TARGET_DIR"
# No incremental build data: every clean clone would add gigabytes of it to
# the shared cache (it is kept per source path) and a one-off build gains
# nothing from it.
export CARGO_INCREMENTAL=0

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# The app embeds the built web UI (ui/dist) at compile time, so the UI is
# installed, type-checked, unit-tested and built before any cargo step.
step "ui: npm ci, vitest, build (svelte-check --fail-on-warnings)"
npm --prefix ui ci --no-audit --no-fund
npm --prefix ui test
npm --prefix ui run build

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The print crate's serial and usb drivers are behind features: check them too.
cargo clippy -p tapster-print --all-targets --all-features --locked -- -D warnings
# So are the failpoints of the ledger, the sync round and the app.
cargo clippy -p tapster-ledger -p tapster-sync -p tapster-app --all-targets --features failpoints --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "the server's tests again, on PostgreSQL (a throwaway cluster)"
pg_dir=$(mktemp -d /tmp/tapster-pg.XXXXXX)
trap 'scripts/postgres.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
eval "$(scripts/postgres.sh start "$pg_dir" 5432)"
cargo test -p tapster-server --locked --tests
scripts/postgres.sh stop "$pg_dir"
unset TAPSTER_TEST_PG_HOST TAPSTER_TEST_PG_PORT

step "failpoints: storage failing at each step of a sale and a sync round"
cargo test -p tapster-ledger -p tapster-sync -p tapster-app --features failpoints --locked --test failpoints

step "schemathesis: the server against its own OpenAPI document"
scripts/schemathesis.sh

step "fuzz: token ids, wedge lines, API bodies, receipt text (bounded time each)"
scripts/fuzz.sh

step "package: the .deb (Tauri bundler) and a check of it"
scripts/package.sh
scripts/check-deb.sh
