#!/usr/bin/env bash
# Several parley-server instances behind HAProxy on this machine, with
# their shared store and Redis (docs/scaling.md, "Several instances").
#
#   scripts/cluster.sh start DIR [options]   start everything; prints the balancer's port
#   scripts/cluster.sh stop DIR              stop everything, keep DIR's logs
#   scripts/cluster.sh instance DIR I term|kill|drain|start|wait-gone
#                                            act on instance I (1..N)
#   scripts/cluster.sh alive DIR             the indexes of the running instances
#   scripts/cluster.sh demo DIR [options]    start, show a conversation across
#                                            instances and a drain, stop (make cluster-demo)
#
# Options of start:
#   --build DIR        build with examples/parley-server (default build/release)
#   --instances N      how many (default 3)
#   --store sqlite|postgres  the shared store (default: postgres when the
#                      server has --store and PostgreSQL is installed, else
#                      one SQLite file in DIR that every instance opens)
#   --cert PEM --key PEM  serve wss:// (default: plain ws://)
#   --agent-token T    the API token (default cluster-token)
#   --drain-window-ms N  passed to every instance (default 2000)
#
# DIR/cluster.env then holds BALANCER_PORT, INSTANCE_PORTS (space-separated,
# instance 1 first), REDIS_URL, STORE and SCHEME; DIR/iI.log each
# instance's log, DIR/haproxy.cfg and DIR/haproxy.log the balancer's.
# HAProxy balances TCP (TLS passes through to the instances), checks each
# instance every 250 ms (a draining instance closes its listening socket,
# so it is out within the check) and sends a connection that an instance
# refused to another one.
#
# Exit status: 0; 77 when redis-server or haproxy is not installed (make
# deps); 1 on any other failure, with the reason on stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
services=$root/test/services/services.sh

die() {
    echo "cluster: $*" >&2
    exit 1
}

[ $# -ge 2 ] || { sed -n '2,30p' "$0" >&2; exit 1; }
cmd=$1 dir=$2
shift 2

env_get() { # NAME: a value of DIR/cluster.env
    sed -n "s/^$1=//p" "$dir/cluster.env" | tr -d "'"
}

port_of() { # I
    local ports
    ports=($(env_get INSTANCE_PORTS))
    echo "${ports[$(($1 - 1))]}"
}

# Binds the instance's port again on a restart; one in TIME_WAIT may need
# a few tries.
start_instance() { # I PORT
    local i=$1 port=$2 try pid
    local args
    read -r -a args <"$dir/server.args"
    for try in 1 2 3 4 5 6 7 8 9 10; do
        rm -f "$dir/i$i.ready"
        setsid "$(cat "$dir/server.bin")" --port "$port" --ready-file "$dir/i$i.ready" \
            "${args[@]}" >>"$dir/i$i.log" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$dir/i$i.pid"
        for _ in $(seq 1 100); do
            [ -s "$dir/i$i.ready" ] && { cat "$dir/i$i.ready"; return 0; }
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        [ "$port" = 0 ] && break
        sleep 0.5
    done
    return 1
}

write_haproxy_cfg() { # BALANCER_PORT PORTS...
    local bport=$1 i=0 p
    shift
    {
        echo "global"
        echo "    maxconn 4096"
        echo "defaults"
        echo "    mode tcp"
        echo "    timeout connect 2s"
        echo "    timeout client 120s"
        echo "    timeout server 120s"
        echo "    retries 3"
        echo "    option redispatch"
        echo "frontend parley"
        echo "    bind 127.0.0.1:$bport"
        echo "    default_backend instances"
        echo "backend instances"
        echo "    balance roundrobin"
        echo "    default-server inter 250ms fall 1 rise 2"
        for p in "$@"; do
            i=$((i + 1))
            echo "    server i$i 127.0.0.1:$p check"
        done
    } >"$dir/haproxy.cfg"
}

start_haproxy() { # BALANCER_PORT
    local pid
    haproxy -f "$dir/haproxy.cfg" -db >>"$dir/haproxy.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$dir/haproxy.pid"
    for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

cluster_start() {
    local build=$root/build/release n=3 store= cert= key= token=cluster-token window=2000
    while [ $# -gt 0 ]; do
        case $1 in
        --build) build=$2; shift ;;
        --instances) n=$2; shift ;;
        --store) store=$2; shift ;;
        --cert) cert=$2; shift ;;
        --key) key=$2; shift ;;
        --agent-token) token=$2; shift ;;
        --drain-window-ms) window=$2; shift ;;
        *) die "unknown option $1" ;;
        esac
        shift
    done
    command -v haproxy >/dev/null || { echo "cluster: haproxy is not installed (make deps)" >&2; exit 77; }
    "$services" redis check || exit 77
    local bin=$build/examples/parley-server
    [ -x "$bin" ] || die "build first: $bin is missing"
    [ ! -e "$dir/cluster.env" ] || die "$dir holds a cluster already (stop it first)"
    mkdir -p "$dir"
    echo "$bin" >"$dir/server.bin"
    if [ -z "$store" ]; then
        store=sqlite
        # Not piped into grep -q: with pipefail, the server's SIGPIPE would
        # fail the test.
        local help
        help=$("$bin" --help 2>&1 || true)
        if [[ $help == *--store* ]] && "$services" pg check 2>/dev/null; then
            store=postgres
        fi
    fi
    local redis store_args
    redis=$("$services" redis start "$dir/redis") || exit $?
    case $store in
    sqlite) store_args="--db $dir/shared.db" ;;
    postgres) store_args="--store $("$services" pg start "$dir/pg")" || exit $? ;;
    *) die "--store sqlite or postgres" ;;
    esac
    local scheme=ws
    # Word-split on purpose: no value here holds a space.
    echo "$store_args --data-dir $dir/files --agent-token $token --insecure-identities" \
        "--redis $redis --drain-window-ms $window${cert:+ --cert $cert --key $key}" >"$dir/server.args"
    [ -n "$cert" ] && scheme=wss
    local i ports=() p
    for ((i = 1; i <= n; i++)); do
        p=$(start_instance "$i" 0) || die "instance $i did not start (see $dir/i$i.log)"
        ports+=("$(grep -o '[0-9]\+' <<<"$p" | head -n 1)")
    done
    local bport try
    # A port found free may be taken before HAProxy binds it: another one.
    for try in 1 2 3 4 5; do
        bport=$("$services" port) || die "no free port"
        write_haproxy_cfg "$bport" "${ports[@]}"
        start_haproxy "$bport" && break
        [ "$try" = 5 ] && die "haproxy did not start (see $dir/haproxy.log)"
    done
    {
        echo "BALANCER_PORT=$bport"
        echo "INSTANCE_PORTS='${ports[*]}'"
        echo "REDIS_URL=$redis"
        echo "STORE=$store"
        echo "SCHEME=$scheme"
        echo "AGENT_TOKEN=$token"
    } >"$dir/cluster.env"
    echo "$bport"
}

instance_pid() { # I: its pid when it runs
    local pid
    pid=$(cat "$dir/i$1.pid" 2>/dev/null) || return 1
    kill -0 "$pid" 2>/dev/null && echo "$pid"
}

wait_gone() { # I SECONDS
    local pid k
    pid=$(cat "$dir/i$1.pid" 2>/dev/null) || return 0
    for ((k = 0; k < $2 * 10; k++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

instance() { # I ACTION
    local i=$1 pid port scheme token
    [ -f "$dir/cluster.env" ] || die "no cluster in $dir"
    port=$(port_of "$i")
    [ -n "$port" ] || die "no instance $i"
    case $2 in
    term) pid=$(instance_pid "$i") && kill -TERM "$pid" ;;
    kill) pid=$(instance_pid "$i") && kill -KILL "$pid" ;;
    drain) # the admin call, on the instance itself (not through the balancer)
        scheme=$(env_get SCHEME) token=$(env_get AGENT_TOKEN)
        curl -sS -k --max-time 5 -o /dev/null -w '%{http_code}\n' -X POST \
            -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data '{}' \
            "$([ "$scheme" = wss ] && echo https || echo http)://127.0.0.1:$port/api/admin/drain" ;;
    wait-gone) wait_gone "$i" 30 ;;
    start)
        instance_pid "$i" >/dev/null && die "instance $i runs already"
        start_instance "$i" "$port" >/dev/null || die "instance $i did not restart on $port" ;;
    *) die "instance actions: term kill drain start wait-gone" ;;
    esac
}

cluster_stop() {
    local f pid
    for f in "$dir"/i*.pid "$dir/haproxy.pid"; do
        [ -e "$f" ] || continue
        pid=$(cat "$f") && kill -TERM "$pid" 2>/dev/null || true
    done
    for f in "$dir"/i*.pid "$dir/haproxy.pid"; do
        [ -e "$f" ] || continue
        pid=$(cat "$f")
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$f"
    done
    [ -d "$dir/redis" ] && "$services" redis stop "$dir/redis" || true
    [ -d "$dir/pg" ] && "$services" pg stop "$dir/pg" || true
    rm -f "$dir/cluster.env"
}

api() { # PORT PATH [curl args]: the admin API of one instance
    local port=$1 path=$2
    shift 2
    curl -sS --max-time 5 -H "Authorization: Bearer $(env_get AGENT_TOKEN)" "$@" \
        "http://127.0.0.1:$port/api$path"
}

# A user talks through the balancer; an agent answers on another instance;
# the user's instance is drained and the client carries on on another one.
cluster_demo() {
    local chat bport ports i where= other= conv
    rm -rf "$dir"
    cluster_start "$@" >/dev/null || exit $?
    trap cluster_stop EXIT
    chat=$(dirname "$(cat "$dir/server.bin")")/parley-chat
    bport=$(env_get BALANCER_PORT)
    ports=($(env_get INSTANCE_PORTS))
    echo "demo: ${#ports[@]} instances on ${ports[*]}, store $(env_get STORE), $(env_get REDIS_URL)," \
        "HAProxy on 127.0.0.1:$bport"
    mkfifo "$dir/in"
    "$chat" --url "ws://127.0.0.1:$bport" --insecure --user demo-user --data-dir "$dir/user" \
        --reconnect 100:1000 --timeout 30 <"$dir/in" >"$dir/user.out" 2>&1 &
    local chat_pid=$!
    exec 3>"$dir/in"
    echo "Hello from the demo user" >&3
    for _ in $(seq 1 50); do
        for ((i = 1; i <= ${#ports[@]}; i++)); do
            api "${ports[$((i - 1))]}" /admin/online/demo-user | grep -q '"online":true' && where=$i
        done
        [ -n "$where" ] && break
        sleep 0.1
    done
    [ -n "$where" ] || die "the user did not connect (see $dir/user.out)"
    other=$((where % ${#ports[@]} + 1))
    conv=$(api "${ports[$((other - 1))]}" /conversations | jq -r '.items[0].id')
    echo "demo: the user is on instance $where; an agent answers on instance $other"
    api "${ports[$((other - 1))]}" "/conversations/$conv/messages" -H 'Content-Type: application/json' \
        --data '{"text":"Hi, Dana here (from another instance)","name":"Dana"}' >/dev/null
    sleep 1
    echo "demo: instance $where drains (POST /api/admin/drain)"
    "$0" instance "$dir" "$where" drain >/dev/null
    "$0" instance "$dir" "$where" wait-gone
    echo "Still there after the drain?" >&3
    sleep 3
    api "${ports[$((other - 1))]}" "/conversations/$conv/messages" -H 'Content-Type: application/json' \
        --data '{"text":"Yes, nothing was lost.","name":"Dana"}' >/dev/null
    sleep 1.5
    exec 3>&-
    wait "$chat_pid" 2>/dev/null || true
    echo "demo: what the user's client printed:"
    sed 's/^/    /' "$dir/user.out"
    echo "demo: the conversation in the shared store:"
    api "${ports[$((other - 1))]}" "/conversations/$conv/messages" |
        jq -r '.[] | "    \(.seq) \(.author.kind): \(.text)"'
}

case $cmd in
demo) cluster_demo "$@" ;;
start) cluster_start "$@" ;;
stop) cluster_stop ;;
instance) instance "$@" ;;
alive)
    for f in "$dir"/i*.pid; do
        i=${f##*/i}
        i=${i%.pid}
        instance_pid "$i" >/dev/null && echo "$i"
    done | sort -n ;;
*) die "start, stop, instance or alive" ;;
esac
