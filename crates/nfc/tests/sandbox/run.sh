#!/usr/bin/env bash
# Runs a command next to a private pcscd with the virtual reader and a
# controllable card (vpcd_card.py), in their own mount and network
# namespaces, so tests never touch the machine's own pcscd.
# Usage (as root): unshare -m -n --propagation private run.sh CONTROL_SOCKET COMMAND...
set -euo pipefail
control="$1"
shift
mount -t tmpfs tmpfs /run/pcscd 2>/dev/null || { mkdir -p /run/pcscd && mount -t tmpfs tmpfs /run/pcscd; }
ip link set lo up
# Debian's python3 (with python3-cryptography for the NTAG 424 DNA), not
# whatever python3 comes first on PATH.
/usr/bin/python3 "$(dirname "$0")/vpcd_card.py" "$control" &
# Wait for the card supervisor (and so pcscd) to be up.
for _ in $(seq 100); do [ -S "$control" ] && break; sleep 0.02; done
exec "$@"
