#!/usr/bin/env bash
# Private PostgreSQL and Redis instances for tests, benchmarks and the
# cluster demo: each in a directory of its own, on a free loopback port,
# nothing shared with a system instance, gone with `stop`.
#
#   test/services/services.sh pg start DIR      prints postgres://...
#   test/services/services.sh redis start DIR   prints redis://...
#   test/services/services.sh pg|redis stop DIR
#   test/services/services.sh pg|redis check    exit 0 when the binaries are there
#   test/services/services.sh port              prints a free loopback port
#
# DIR must not exist yet (start) and is removed by stop. The URL is also
# written to DIR/url. Exit status 77 (the tests' "skipped") when the
# server's binaries are absent (make deps installs them), with the reason
# on stderr; 1 on any other failure, with the service's log.
#
# PostgreSQL's initdb and postgres refuse to run as root: as root they run
# as the `postgres` user (made by Debian's package), with the data and the
# unix socket in DIR, which that user then owns.
set -euo pipefail

die() {
    echo "services: $*" >&2
    exit 1
}

pg_bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
    done
    command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

# Runs a command as the user that owns the cluster.
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Below Linux's ephemeral range (32768 on), where outgoing connections take
# ports that a connect test does not see.
free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

pg_start() {
    local dir=$1 bin port
    bin=$(pg_bindir) || { echo "services: PostgreSQL is not installed (make deps)" >&2; exit 77; }
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "services: running as root and there is no postgres user to run PostgreSQL as" >&2
        exit 77
    fi
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U parley -A trust -E UTF8 --locale=C --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    for _ in 1 2 3 4 5; do
        port=$(free_port) || die "no free port"
        if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" \
            start >/dev/null 2>&1; then
            as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U parley -d postgres -qAt \
                -c "CREATE DATABASE parley" >/dev/null || die "cannot create the database"
            echo "postgres://parley@127.0.0.1:$port/parley" | tee "$dir/url"
            return 0
        fi
    done
    cat "$dir/log" >&2 2>/dev/null || true
    die "PostgreSQL did not start"
}

pg_stop() {
    local dir=$1 bin
    bin=$(pg_bindir) || true
    if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
        as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

redis_start() {
    local dir=$1 port
    command -v redis-server >/dev/null \
        || { echo "services: redis-server is not installed (make deps)" >&2; exit 77; }
    mkdir -p "$dir"
    for _ in 1 2 3 4 5; do
        port=$(free_port) || die "no free port"
        rm -f "$dir/pid"
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize yes --pidfile "$dir/pid" --logfile "$dir/log" --dir "$dir" \
            >/dev/null 2>&1 || continue
        for _ in $(seq 1 50); do
            if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
                echo "redis://127.0.0.1:$port" | tee "$dir/url"
                return 0
            fi
            sleep 0.1
        done
        [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
    done
    cat "$dir/log" >&2 2>/dev/null || true
    die "Redis did not start"
}

redis_stop() {
    local dir=$1 pid
    if [ -f "$dir/pid" ]; then
        pid=$(cat "$dir/pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

check() {
    case $1 in
    pg) pg_bindir >/dev/null || { echo "services: PostgreSQL is not installed" >&2; exit 77; } ;;
    redis) command -v redis-server >/dev/null \
        || { echo "services: redis-server is not installed" >&2; exit 77; } ;;
    esac
}

[ "${1:-}" = port ] && { free_port || die "no free port"; exit 0; }
[ $# -ge 2 ] || die "usage: services.sh pg|redis start|stop DIR | services.sh pg|redis check | services.sh port"
service=$1 action=$2
case "$service:$action" in
pg:start) pg_start "${3:?DIR}" ;;
pg:stop) pg_stop "${3:?DIR}" ;;
redis:start) redis_start "${3:?DIR}" ;;
redis:stop) redis_stop "${3:?DIR}" ;;
pg:check | redis:check) check "$service" ;;
*) die "unknown: $service $action" ;;
esac
