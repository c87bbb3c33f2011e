# cluster-lib.sh: sourced by scripts/cluster-demo.sh and the multi-instance
# chaos test (test/chaos/cluster-chaos.sh). Several parley-server instances
# on one PostgreSQL database and one Redis, behind HAProxy, all on
# 127.0.0.1 (docs/scaling.md, "A cluster"):
#
#   clients --wss--> HAProxy :PORT (TLS terminated, TCP mode, leastconn,
#                     health check GET /healthz every 500 ms)
#                      |--ws--> parley-server i1 --+-- PostgreSQL (the store)
#                      |--ws--> parley-server i2 --+-- Redis (fan-out)
#                      '--ws--> parley-server i3 --'
#
# The caller sets CL_DIR (a fresh directory), CL_SERVER (the parley-server
# binary) and CL_ROOT (the repository), then calls the functions below.
# cl_stop_all stops everything this library started.

cl_log() { printf 'cluster: %s\n' "$*" >&2; }

cl_die() {
    cl_log "$*"
    exit 1
}

# PostgreSQL and Redis, private (test/services/services.sh); 77 when absent.
cl_start_services() {
    local rc=0
    CL_PG=$("$CL_ROOT/test/services/services.sh" pg start "$CL_DIR/pg") || rc=$?
    [ "$rc" = 0 ] || return "$rc"
    CL_REDIS=$("$CL_ROOT/test/services/services.sh" redis start "$CL_DIR/redis") || rc=$?
    return "$rc"
}

# A throw-away CA and a localhost certificate; HAProxy's PEM holds both
# the certificate and its key.
cl_make_certs() {
    sh "$CL_ROOT/scripts/gen-certs.sh" "$CL_DIR" cluster >/dev/null || cl_die "certificates"
    cat "$CL_DIR/cluster-server.pem" "$CL_DIR/cluster-server.key" >"$CL_DIR/haproxy.pem"
    chmod 600 "$CL_DIR/haproxy.pem"
    CL_CA=$CL_DIR/cluster-ca.pem
}

# cl_start_instance I [EXTRA ARGS...]: instance I on its port (the same one
# each time it is restarted, so HAProxy's server line stays right).
cl_start_instance() {
    local i=$1 port
    shift
    port=$(cat "$CL_DIR/i$i.port" 2>/dev/null || true)
    rm -f "$CL_DIR/i$i.ready"
    "$CL_SERVER" --host 127.0.0.1 --port "${port:-0}" --ready-file "$CL_DIR/i$i.ready" \
        --store "$CL_PG" --redis "$CL_REDIS" --instance "i$i" \
        --agent-token "${CL_TOKEN:-cluster-token}" --max-conns-per-addr 0 \
        --drain-window-ms "${CL_DRAIN_WINDOW_MS:-5000}" "$@" \
        >>"$CL_DIR/i$i.log" 2>&1 &
    echo $! >"$CL_DIR/i$i.pid"
    for _ in $(seq 1 300); do
        if [ -s "$CL_DIR/i$i.ready" ]; then
            grep -o '[0-9]\+' "$CL_DIR/i$i.ready" | head -n 1 >"$CL_DIR/i$i.port"
            return 0
        fi
        kill -0 "$(cat "$CL_DIR/i$i.pid")" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$CL_DIR/i$i.log" >&2
    cl_die "instance i$i did not start"
}

cl_instance_pid() { cat "$CL_DIR/i$1.pid"; }
cl_instance_port() { cat "$CL_DIR/i$1.port"; }

# cl_drain I: SIGTERM: the instance stops taking connections, sends goaway
# spread over its drain window, waits for its writes and exits.
cl_drain() {
    local pid
    pid=$(cl_instance_pid "$1")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    cl_log "instance i$1 did not finish draining in 60 s: killed"
    kill -KILL "$pid" 2>/dev/null || true
}

cl_kill() {
    kill -KILL "$(cl_instance_pid "$1")" 2>/dev/null || true
    wait "$(cl_instance_pid "$1")" 2>/dev/null || true
}

# cl_start_haproxy N [PORT]: the balancer in front of instances 1..N.
cl_start_haproxy() {
    local n=$1 port=${2:-0} i
    [ "$port" = 0 ] && port=$((20000 + RANDOM % 40000))
    {
        printf 'global\n  maxconn 9000\n  stats socket %s/haproxy.sock mode 600 level admin\n' "$CL_DIR"
        printf 'defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 1h\n'
        printf '  timeout server 1h\n  timeout tunnel 1h\n  option redispatch\n  retries 3\n'
        printf 'frontend parley\n  bind 127.0.0.1:%s ssl crt %s/haproxy.pem\n' "$port" "$CL_DIR"
        printf '  default_backend instances\n'
        printf 'backend instances\n  balance leastconn\n'
        printf '  option httpchk GET /healthz\n  http-check expect status 200\n'
        printf '  default-server inter 500ms fall 1 rise 2\n'
        for i in $(seq 1 "$n"); do
            printf '  server i%s 127.0.0.1:%s check\n' "$i" "$(cl_instance_port "$i")"
        done
    } >"$CL_DIR/haproxy.cfg"
    haproxy -db -f "$CL_DIR/haproxy.cfg" >"$CL_DIR/haproxy.log" 2>&1 &
    echo $! >"$CL_DIR/haproxy.pid"
    CL_PORT=$port
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$CL_DIR/haproxy.log" >&2
    cl_die "HAProxy did not start"
}

cl_stop_all() {
    local f
    for f in "$CL_DIR"/i*.pid "$CL_DIR/haproxy.pid"; do
        [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
    done
    wait 2>/dev/null
    [ -d "$CL_DIR/redis" ] && "$CL_ROOT/test/services/services.sh" redis stop "$CL_DIR/redis"
    [ -d "$CL_DIR/pg" ] && "$CL_ROOT/test/services/services.sh" pg stop "$CL_DIR/pg"
    return 0
}
