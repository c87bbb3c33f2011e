#!/usr/bin/env bash
# chaos.sh [options] — the delivery promise under fire (issue 3).
#
# Runs the real parley-server behind parley-chaos-proxy (drops, delays,
# stalls, refused connections), N parley-chat clients each on its own data
# dir, SIGKILLs clients mid-send and restarts them on the same data dir,
# restarts the server (SIGKILL and SIGTERM, same db and port), and posts
# agent messages through the HTTP API that the clients must receive. Then it
# counts, from the server's HTTP API and the clients' --json output, what was
# sent, received, lost, duplicated and reordered, and ends with one line:
#   chaos: sent=N received=N lost=0 duplicated=0 reordered=0
# Exit status: 0 all promises kept, 1 a promise broken, 2 harness failure,
# 77 a tool is missing. See test/chaos/README.md for what each count means.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

usage() {
    cat <<EOF
usage: chaos.sh [options]
  --build DIR          build with examples/parley-{server,chat} (default:
                       \$PARLEY_CHAOS_BUILD or build/release)
  --proxy FILE         parley-chaos-proxy (default DIR/test/chaos/parley-chaos-proxy)
  --work DIR           scratch dir, wiped first (default DIR/chaos)
  --seed N             seed for every random choice (default: from the clock)
  --clients N          concurrent clients (default 20)
  --messages N         messages per client (default 100)
  --agent-messages N   agent messages per client (default 5)
  --duration S         sending phase length in seconds (default 60)
  --kills N            client SIGKILLs (default 2 x clients)
  --server-restarts N  server restarts, SIGKILL and SIGTERM in turn (default 4)
  --short              4 clients x 25 messages, 3 agent messages each, 1 kill,
                       1 server restart, 12 s (the ctest)
  --cluster            3 instances on one store with Redis behind HAProxy
                       (scripts/cluster.sh) instead of one server: the proxy
                       sits in front of HAProxy, each restart takes the next
                       instance down (admin drain, SIGKILL, SIGTERM in turn)
                       and back, and each agent message is posted on an
                       instance the user is not connected to
EOF
}

build=${PARLEY_CHAOS_BUILD:-$root/build/release}
proxy_bin= work= seed=$(( $(date +%s) % 1000000 ))
clients=20 messages=100 agent_msgs=5 duration=60 kills= restarts=4 cluster=0
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift ;;
    --proxy) proxy_bin=$2; shift ;;
    --work) work=$2; shift ;;
    --seed) seed=$2; shift ;;
    --clients) clients=$2; shift ;;
    --messages) messages=$2; shift ;;
    --agent-messages) agent_msgs=$2; shift ;;
    --duration) duration=$2; shift ;;
    --kills) kills=$2; shift ;;
    --server-restarts) restarts=$2; shift ;;
    --cluster) cluster=1 ;;
    --short) clients=4 messages=25 agent_msgs=3 duration=12 kills=1 restarts=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "chaos.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
for n in "$seed" "$clients" "$messages" "$agent_msgs" "$duration" "${kills:-0}" "$restarts"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "chaos.sh: not a number: $n" >&2; exit 2; }
done
[ "$clients" -ge 1 ] && [ "$clients" -le 99 ] || { echo "chaos.sh: 1..99 clients" >&2; exit 2; }
[ "$messages" -le 9999 ] && [ "$agent_msgs" -le 9999 ] || { echo "chaos.sh: at most 9999 messages" >&2; exit 2; }
kills=${kills:-$((2 * clients))}
build=$(cd "$build" 2>/dev/null && pwd) || { echo "chaos.sh: no build dir" >&2; exit 2; }
proxy_bin=${proxy_bin:-$build/test/chaos/parley-chaos-proxy}
work=${work:-$build/chaos}
server_bin=$build/examples/parley-server
chat_bin=$build/examples/parley-chat
token=chaos-token

for tool in openssl curl jq timeout; do
    command -v "$tool" >/dev/null 2>&1 || { echo "chaos.sh: $tool is needed" >&2; exit 77; }
done
for b in "$server_bin" "$chat_bin" "$proxy_bin"; do
    [ -x "$b" ] || { echo "chaos.sh: build first: $b is missing" >&2; exit 2; }
done

if [ "$cluster" = 1 ]; then
    command -v haproxy >/dev/null && command -v redis-server >/dev/null ||
        { echo "chaos.sh: --cluster needs haproxy and redis-server (make deps)" >&2; exit 77; }
fi

RANDOM=$seed
rnd() { echo $(( RANDOM * 32768 + RANDOM )); } # 30 bits from the seeded stream
echo "chaos: seed=$seed clients=$clients messages=$messages agent_messages=$agent_msgs" \
     "duration=${duration}s kills=$kills server_restarts=$restarts$([ "$cluster" = 1 ] && echo " cluster")" \
     "(replay: --seed $seed)"

log() { printf 'chaos: [%3ds] %s\n' $(( SECONDS - t0 )) "$*"; }
die() { echo "chaos.sh: $*" >&2; exit 2; }

# ---- processes: each background job in its own process group, all killed
# on any exit; every wait below has a deadline.
set -m
server_pid= proxy_pid= watchdog=
sup_pids=()
final_pids=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for p in "${sup_pids[@]}" "${final_pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
    [ -n "$server_pid" ] && kill -KILL -- "-$server_pid" 2>/dev/null
    [ "$cluster" = 1 ] && "$cluster_sh" stop "$work/cluster" >/dev/null 2>&1
    [ -n "$proxy_pid" ] && kill -TERM -- "-$proxy_pid" 2>/dev/null
    kill -KILL -- "-$watchdog" 2>/dev/null
    wait 2>/dev/null
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 2' TERM
# The last fence: however a step misbehaves, the run ends in bounded time.
budget=${PARLEY_CHAOS_BUDGET:-$((2 * duration + 150))}
( sleep "$budget"; echo "chaos.sh: over the time budget of $budget s, stopping" >&2; kill -TERM $$ ) &
watchdog=$!

wait_file() { # FILE SECONDS PID: the port in a ready file
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        if [ -s "$1" ]; then cat "$1"; return 0; fi
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

rm -rf "$work"
mkdir -p "$work"
sh "$root/scripts/gen-certs.sh" "$work" chaos >/dev/null || die "certificate generation failed"
ca=$work/chaos-ca.pem

server_port=0
start_server() { # binds the same port on every restart; a port in TIME_WAIT may need retries
    local try
    for try in 1 2 3 4 5 6 7 8 9 10; do
        rm -f "$work/server.ready"
        "$server_bin" --port "$server_port" --ready-file "$work/server.ready" --db "$work/server.db" \
            --cert "$work/chaos-server.pem" --key "$work/chaos-server.key" --agent-token "$token" \
            --insecure-identities >>"$work/server.log" 2>&1 &
        server_pid=$!
        local port
        if port=$(wait_file "$work/server.ready" 20 "$server_pid"); then
            server_port=$(grep -o '[0-9]\+' <<<"$port" | head -n 1)
            return 0
        fi
        kill -KILL -- "-$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null
        server_pid=
        sleep 0.5
    done
    return 1
}
# ---- several instances (--cluster): scripts/cluster.sh runs them, the
# store and Redis, and HAProxy, which the proxy forwards to.
cluster_sh=$root/scripts/cluster.sh
cluster_dir=$work/cluster
inst_port() { sed -n 's/^INSTANCE_PORTS=//p' "$cluster_dir/cluster.env" | tr -d "'" | cut -d' ' -f"$1"; }
alive_port() { # the port of a running instance, for the API
    local i
    i=$("$cluster_sh" alive "$cluster_dir" | head -n 1)
    [ -n "$i" ] && inst_port "$i"
}
start_cluster() {
    local rc=0
    upstream_port=$("$cluster_sh" start "$cluster_dir" --build "$build" --instances 3 \
        --cert "$work/chaos-server.pem" --key "$work/chaos-server.key" --agent-token "$token" \
        --drain-window-ms 1000 2>"$work/cluster.err") || rc=$?
    [ "$rc" = 77 ] && { cat "$work/cluster.err" >&2; exit 77; }
    [ "$rc" = 0 ] || die "the cluster did not start: $(tail -n 3 "$work/cluster.err")"
    server_port=$(inst_port 1)
}

if [ "$cluster" = 1 ]; then
    start_cluster
else
    start_server || die "the server did not start (see $work/server.log)"
    upstream_port=$server_port
fi

"$proxy_bin" --port 0 --upstream "127.0.0.1:$upstream_port" --ready-file "$work/proxy.ready" \
    --seed "$seed" --refuse-every-ms 8000 --refuse-ms 700 2>"$work/proxy.log" &
proxy_pid=$!
proxy_port=$(wait_file "$work/proxy.ready" 10 "$proxy_pid") || die "the proxy did not start"
proxy_port=$(grep -o '[0-9]\+' <<<"$proxy_port" | head -n 1)
url=wss://localhost:$proxy_port
t0=$SECONDS
if [ "$cluster" = 1 ]; then
    log "cluster: instances on $(inst_port 1) $(inst_port 2) $(inst_port 3)," \
        "store $(sed -n 's/^STORE=//p' "$cluster_dir/cluster.env"), HAProxy on $upstream_port;" \
        "proxy on $proxy_port; work dir $work"
else
    log "server on 127.0.0.1:$server_port, proxy on $proxy_port; work dir $work"
fi

# ---- clients --------------------------------------------------------------
# A client's runs write uNN/run-K.out (--json events), uNN/run-K.kind (send,
# drain or final), uNN/run-K.{start,end} (ms) and uNN/run-K.rc; while a run
# is up, uNN/pid and uNN/live (its kind) tell the killer.
send_args=()
[ "$cluster" = 1 ] && send_args=(--wait-replies 0)
interval=$(awk -v d="$duration" -v m="$messages" 'BEGIN { printf "%.3f", m ? d * 0.7 / m : 1 }')
send_deadline=$(( $(date +%s) + duration ))

chat_run() { # DIR KIND RUN TIMEOUT: runs parley-chat on stdin, records rc
    local dir=$1 kind=$2 run=$3 to=$4 user
    user=$(basename "$dir")
    echo "$kind" >"$dir/run-$run.kind"
    date +%s%3N >"$dir/run-$run.start"
    "$chat_bin" --url "$url" --ca "$ca" --user "$user" --data-dir "$dir/data" --json \
        --reconnect 100:1000 --timeout "$to" "${@:5}" <&0 >"$dir/run-$run.out" 2>"$dir/run-$run.err" &
    local pid=$!
    echo "$kind" >"$dir/live"
    echo "$pid" >"$dir/pid"
    wait "$pid" 2>/dev/null
    local rc=$?
    echo "$rc" >"$dir/run-$run.rc"
    date +%s%3N >"$dir/run-$run.end"
    rm -f "$dir/pid"
    return "$rc"
}

generator() { # DIR FIRST: one line per interval, its index noted before writing
    local dir=$1 k name
    name=$(basename "$dir")
    for ((k = $2; k < messages; k++)); do
        echo "$k" >>"$dir/written" # appended: a kill cannot leave it empty
        printf '%s-m%04d\n' "$name" "$k" || return 0
        sleep "$interval"
    done
}

supervise() { # N: sends all messages, draining the outbox after every failed run
    local dir=$work/$1 next=0 run=0 rc rc_written drains=0 need_drain=0
    mkdir -p "$dir/data"
    echo -1 >"$dir/written"
    while :; do
        if [ "$need_drain" = 1 ] && [ "$drains" -lt 5 ]; then
            run=$((run + 1)) drains=$((drains + 1))
            chat_run "$dir" drain "$run" 20 </dev/null && need_drain=0
            continue
        fi
        [ "$next" -ge "$messages" ] && break
        [ "$(date +%s)" -ge $((send_deadline + 30)) ] && break
        run=$((run + 1)) drains=0
        rm -f "$dir/fifo" && mkfifo "$dir/fifo"
        generator "$dir" "$next" >"$dir/fifo" &
        local gen=$!
        # --cluster: a run ends once its outbox is empty, not after waiting
        # for an answer to its last line (an agent's conversation has no
        # bot to give one): the run stays within the time budget.
        chat_run "$dir" send "$run" 20 ${send_args[@]+"${send_args[@]}"} <"$dir/fifo"
        rc=$?
        kill "$gen" 2>/dev/null; wait "$gen" 2>/dev/null
        rc_written=$(tail -n 1 "$dir/written")
        [[ $rc_written =~ ^-?[0-9]+$ ]] && next=$((rc_written + 1))
        [ "$rc" = 0 ] || need_drain=1
    done
    echo done >"$dir/finished"
}

# One more client sends a file (issue 16) through the same faults: its first
# run is SIGKILLed mid-upload, later runs drain the outbox on the same data
# dir until one ends well. The accounting wants the file at the server
# exactly once, byte for byte.
att_dir=$work/att
att_file=$work/att-upload.bin
att_size=$(( duration >= 30 ? 5000000 : 1000000 ))
head -c "$att_size" /dev/urandom >"$att_file"
att_sha=$(sha256sum "$att_file" | cut -d' ' -f1)
supervise_attachment() {
    local run=1 rc
    mkdir -p "$att_dir/data"
    chat_run "$att_dir" send 1 60 --attach "$att_file" --send "att-note" </dev/null &
    local first=$!
    sleep 1.5
    pid=$(cat "$att_dir/pid" 2>/dev/null) && kill -KILL "$pid" 2>/dev/null && log "SIGKILL the attachment client (pid $pid)"
    wait "$first"
    rc=$(cat "$att_dir/run-1.rc" 2>/dev/null || echo 1)
    while [ "$rc" != 0 ] && [ "$run" -lt 10 ]; do
        run=$((run + 1))
        chat_run "$att_dir" drain "$run" 30 </dev/null
        rc=$?
    done
    echo "$rc" >"$att_dir/finished"
}
if [ "$cluster" = 0 ]; then
    supervise_attachment &
    sup_pids+=($!)
else
    mkdir -p "$att_dir" && echo 0 >"$att_dir/finished"
fi

names=()
for ((i = 1; i <= clients; i++)); do
    names+=("$(printf 'u%02d' "$i")")
done
for n in "${names[@]}"; do
    supervise "$n" &
    sup_pids+=($!)
done

# ---- the schedule: kills, server restarts and agent posts at seeded times
# (tenths of a second into the sending phase).
sched=$work/schedule
: >"$sched"
span=$((duration * 10))
# Kills land while messages are still being typed (the first 70%).
for ((k = 0; k < kills; k++)); do echo "$(( $(rnd) % (span * 6 / 10) + 10 )) kill" >>"$sched"; done
for ((k = 0; k < restarts; k++)); do
    sig=KILL; [ $((k % 2)) = 1 ] && sig=TERM
    echo "$(( (k + 1) * span / (restarts + 1) )) restart-$sig" >>"$sched"
done
for n in "${names[@]}"; do
    # --cluster: while the clients type, so that most find their user
    # connected to some instance and are posted on another one.
    for ((k = 0; k < agent_msgs; k++)); do
        echo "$(( $(rnd) % (cluster ? span * 6 / 10 : span) + 20 )) post-$n" >>"$sched"
    done
done
sort -n -o "$sched" "$sched"

declare -A agent_next
: >"$work/agent-sent"
current_conv() { # NAME: the newest conversation the client reported
    cat "$work/$1"/run-*.out 2>/dev/null |
        jq -r 'select(.type=="conversation" and .state=="started") | .conv // empty' 2>/dev/null |
        tail -n 1
}

# --cluster: an instance the user is not connected to (its client may be
# between connections: then any running one).
agent_port() { # NAME
    local i on= others=() p
    for i in $("$cluster_sh" alive "$cluster_dir"); do
        [ -e "$cluster_dir/down-$i" ] && continue
        p=$(inst_port "$i")
        if curl -sS --max-time 2 --cacert "$ca" -H "Authorization: Bearer $token" \
            "https://localhost:$p/api/admin/online/$1" 2>/dev/null | grep -q '"online":true'; then
            on=$i
        else
            others+=("$p")
        fi
    done
    [ ${#others[@]} -gt 0 ] || return 1
    [ -n "$on" ] && echo "cross" >>"$work/agent-where" || echo "user-offline" >>"$work/agent-where"
    echo "${others[$(( $(rnd) % ${#others[@]} ))]}"
}

post_send() { # NAME CONV TEXT PORT: recorded only when the server answered 201
    local code
    # A failed POST may still have been stored: its text is never reused.
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ca" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        --data-binary "{\"text\":\"$3\",\"name\":\"Chaos\"}" \
        "https://localhost:$4/api/conversations/$2/messages" 2>/dev/null)
    if [ "$code" = 201 ]; then
        echo "$1 $2 $3 $(date +%s%3N)" >>"$work/agent-sent"
    else
        log "post $3 to $1 failed (HTTP ${code:-none})"
    fi
}

# --cluster: each post in the background (finding the user's instance takes
# a few requests, and the schedule must keep time), after the previous post
# to the same user has ended, so that a user's posts stay in order.
declare -A post_prev
post_pids=()
post_agent() { # NAME: one agent message
    local n=$1 conv k text port
    conv=$(current_conv "$n")
    [ -n "$conv" ] || { log "post to $n skipped: no conversation yet"; return; }
    k=${agent_next[$n]:-0}
    agent_next[$n]=$((k + 1))
    text=$(printf 'a%s-m%04d' "${n#u}" "$k")
    if [ "$cluster" = 0 ]; then
        post_send "$n" "$conv" "$text" "$server_port"
        return
    fi
    (
        prev=${post_prev[$n]:-}
        while [ -n "$prev" ] && kill -0 "$prev" 2>/dev/null; do sleep 0.05; done
        port=$(agent_port "$n") || { log "post $text to $n skipped: no instance runs"; exit 0; }
        post_send "$n" "$conv" "$text" "$port"
    ) &
    post_prev[$n]=$!
    post_pids+=($!)
}

kill_client() { # the first live client from a random one on, preferably mid-send
    local k n pid kind
    for kind in send drain; do
        local from=$(( $(rnd) % clients ))
        for ((k = 0; k < clients; k++)); do
            n=${names[$(( (from + k) % clients ))]}
            pid=$(cat "$work/$n/pid" 2>/dev/null) || continue
            [ "$(cat "$work/$n/live" 2>/dev/null)" = "$kind" ] || continue
            kill -KILL "$pid" 2>/dev/null || continue
            log "SIGKILL client $n (pid $pid, $kind run)"
            return
        done
    done
    log "kill skipped: no live client"
}

restart_server() { # SIG
    log "server: SIG$1"
    local i
    { # the shell's "Killed" notice is noise here
        kill "-$1" -- "-$server_pid"
        for ((i = 0; i < 100; i++)); do kill -0 "$server_pid" || break; sleep 0.1; done
        kill -KILL -- "-$server_pid"
        wait "$server_pid"
    } 2>/dev/null
    sleep "0.$(( $(rnd) % 10 ))"
    start_server || die "the server did not restart on port $server_port"
    log "server: back on $server_port"
}

# --cluster: the next instance goes down (the admin's drain, SIGKILL,
# SIGTERM in turn) and comes back on its port.
restart_instance() { # K: the K-th restart
    local i=$(( $1 % 3 + 1 )) how
    how=$(echo drain kill term | cut -d' ' -f$(( $1 % 3 + 1 )))
    log "instance $i: $how"
    : >"$cluster_dir/down-$i" # no agent posts there meanwhile
    "$cluster_sh" instance "$cluster_dir" "$i" "$how" >/dev/null
    "$cluster_sh" instance "$cluster_dir" "$i" wait-gone || die "instance $i did not stop"
    sleep "0.$(( $(rnd) % 10 ))"
    "$cluster_sh" instance "$cluster_dir" "$i" start || die "instance $i did not restart"
    rm -f "$cluster_dir/down-$i"
    log "instance $i: back on $(inst_port "$i")"
}
n_restart=0
restart_pids=()

start_ms=$(date +%s%N)
while read -r at what; do
    now=$(( ($(date +%s%N) - start_ms) / 100000000 ))
    [ "$at" -gt "$now" ] && sleep "$(awk -v d=$((at - now)) 'BEGIN { printf "%.1f", d / 10 }')"
    case $what in
    kill) kill_client ;;
    restart-*)
        if [ "$cluster" = 1 ]; then
            # In the background: a drain takes seconds, the posts go on.
            restart_instance "$n_restart" &
            restart_pids+=($!)
        else
            restart_server "${what#restart-}"
        fi
        n_restart=$((n_restart + 1)) ;;
    post-*) post_agent "${what#post-}" ;;
    esac
done <"$sched"

for p in "${restart_pids[@]}"; do
    wait "$p" || die "an instance did not come back"
done
for p in "${post_pids[@]}"; do wait "$p"; done
# ---- wind down: every supervisor ends on its own within its bounds
log "schedule done; waiting for the clients to finish sending"
limit=$((SECONDS + duration + 120))
for n in "${names[@]}" att; do
    while [ ! -e "$work/$n/finished" ] && [ "$SECONDS" -lt "$limit" ]; do sleep 0.5; done
done
for p in "${sup_pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
wait "${sup_pids[@]}" 2>/dev/null
sup_pids=()

# One last run per client, no faults in the way but the proxy's: what
# arrived while a client was away must show up now.
log "final runs: collecting agent messages"
declare -A final_run
for n in "${names[@]}"; do
    r=$(( $(ls "$work/$n"/run-*.kind 2>/dev/null | wc -l) + 1 ))
    final_run[$n]=$r
    chat_run "$work/$n" final "$r" 0 --wait-replies 1000000 </dev/null &
    final_pids+=($!)
done
seen_all() { # NAME: every agent message posted to it is in its output
    local want
    want=$(awk -v n="$1" '$1 == n { print $3 }' "$work/agent-sent" | sort -u)
    [ -z "$want" ] && return 0
    [ -z "$(comm -23 <(echo "$want") \
        <(cat "$work/$1"/run-*.out 2>/dev/null | grep -o '"text":"a[0-9]*-m[0-9]*"' |
          cut -d'"' -f4 | sort -u))" ]
}
limit=$((SECONDS + 15))
while [ "$SECONDS" -lt "$limit" ]; do
    all=1
    for n in "${names[@]}"; do seen_all "$n" || { all=0; break; }; done
    [ "$all" = 1 ] && { sleep 1; break; } # a moment for late duplicates
    sleep 0.5
done
for n in "${names[@]}"; do
    pid=$(cat "$work/$n/pid" 2>/dev/null) && kill -TERM "$pid" 2>/dev/null
done
limit=$((SECONDS + 10))
for p in "${final_pids[@]}"; do
    while kill -0 "$p" 2>/dev/null && [ "$SECONDS" -lt "$limit" ]; do sleep 0.2; done
    kill -KILL -- "-$p" 2>/dev/null
done
wait "${final_pids[@]}" 2>/dev/null
final_pids=()
kill -TERM -- "-$proxy_pid" 2>/dev/null
wait "$proxy_pid" 2>/dev/null
proxy_pid=
tail -n 1 "$work/proxy.log" | sed 's/^/chaos: /'

# ---- accounting -------------------------------------------------------------
[ "$cluster" = 1 ] && server_port=$(alive_port)
api() { # PATH [CURL ARGS...]
    curl -sS --fail --max-time 10 --cacert "$ca" -H "Authorization: Bearer $token" "${@:2}" \
        "https://localhost:$server_port/api$1"
}
# Every page of the list ({"items","next"}), the ids one a line.
: >"$work/conversations.txt"
cursor=
while :; do
    api "/conversations?limit=200${cursor:+&cursor=$cursor}" >"$work/conversations.json" ||
        die "GET /api/conversations failed"
    jq -r '.items[].id' "$work/conversations.json" >>"$work/conversations.txt"
    cursor=$(jq -r '.next // empty' "$work/conversations.json")
    [ -n "$cursor" ] || break
done
: >"$work/server-user.tsv"
# A whole transcript, oldest first: the route answers a page (the newest
# 1000 at most), and its Link header (rel="prev") names the page before,
# until the first.
transcript() { # CONV
    local path="/conversations/$1/messages?limit=1000" n=0 i
    while [ -n "$path" ]; do
        api "$path" -D "$work/page-head" >"$work/page-$n.json" || return 1
        path=$(sed -n 's|^[Ll]ink: </api\([^>]*\)>; rel="prev".*|\1|p' "$work/page-head")
        n=$((n + 1))
    done
    for ((i = n - 1; i >= 0; i--)); do cat "$work/page-$i.json"; done | jq -s 'add'
}
for conv in $(cat "$work/conversations.txt"); do
    transcript "$conv" >"$work/msgs-$conv.json" || die "GET messages of $conv failed"
    jq -r --arg c "$conv" '.[] | select(.author.kind=="user") | [$c, .seq, .text] | @tsv' \
        "$work/msgs-$conv.json" >>"$work/server-user.tsv"
done

# User -> agent. Accepted = the client printed the pending status for it.
cat "$work"/u*/run-*.out 2>/dev/null |
    jq -r 'select(.type=="message_status" and .state=="pending") | .sent_text // empty' 2>/dev/null |
    grep -E '^u[0-9]+-m[0-9]+$' | sort -u >"$work/user-accepted"
cut -f3 "$work/server-user.tsv" | grep -E '^u[0-9]+-m[0-9]+$' | sort >"$work/user-arrived-all"
sort -u "$work/user-arrived-all" >"$work/user-arrived"
u_sent=$(wc -l <"$work/user-accepted")
u_recv=$(comm -12 "$work/user-accepted" "$work/user-arrived" | wc -l)
u_extra=$(comm -13 "$work/user-accepted" "$work/user-arrived" | wc -l)
u_lost=$(comm -23 "$work/user-accepted" "$work/user-arrived" | wc -l)
u_dup=$(( $(wc -l <"$work/user-arrived-all") - $(wc -l <"$work/user-arrived") ))
comm -23 "$work/user-accepted" "$work/user-arrived" >"$work/user-lost"
uniq -d "$work/user-arrived-all" >"$work/user-duplicated"
# Per conversation, in seq order, a user's message index must only grow.
u_reord=$(sort -t $'\t' -k1,1 -k2,2n "$work/server-user.tsv" | awk -F'\t' '
    $3 ~ /^u[0-9]+-m[0-9]+$/ {
        split($3, p, "-m"); key = $1 " " p[1]; idx = p[2] + 0
        if (key in max && idx < max[key]) { bad++; print > "/dev/stderr" } else max[key] = idx
    } END { print bad + 0 }' 2>"$work/user-reordered")

# Agent -> user, per client over all its runs. A message seen twice in one
# run, or again after a run that ended normally, is a duplicate; seen again
# only after a run died by SIGKILL, it is a redelivery (the host never got
# to confirm it) and is reported apart.
: >"$work/agent-seen.tsv"
for n in "${names[@]}"; do
    for out in $(ls "$work/$n"/run-*.out 2>/dev/null | sort -t- -k2 -n); do
        r=${out##*/run-}; r=${r%.out}
        rc=$(cat "$work/$n/run-$r.rc" 2>/dev/null || echo none)
        jq -r --arg n "$n" --arg r "$r" --arg rc "$rc" \
            'select(.type=="message" and .author=="agent") | [$n, $r, $rc, .conv, .text] | @tsv' \
            "$out" 2>/dev/null | grep -P '\ta[0-9]+-m[0-9]+$' >>"$work/agent-seen.tsv"
    done
done
read -r a_sent a_recv a_lost a_dup a_redeliv a_reord a_extra < <(awk -F'\t' '
    FILENAME == ARGV[1] { sent[$1 "\t" $2] = 1; ns++; next }
    {
        key = $1 "\t" $5
        if (!(key in sent)) { extra[key] = 1; next }
        if (key in seen_run && seen_run[key] == $2) { dup++; print "dup-in-run " $0 > "/dev/stderr" }
        else if (key in seen_run && !killed[key]) { dup++; print "dup-after-restart " $0 > "/dev/stderr" }
        else if (key in seen_run) { redeliv++ }
        if (!(key in seen_run)) recv++
        seen_run[key] = $2; killed[key] = ($3 == 137)
        ck = $1 "\t" $4; split($5, p, "-m"); idx = p[2] + 0
        if (!(key in ordered)) {
            ordered[key] = 1
            if (ck in amax && idx < amax[ck]) { reord++; print "reordered " $0 > "/dev/stderr" }
            else amax[ck] = idx
        }
    }
    END {
        for (k in sent) if (!(k in seen_run)) { lost++; print "lost " k > "/dev/stderr" }
        n = 0; for (k in extra) n++
        print ns + 0, recv + 0, lost + 0, dup + 0, redeliv + 0, reord + 0, n
    }' <(awk '{ print $1 "\t" $3 }' "$work/agent-sent") \
       <(sort -s -t $'\t' -k1,1 -k2,2n "$work/agent-seen.tsv") 2>"$work/agent-problems")

# A lost agent message was posted either while a run of its client that
# had its conversation was up (lost live: nothing excuses that) or while
# none was (it had to wait for a later start).
lost_live=0
while read -r _ n text; do
    read -r conv t < <(awk -v x="$text" '$3 == x { print $2, $4 }' "$work/agent-sent")
    for s in "$work/$n"/run-*.start; do
        b=${s%.start}
        [ "$(cat "$s")" -le "$t" ] || continue
        [ ! -s "$b.end" ] || [ "$t" -le "$(cat "$b.end")" ] || continue
        grep -q "$conv" "$b.out" || continue
        lost_live=$((lost_live + 1))
        echo "lost-while-online $n $text" >>"$work/agent-problems"
        break
    done
done < <(grep '^lost ' "$work/agent-problems")

# The file: exactly one message carries it, and the server serves its bytes.
cross=0
if [ "$cluster" = 1 ]; then
    cross=$(grep -c cross "$work/agent-where" 2>/dev/null)
    log "cluster: agent posts on an instance other than the user's: $cross" \
        "(user between connections: $(grep -c offline "$work/agent-where" 2>/dev/null));" \
        "fan-out: $(grep -h 'fan-out: published' "$cluster_dir"/i*.log | awk '{ p += $4; r += $6 } END { print "published=" p + 0, "received=" r + 0 }') (instances that exited)"
fi
att_msgs=$(cat "$work"/msgs-*.json | jq -r --arg s "$att_sha" '.[] | select(.attachment.sha256 == $s) | .attachment.id' | wc -l)
att_id=$(cat "$work"/msgs-*.json | jq -r --arg s "$att_sha" '.[] | select(.attachment.sha256 == $s) | .attachment.id' | head -n 1)
att_served=$( [ -n "$att_id" ] && api "/attachments/$att_id" | sha256sum | cut -d' ' -f1)
att_runs=$(ls "$att_dir"/run-*.kind 2>/dev/null | wc -l)
att_bad=0
if [ "$cluster" = 0 ] && { [ "$att_msgs" != 1 ] || [ "$att_served" != "$att_sha" ]; }; then
    att_bad=1
fi
[ "$cluster" = 1 ] ||
    log "attachment: ${att_size} bytes in $att_runs runs (the first SIGKILLed): messages=$att_msgs" \
        "intact=$([ "$att_served" = "$att_sha" ] && echo yes || echo no)"

runs=$(ls "$work"/u*/run-*.kind | wc -l)
killed=$(grep -lx 137 "$work"/u*/run-*.rc 2>/dev/null | wc -l)
log "runs=$runs killed_runs=$killed server_restarts=$restarts"
log "user->agent: accepted=$u_sent arrived=$u_recv lost=$u_lost duplicated=$u_dup" \
    "reordered=$u_reord (arrived but never confirmed pending: $u_extra)"
log "agent->user: posted=$a_sent seen=$a_recv lost=$a_lost duplicated=$a_dup" \
    "reordered=$a_reord (lost while a run was up: $lost_live; redelivered after a SIGKILL:" \
    "$a_redeliv; unrecorded posts seen: $a_extra)"
for f in user-lost user-duplicated user-reordered agent-problems; do
    [ -s "$work/$f" ] && log "details: $work/$f ($(wc -l <"$work/$f") lines)"
done
sent=$((u_sent + a_sent)) received=$((u_recv + a_recv))
lost=$((u_lost + a_lost)) dup=$((u_dup + a_dup)) reord=$((u_reord + a_reord))
echo "chaos: sent=$sent received=$received lost=$lost duplicated=$dup reordered=$reord" \
     "attachment=$([ "$cluster" = 1 ] && echo skipped || { [ "$att_bad" = 0 ] && echo intact-once || echo BROKEN; })"
# A cluster run where no agent message crossed instances proved nothing.
if [ "$cluster" = 1 ] && [ "$cross" = 0 ]; then
    echo "chaos: no agent message was posted on an instance other than its user's" >&2
    exit 1
fi
[ $((lost + dup + reord + att_bad)) -eq 0 ]
