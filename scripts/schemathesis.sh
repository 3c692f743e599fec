#!/usr/bin/env bash
# Runs schemathesis against a running tapster-server and its own OpenAPI
# document: no 5xx answer, and every answer as the document says (its
# status documented, its content type and its body as documented). The
# POS API with a terminal's token, the manager API with the event's admin
# token. Seed 003 (devices, locations: admin token; scans: a device token),
# seed 004's products and seed 000's back office (admin token), and seed
# 002's integration API (an integration's key) too. The
# rate limit is off for the run (it would answer 429 to the fuzzer's
# bursts). A request may take up to 90 s: with the limit off the fuzzer
# makes thousands of passes, and a debug build needs more than the default
# 10 s to draw a sheet of all of them. ST_SEED=… repeats a run. Needs the
# debug server binary (cargo build).
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
"$server" serve --db "$db" --listen 127.0.0.1:0 --rate-limit 0 > "$work/listening" 2>"$work/server.log" &
pid=$!
for _ in $(seq 50); do [ -s "$work/listening" ] && break; sleep 0.1; done
address="$(head -1 "$work/listening" | json listening)"
# Every operation works on this event (the path's event id is not fuzzed).
printf '[parameters]\n"path.event_id" = "%s"\n' "$event" > "$work/schemathesis.toml"

seed="${ST_SEED:-$RANDOM$RANDOM}"
echo "schemathesis seed: ST_SEED=$seed"
# Over HTTPS, trusting exactly the certificate the server made for itself.
# A pass sheet of 10 000 passes (the fuzzer makes such batches) takes
# about 30 s in the debug build: longer than schemathesis's 10 s default.
# A failing run prints its failures whole (which operation, what came
# back, the curl that repeats it), not only the summary.
run() {
    local out="$work/st.out"
    if "$st" --config-file "$work/schemathesis.toml" run "https://$address/api/v1/openapi.json" \
        --tls-verify "$db.tls/cert.pem" \
        --url "https://$address" -H "Authorization: $1" --include-path-regex "$2" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --request-timeout 90 --max-examples 25 --seed "$seed" --no-color > "$out" 2>&1; then
        tail -n 25 "$out"
    else
        sed -n '/=\+ FAILURES =\+/,/=\+ WARNINGS =\+/p' "$out"
        tail -n 25 "$out"
        return 1
    fi
}
e='^/api/v1/events/\{event_id\}'
# The terminal's token first: the manager runs may archive its terminal
# or roll its token.
run "Bearer $terminal_token" "/pos/"
# Seed 003's scans with a device's token.
run "Bearer $terminal_token" "$e/devices/scan"
# Seed 002 (Winston) with an integration's key (before the manager run,
# which may make the app a new key or revoke it): its errors are plain
# text.
integration="$(curl -sf --cacert "$db.tls/cert.pem" -H "Authorization: Bearer $admin_token" \
    -H 'content-type: application/json' -d '{"app": "schemathesis"}' \
    "https://$address/api/v1/events/$event/manage/integrations" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['data']['key'])")"
run "Token schemathesis@$integration" "^/api/v2/"
run "Bearer $admin_token" "/manage/"
# Seed 003: devices and locations with the admin token. Anchored:
# `manage/locations/…` and `devices/scan…` are not these.
run "Bearer $admin_token" "$e/(locations|devices(/\{identifier\}(/token)?)?)\$"
# Seed 004's products (not `manage/products`, not Winston's) and seed
# 000's back office, with the admin token.
run "Bearer $admin_token" "$e/products(/\{identifier\})?\$"
run "Bearer $admin_token" "$e/backoffice/"
