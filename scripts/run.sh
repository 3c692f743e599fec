#!/usr/bin/env bash
# The one command to see Tapster: installs what is missing, builds the web
# UI and the app, and starts it on the embedded demo event (demo bar, staff
# PINs on the login screen, funded wristbands with on-screen "tap" buttons,
# receipts on screen). Extra arguments go to the app, e.g.
#   scripts/run.sh --demo-reset            start the demo afresh
#   scripts/run.sh --lang en
#   scripts/run.sh --printer tcp://192.168.1.50:9100
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tapster/target}"
say() { printf '\033[1m[run]\033[0m %s\n' "$*"; }

say "building the web UI"
if [ ! -d ui/node_modules ]; then npm --prefix ui ci --no-audit --no-fund; fi
npm --prefix ui run build

say "building the app (the first build takes a few minutes)"
cargo build --release -p tapster-app

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    say "no display found: starting a virtual one (Xvfb :99); the window is not visible"
    Xvfb :99 -screen 0 1280x800x24 >/dev/null 2>&1 &
    export DISPLAY=:99
    sleep 1
fi

say "starting Tapster on the demo event"
exec "$CARGO_TARGET_DIR/release/tapster-app" --demo "$@"
