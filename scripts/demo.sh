#!/usr/bin/env bash
# demo.sh BUILD_DIR (what `make demo` runs)
#
# A support chat, end to end, on localhost over real TLS:
#   1. a throw-away CA and a certificate for `localhost`;
#   2. parley-server (bot + agent HTTP API + SQLite) on a free port;
#   3. a player writes in with parley-chat; the bot answers;
#   4. the player's app runs again, and a human agent answers the complaint
#      through the HTTP API: the reply reaches the connected client live.
# Everything is bounded in time; the server is always stopped; the exit
# status is non-zero when any step failed. Files stay in BUILD_DIR/demo.
set -euo pipefail

build=${1:?usage: scripts/demo.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
server_bin=$build/examples/parley-server
chat_bin=$build/examples/parley-chat
demo=$build/demo
token=demo-token
server_pid=
player_pid=

if [ -t 1 ]; then
    bold=$'\e[1m' dim=$'\e[2m' green=$'\e[32m' red=$'\e[31m' reset=$'\e[0m'
else
    bold= dim= green= red= reset=
fi

step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
say() { printf '    %s\n' "$*"; }
show() { awk '{ print "    | " $0 }' "$@"; }
fail() {
    printf '\n%sdemo failed: %s%s\n' "$red" "$*" "$reset" >&2
    if [ -s "$demo/server.log" ]; then
        printf '%s(end of the server log)%s\n' "$dim" "$reset" >&2
        tail -n 20 "$demo/server.log" | sed 's/^/    /' >&2
    fi
    exit 1
}

cleanup() {
    local rc=$?
    for pid in $player_pid $server_pid; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $player_pid $server_pid; do
        wait "$pid" 2>/dev/null || true
    done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in openssl curl; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is needed (make deps installs it)"
done
[ -x "$server_bin" ] && [ -x "$chat_bin" ] || fail "build first: $server_bin and $chat_bin are missing"

# timeout(1) is a second fence around each client; the clients' own
# --timeout is the first.
bounded() {
    if command -v timeout >/dev/null 2>&1; then timeout 60 "$@"; else "$@"; fi
}

api() { # METHOD PATH [JSON]
    local args=(-sS --fail --max-time 10 --cacert "$demo/demo-ca.pem"
                -H "Authorization: Bearer $token" -X "$1")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    curl "${args[@]}" "https://localhost:$port$2"
}

# ---------------------------------------------------------------------------
step "Making a throw-away CA and a certificate for localhost"
rm -rf "$demo"
mkdir -p "$demo"
sh "$here/gen-certs.sh" "$demo" demo || fail "certificate generation"
say "CA:     $demo/demo-ca.pem"
say "server: $demo/demo-server.pem (CN=localhost, SAN DNS:localhost)"

# ---------------------------------------------------------------------------
step "Starting parley-server on a free port"
"$server_bin" --port 0 --ready-file "$demo/ready" --cert "$demo/demo-server.pem" \
    --key "$demo/demo-server.key" --db "$demo/support.db" --agent-token "$token" \
    >"$demo/server.log" 2>&1 &
server_pid=$!
port=
for _ in $(seq 1 200); do # 20 s
    if [ -s "$demo/ready" ]; then
        port=$(grep -o '[0-9]\+' "$demo/ready" | head -n 1 || true)
        [ -n "$port" ] && break
    fi
    kill -0 "$server_pid" 2>/dev/null || fail "the server exited during startup"
    sleep 0.1
done
[ -n "$port" ] || fail "the server did not get ready within 20 s"
url="wss://localhost:$port"
say "listening on $url (agent API: https://localhost:$port/api, token '$token')"

chat=("$chat_bin" --url "$url" --ca "$demo/demo-ca.pem" --user demo-user)

# ---------------------------------------------------------------------------
step "A player writes in (the bot answers)"
say "${dim}\$ parley-chat --url $url --ca demo-ca.pem --user demo-user --attr plan=vip \\"
say "      --send \"Hi, my gems never arrived\" --wait-replies 1 --timeout 20${reset}"
if ! bounded "${chat[@]}" --attr plan=vip --send "Hi, my gems never arrived" \
        --wait-replies 1 --timeout 20 >"$demo/player1.out" 2>"$demo/player1.err"; then
    show "$demo/player1.out" "$demo/player1.err"
    fail "the first client did not get its reply"
fi
show "$demo/player1.out"
conv=$(sed -n 's/^\[conversation\] started //p' "$demo/player1.out" | head -n 1)
[ -n "$conv" ] || fail "the first client did not report its conversation"

# ---------------------------------------------------------------------------
step "The agent's view: GET /api/conversations"
api GET /api/conversations >"$demo/conversations.json" || fail "the agent API did not answer"
say "$(grep -o '"user":"demo-user"' "$demo/conversations.json" | wc -l) conversation(s) of demo-user:"
show <(sed 's/},{/},\n{/g' "$demo/conversations.json")

# ---------------------------------------------------------------------------
step "The player reopens the app; a human agent answers the complaint live"
say "${dim}\$ parley-chat --url $url --ca demo-ca.pem --user demo-user --wait-replies 1 --timeout 20 </dev/null &${reset}"
"${chat[@]}" --wait-replies 1 --timeout 20 </dev/null >"$demo/player2.out" 2>"$demo/player2.err" &
player_pid=$!
online=
for _ in $(seq 1 200); do # 20 s: until the server has welcomed the client
    if grep -q '^\[connection\] online' "$demo/player2.out" 2>/dev/null; then
        online=1
        break
    fi
    kill -0 "$player_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$online" ] || { show "$demo/player2.out" "$demo/player2.err"; fail "the player's client did not come online"; }
say "the player is online; agent Dana answers conversation $conv:"
agent_reply='{"text":"Hello, Dana from support here. I found the purchase: 500 gems are on their way!","name":"Dana"}'
say "${dim}\$ curl -X POST https://localhost:$port/api/conversations/$conv/messages \\"
say "      -H 'Authorization: Bearer $token' -d '$agent_reply'${reset}"
api POST "/api/conversations/$conv/messages" "$agent_reply" \
    >"$demo/agent-post.json" || fail "the agent's reply was refused"
show "$demo/agent-post.json"
echo
player_rc=0
wait "$player_pid" || player_rc=$?
player_pid=
say "what the player saw:"
show "$demo/player2.out"
[ "$player_rc" -eq 0 ] || { show "$demo/player2.err"; fail "the player's client exited with $player_rc"; }
grep -q '^\[agent Dana\]' "$demo/player2.out" || fail "the agent's reply did not reach the player"

# ---------------------------------------------------------------------------
step "The README's C example (examples/quickstart/quickstart.c), linked to libparley"
say "${dim}\$ parley-quickstart $url/ demo-ca.pem${reset}"
bounded "$build/examples/parley-quickstart" "$url/" "$demo/demo-ca.pem" \
    >"$demo/quickstart.out" 2>"$demo/quickstart.err" ||
    { show "$demo/quickstart.out" "$demo/quickstart.err"; fail "the quickstart example got no reply"; }
show "$demo/quickstart.out"

# ---------------------------------------------------------------------------
step "The conversation as stored by the server"
api GET "/api/conversations/$conv/messages" >"$demo/transcript.json" || fail "transcript"
# One line per message; the raw JSON if its shape is not the expected one.
transcript=$(sed 's/},{"id"/},\n{"id"/g' "$demo/transcript.json" | sed -nE \
    's/.*"seq":"([0-9]+)","author":\{"kind":"([a-z]+)"(,"name":"([^"]*)")?\},"text":"(([^"\\]|\\.)*)".*/#\1 \2 \4: \5/p' |
    sed -E 's/^(#[0-9]+ [a-z]+) :/\1:/')
if [ -n "$transcript" ]; then show <<<"$transcript"; else show "$demo/transcript.json"; fi

printf '\n%sDemo complete:%s bot greeting, live agent reply, all over wss://localhost:%s.\n' \
    "$green$bold" "$reset" "$port"
printf '%sFiles (certificates, database, logs) are in %s%s\n' "$dim" "$demo" "$reset"
