#!/usr/bin/env bash
# Installs what Tapster needs and is missing on a Debian machine: the apt
# packages listed in scripts/apt-packages.txt and the Rust components.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

missing=()
while read -r package; do
    case "$package" in ''|'#'*) continue ;; esac
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done < scripts/apt-packages.txt

if ((${#missing[@]})); then
    say "installing apt packages: ${missing[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    say "apt packages: all present"
fi

# Node.js for the app's web UI: Vite 8 needs Node 20.19 or newer. Debian 12's
# own nodejs is 18, so a missing or older Node comes from NodeSource's
# Node 22 packages (which bring npm; Debian's npm package conflicts with them).
node_ok() {
    command -v node >/dev/null && command -v npm >/dev/null &&
        node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}
if ! node_ok; then
    say "installing Node.js 22 from NodeSource (found: $(node --version 2>/dev/null || echo none))"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends curl ca-certificates gnupg
    curl -fsSL https://deb.nodesource.com/setup_22.x | $sudo bash -
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs
    node_ok || { say "Node.js 20.19+ is needed; install it (https://nodejs.org) and run this again"; exit 1; }
fi

if ! command -v cargo >/dev/null; then
    say "Rust is missing: install it with rustup (https://rustup.rs), then run this again"
    exit 1
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        say "adding Rust component $component"
        rustup component add "$component"
    fi
done
# The ESC/POS printer emulator the print tests print to: emupos from PyPI,
# in its own virtualenv outside the clone. It needs Python 3.13 or newer;
# Debian 12 has 3.11, so use a newer one if there is one (pyenv), else let
# uv fetch one.
EMUPOS_VERSION=0.4.0
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tapster"
emupos_venv="$cache/emupos-venv"
if ! "$emupos_venv/bin/emupos" --version 2>/dev/null | grep -qx "emupos $EMUPOS_VERSION"; then
    python=""
    for candidate in python3.14 python3.13 \
        "$HOME"/.pyenv/versions/3.1[3-9]*/bin/python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
            python="$candidate"
            break
        fi
    done
    if [ -z "$python" ]; then
        say "no Python 3.13+ here: fetching one with uv"
        python3 -m venv "$cache/uv-venv"
        "$cache/uv-venv/bin/pip" install -q uv
        export UV_PYTHON_INSTALL_DIR="$cache/python"
        "$cache/uv-venv/bin/uv" python install 3.13
        python="$("$cache/uv-venv/bin/uv" python find --managed-python 3.13)"
    fi
    say "installing the emupos printer emulator $EMUPOS_VERSION with $python"
    rm -rf "$emupos_venv"
    "$python" -m venv "$emupos_venv"
    "$emupos_venv/bin/pip" install -q "emupos==$EMUPOS_VERSION"
fi
# schemathesis (scripts/schemathesis.sh) in a venv of its own.
SCHEMATHESIS_VERSION=4.32.5
st_venv="$cache/schemathesis-venv"
if ! "$st_venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    say "installing schemathesis $SCHEMATHESIS_VERSION"
    rm -rf "$st_venv"
    python3 -m venv "$st_venv"
    "$st_venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

# Fuzzing (scripts/fuzz.sh): cargo-fuzz runs on the nightly toolchain.
CARGO_FUZZ_VERSION=0.13.2
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    say "installing the nightly Rust toolchain (for cargo-fuzz)"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    say "installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
say "ready"
