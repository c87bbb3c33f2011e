#!/usr/bin/env bash
# ctest services_check: services.sh starts a private PostgreSQL and Redis on
# loopback ports, each answers through the URL it printed, and stop leaves
# nothing running and nothing behind. 77 (skipped) when the binaries are
# absent; `make deps` installs them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
svc=$here/services.sh
"$svc" pg check && "$svc" redis check || exit 77

work=$(mktemp -d /tmp/parley-services-XXXXXX)
# PostgreSQL runs as the postgres user when we are root: it must reach DIR.
chmod 755 "$work"
cleanup() {
    "$svc" redis stop "$work/redis" 2>/dev/null || true
    "$svc" pg stop "$work/pg" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

pg_url=$("$svc" pg start "$work/pg")
redis_url=$("$svc" redis start "$work/redis")
echo "services: $pg_url $redis_url"

# postgres://parley@127.0.0.1:PORT/parley and redis://127.0.0.1:PORT
pg_port=${pg_url##*:}
pg_port=${pg_port%%/*}
redis_port=${redis_url##*:}
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
got=$("${as_pg[@]}" psql -h 127.0.0.1 -p "$pg_port" -U parley -d parley -qAt \
    -c "CREATE TABLE t(v text); INSERT INTO t VALUES ('ok'); SELECT v FROM t")
[ "$got" = ok ] || { echo "services: PostgreSQL answered '$got'" >&2; exit 1; }
redis-cli -p "$redis_port" set parley ok >/dev/null
got=$(redis-cli -p "$redis_port" get parley)
[ "$got" = ok ] || { echo "services: Redis answered '$got'" >&2; exit 1; }

pg_pid=$(head -n 1 "$work/pg/data/postmaster.pid")
redis_pid=$(cat "$work/redis/pid")
"$svc" redis stop "$work/redis"
"$svc" pg stop "$work/pg"
# Gone, or a zombie its (re)parent has not reaped yet.
gone() {
    local state
    for _ in $(seq 1 50); do
        kill -0 "$1" 2>/dev/null || return 0
        state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
        [ "$state" = Z ] && return 0
        sleep 0.1
    done
    return 1
}
for pid in "$pg_pid" "$redis_pid"; do
    gone "$pid" || { echo "services: process $pid still runs after stop" >&2; exit 1; }
done
[ ! -e "$work/pg" ] && [ ! -e "$work/redis" ] || { echo "services: stop left files" >&2; exit 1; }
echo "services: ok"
