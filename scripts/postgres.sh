#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start DIR PORT` makes it in
# DIR (a Unix socket there, no TCP port) and prints the variables the
# server's tests read; `stop DIR` stops it. PostgreSQL refuses to run as
# root, so it runs as the `postgres` user when we are root.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-}" in
start)
    dir=$2 port=$3
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir" && chmod 755 "$dir"
    as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres --locale=C -E UTF8 >"$dir/initdb.log"
    # Durable as in production (fsync on); a few connections per test.
    as_postgres "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" start -o \
        "-c listen_addresses='' -c unix_socket_directories=$dir -c port=$port -c max_connections=400" >/dev/null
    echo "export TAPSTER_TEST_PG_HOST=$dir TAPSTER_TEST_PG_PORT=$port"
    ;;
stop)
    as_postgres "$bin/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
reconfigure)
    # `reconfigure DIR PORT 'OPTIONS'`: restarted on PORT with more server
    # options (later ones win), e.g. "-c ssl=on -c listen_addresses='127.0.0.1'".
    dir=$2 port=$3
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w -l "$dir/server.log" restart -o \
        "-c listen_addresses='' -c unix_socket_directories=$dir -c port=$port -c max_connections=400 ${4:-}" >/dev/null
    ;;
restart)
    # Immediate: no shutdown checkpoint, as after a crash; clients lose
    # their connections mid-transaction.
    as_postgres "$bin/pg_ctl" -D "$2/data" -m immediate -w -l "$2/server.log" restart >/dev/null
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR | restart DIR | reconfigure DIR PORT OPTIONS" >&2
    exit 2
    ;;
esac
