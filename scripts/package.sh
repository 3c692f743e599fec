#!/usr/bin/env bash
# Builds the Debian package of the app with the Tauri bundler:
# target/release/bundle/deb/Tapster_<version>_amd64.deb (under CARGO_TARGET_DIR).
# Install it with `sudo apt install ./Tapster_*.deb` (pulls pcscd and WebKitGTK).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tapster/target}"

if [ ! -d ui/node_modules ]; then npm --prefix ui ci --no-audit --no-fund; fi
npm --prefix ui run build
# The Tauri CLI from npm (a prebuilt binary, installs in seconds), pinned
# here rather than in ui/package.json: the registry's lock entries for its
# other platforms' builds are incomplete, which `npm ci` refuses.
TAURI_CLI_VERSION=2.12.5
if ! ui/node_modules/.bin/tauri --version 2>/dev/null | grep -q "$TAURI_CLI_VERSION"; then
    npm --prefix ui install --no-save --no-audit --no-fund "@tauri-apps/cli@$TAURI_CLI_VERSION"
fi
# Run where src-tauri/ is.
ui/node_modules/.bin/tauri build --bundles deb
ls -1 "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb
