#!/usr/bin/env bash
# Checks the Debian package scripts/package.sh built: its dependencies
# (pcscd, WebKitGTK), its files (binary, desktop entry with a demo action,
# icon), and that the packaged binary starts the demo event in a window
# (Xvfb) and keeps running.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tapster/target}"

deb=$(ls -1t "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb | head -1)
fail() { echo "check-deb: $*" >&2; exit 1; }
echo "checking $deb"

depends=$(dpkg-deb -f "$deb" Depends)
for needed in pcscd libwebkit2gtk-4.1-0 libgtk-3-0; do
    grep -q "$needed" <<<"$depends" || fail "Depends lacks $needed: $depends"
done
contents=$(dpkg-deb -c "$deb")
for file in usr/bin/tapster-app usr/share/applications/Tapster.desktop \
    usr/share/icons/hicolor/512x512/apps/tapster-app.png; do
    grep -q " \.\?/\?$file\$" <<<"$contents" || fail "missing $file"
done

root=$(mktemp -d)
cleanup() {
    pkill -f "$root/data" 2>/dev/null || true
    [ -n "${xvfb:-}" ] && kill "$xvfb" 2>/dev/null || true
    rm -rf "$root"
}
trap cleanup EXIT
dpkg-deb -x "$deb" "$root/pkg"
grep -q '^Exec=tapster-app --demo$' "$root/pkg/usr/share/applications/Tapster.desktop" ||
    fail "the desktop entry has no demo action"
"$root/pkg/usr/bin/tapster-app" --version | grep -q tapster-app || fail "--version"

display=:$((150 + RANDOM % 50))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
sleep 1
DISPLAY=$display "$root/pkg/usr/bin/tapster-app" --demo --data-dir "$root/data" --config-dir "$root/data/config" >"$root/app.log" 2>&1 &
app=$!
for _ in $(seq 1 100); do
    if [ -f "$root/data/demo/ledger.sqlite" ] && grep -qs "starting Tapster" "$root"/data/demo/logs/tapster.*log; then
        break
    fi
    sleep 0.2
done
sleep 2
kill -0 "$app" 2>/dev/null || { cat "$root/app.log"; fail "the packaged app did not keep running"; }
[ -f "$root/data/demo/ledger.sqlite" ] || fail "no demo ledger was created"
grep -qs "starting Tapster" "$root"/data/demo/logs/tapster.*log || fail "no log line"
kill "$app"
echo "check-deb: ok ($(du -h "$deb" | cut -f1))"
