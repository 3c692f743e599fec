#!/usr/bin/env bash
# Runs schemathesis against a running tapster-server and its own OpenAPI
# document: no 5xx answer, every answer as the document says. The POS API
# with a terminal's token, the manager API with the event's admin token.
# Seed 003 (devices, locations: admin token; scans: a device token) too.
# ST_SEED=… repeats a run. Needs the debug server binary (cargo build).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$HOME/.cache/tapster/target}"
server="$target/debug/tapster-server"
st="$HOME/.cache/tapster/schemathesis-venv/bin/st"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
db="$work/server.sqlite"
event="$("$server" event create --db "$db" --name Schemathesis 2>/dev/null | json event_id)"
"$server" demo --db "$db" --event "$event" --wallets 20 >/dev/null 2>&1
terminal_token="$("$server" terminal create --db "$db" --event "$event" --name Bar --permission all 2>/dev/null | json api_token)"
admin_token="$("$server" admin-token --db "$db" --event "$event" 2>/dev/null | json admin_token)"
"$server" serve --db "$db" --listen 127.0.0.1:0 > "$work/listening" 2>"$work/server.log" &
pid=$!
for _ in $(seq 50); do [ -s "$work/listening" ] && break; sleep 0.1; done
address="$(head -1 "$work/listening" | json listening)"
# Every operation works on this event (the path's event id is not fuzzed).
printf '[parameters]\n"path.event_id" = "%s"\n' "$event" > "$work/schemathesis.toml"

seed="${ST_SEED:-$RANDOM$RANDOM}"
echo "schemathesis seed: ST_SEED=$seed"
# Over HTTPS, trusting exactly the certificate the server made for itself.
run() {
    "$st" --config-file "$work/schemathesis.toml" run "https://$address/api/v1/openapi.json" \
        --tls-verify "$db.tls/cert.pem" \
        --url "https://$address" -H "Authorization: Bearer $1" --include-path-regex "$2" \
        --checks not_a_server_error,response_schema_conformance \
        --max-examples 25 --seed "$seed" --no-color 2>&1 | tail -n 25
}
run "$terminal_token" "/pos/"
run "$admin_token" "/manage/"
# Seed 003: devices and locations with the admin token, scans with a
# device's.
run "$admin_token" "/locations|/devices($|/\{identifier\})"
run "$terminal_token" "/devices/scan"
