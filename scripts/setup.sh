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
say "ready"
