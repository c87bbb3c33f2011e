#!/usr/bin/env bash
# demo.sh [--serve] BUILD_DIR (what `make demo` runs, with --serve)
#
# A support chat, end to end, on localhost over real TLS:
#   1. a throw-away CA and a certificate for `localhost`;
#   2. a demo agent account (--add-agent, password on stdin), then
#      parley-server (bot + agent console and API + SLA clocks + triage and
#      routing + SQLite) on a free port;
#   3. triage and routing (--routing, docs/routing.md): a player asks how to
#      get a refund; the knowledge base answers first with "did this solve
#      it?", the player says no and the question goes to the human queue;
#   4. a VIP player whose purchase just failed writes in with parley-chat,
#      carrying their context (attributes, screen, breadcrumbs, the tracked
#      event): triage sends them straight to the payments team, ahead of
#      the queue, and the agent's view shows why (the rules that fired),
#      with the player's context and what the bot learned;
#   5. the player's app runs again and resumes the conversation; agent
#      Dana signs in (a session cookie and its CSRF token, as the console
#      does), takes it, answers and closes it; the player gets the CSAT
#      survey and answers it; the server's aggregate shows the score;
#   6. the README's C example and a game-loop example, linked to libparley;
#   7. the player writes again: a new conversation waits in the queue, and
#      the script ends with the console's URL and the demo agent's login.
# Everything is bounded in time; the exit status is non-zero when any step
# failed. The server is stopped at the end, or with --serve kept running
# (the console open to try) until Ctrl-C. Files stay in BUILD_DIR/demo,
# which each run deletes (saying so) and makes again.
set -euo pipefail

serve=
if [ "${1:-}" = "--serve" ]; then
    serve=1
    shift
fi
build=${1:?usage: scripts/demo.sh [--serve] BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
server_bin=$build/examples/parley-server
sla_file=$here/../examples/server/sla.json
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

api() { # METHOD PATH [JSON]: a script with the API token
    local args=(-sS --fail --max-time 10 --cacert "$demo/demo-ca.pem"
                -H "Authorization: Bearer $token" -X "$1")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    curl "${args[@]}" "https://localhost:$port$2"
}

# The demo agent, as the console signs in: POST /api/login sets the session
# cookie (kept in a cookie jar) and answers the CSRF token every change
# must carry. The password goes in a file, not on a command line.
agent_login() { # JAR
    local answer
    printf '{"name":"dana","password":"%s"}' "$agent_password" >"$demo/login.json"
    answer=$(curl -sS --fail --max-time 10 --cacert "$demo/demo-ca.pem" -c "$1" \
        -H 'Content-Type: application/json' --data-binary @"$demo/login.json" \
        "https://localhost:$port/api/login") || return 1
    rm -f "$demo/login.json"
    csrf=$(printf %s "$answer" | sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p')
    [ -n "$csrf" ]
}

agent_api() { # METHOD PATH [JSON]: as the signed-in agent
    local args=(-sS --fail --max-time 10 --cacert "$demo/demo-ca.pem" -b "$demo/dana.cookies"
                -X "$1")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -H "X-Parley-CSRF: $csrf"
                           --data-binary "$3")
    curl "${args[@]}" "https://localhost:$port$2"
}

# ---------------------------------------------------------------------------
step "Making a throw-away CA and a certificate for localhost"
if [ -e "$demo" ]; then
    say "deleting the previous demo's files in $demo"
fi
rm -rf "$demo"
mkdir -p "$demo"
sh "$here/gen-certs.sh" "$demo" demo || fail "certificate generation"
say "CA:     $demo/demo-ca.pem"
say "server: $demo/demo-server.pem (CN=localhost, SAN DNS:localhost)"

# ---------------------------------------------------------------------------
step "Adding the demo agent account (parley-server --add-agent ... --password-stdin)"
umask 077
agent_password=demo-$(openssl rand -hex 5)
say "${dim}\$ printf '%s\\n' \"\$password\" | parley-server --db support.db --add-agent dana --role admin \\"
say "      --display-name Dana --password-stdin${reset}"
printf '%s\n' "$agent_password" |
    "$server_bin" --db "$demo/support.db" --add-agent dana --role admin --display-name Dana \
        --password-stdin >"$demo/add-agent.out" 2>&1 ||
    { show "$demo/add-agent.out"; fail "the demo agent could not be added"; }
show "$demo/add-agent.out"

# ---------------------------------------------------------------------------
step "Starting parley-server on a free port"
# The app's backend and the server share a secret; the backend vouches for
# its user with a user hash (HMAC-SHA256 of the user id), so nobody else can
# sign in as demo-user. The server reads the secret from a file, not from
# its command line (which ps shows). The SLA policies are the shipped
# example's, so the console shows its countdowns.
openssl rand -hex 32 >"$demo/hmac-secret"
user_hash() { printf %s "$1" | openssl dgst -sha256 -hmac "$(cat "$demo/hmac-secret")" -r | cut -d' ' -f1; }
user_hash=$(user_hash demo-user)
"$server_bin" --port 0 --ready-file "$demo/ready" --cert "$demo/demo-server.pem" \
    --key "$demo/demo-server.key" --db "$demo/support.db" --agent-token "$token" \
    --hmac-secret-file "$demo/hmac-secret" --sla "$sla_file" \
    --routing "$here/../examples/server/routing.json" >"$demo/server.log" 2>&1 &
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

# The player's app keeps its state (outbox, last conversation) in a data dir.
chat=("$chat_bin" --url "$url" --ca "$demo/demo-ca.pem" --user demo-user --token "$user_hash"
      --data-dir "$demo/player-data")

# ---------------------------------------------------------------------------
step "Triage: a how-to question gets the knowledge base first; \"no\" sends it to a human"
reader=("$chat_bin" --url "$url" --ca "$demo/demo-ca.pem" --user demo-reader
        --token "$(user_hash demo-reader)" --data-dir "$demo/reader-data")
say "${dim}\$ parley-chat ... --user demo-reader --send 'How do I get a refund?' \\"
say "      --choose 'No, I still need help' --wait-replies 2${reset}"
if ! bounded "${reader[@]}" --send "How do I get a refund?" --choose "No, I still need help" \
    --wait-replies 2 --timeout 30 >"$demo/reader.out" 2>"$demo/reader.err"; then
    show "$demo/reader.out" "$demo/reader.err"
    fail "the how-to question did not go through"
fi
show "$demo/reader.out"
grep -q 'Did this solve it?' "$demo/reader.out" || fail "the knowledge base did not answer first"
grep -q '^\[conversation\] queued' "$demo/reader.out" || fail "\"no\" did not reach the queue"

# ---------------------------------------------------------------------------
step "A VIP player whose purchase just failed writes in with their context"
flow=(--attr plan=gold --attr vip=true --attr level=7 --screen shop/gems
      --breadcrumb "opened the shop" --breadcrumb "bought 500 gems"
      --event 'purchase_failed={"sku":"gems_500"}' --send "Hi, my gems never arrived"
      --wait-replies 1 --timeout 30)
say "${dim}\$ parley-chat --url $url --ca demo-ca.pem --user demo-user --token \$user_hash \\"
say "      --data-dir player-data --attr plan=gold --attr vip=true --attr level=7 \\"
say "      --screen shop/gems --breadcrumb 'opened the shop' --breadcrumb 'bought 500 gems' \\"
say "      --event 'purchase_failed={\"sku\":\"gems_500\"}' --send 'Hi, my gems never arrived' --wait-replies 1${reset}"
if ! bounded "${chat[@]}" "${flow[@]}" >"$demo/player1.out" 2>"$demo/player1.err"; then
    show "$demo/player1.out" "$demo/player1.err"
    fail "the player's message did not go through"
fi
show "$demo/player1.out"
conv=$(sed -n 's/^\[conversation\] started //p' "$demo/player1.out" | head -n 1)
[ -n "$conv" ] || fail "the first client did not report its conversation"
grep -q '^\[conversation\] queued' "$demo/player1.out" || fail "the conversation was not queued for an agent"
say "${dim}(No agent has the console open, so routing tells the player honestly that nobody of the"
say "team is online now, or when it opens, and queues the conversation all the same.)${reset}"

# ---------------------------------------------------------------------------
step "The agents' queue: the VIP first, in the payments team (GET /api/queue)"
api GET /api/queue >"$demo/queue.json" || fail "the queue API did not answer"
if command -v jq >/dev/null 2>&1; then
    jq -c '.[] | {position, user, team, priority, jump, score, wait_s}' "$demo/queue.json" | show
else
    show "$demo/queue.json"
fi
grep -q "^\[{\"conv\":\"$conv\"" "$demo/queue.json" || fail "the VIP is not first in the queue"

# ---------------------------------------------------------------------------
step "Why: the triage and the rules that fired (GET /api/conversations/$conv)"
api GET "/api/conversations/$conv" >"$demo/conversation.json" || fail "the agent API did not answer"
if command -v jq >/dev/null 2>&1; then
    jq -r '.triage | "complexity \(.complexity), severity \(.severity), effort \(.effort): score \(.score) -> \(.route), priority \(.priority), team \(.team)\(if .jump then ", VIP lane" else "" end)",
          (.reasons[] | "  - \(.rule): \(.text)")' "$demo/conversation.json" | show
    say "and the player's context beside it:"
    jq '{state, queue_position, user, bot_notes,
         user_context: (.user_context | {attributes, screen, breadcrumbs: [.breadcrumbs[]?.text], device}),
         events: [.events[]? | {name, meta}]}' "$demo/conversation.json" | show
else
    show "$demo/conversation.json"
fi
grep -q '"rule":"vip_failed_purchase"' "$demo/conversation.json" || fail "the reasons do not name the VIP rule"
grep -q '"team":"payments"' "$demo/conversation.json" || fail "the conversation is not the payments team's"
grep -q '"screen":"shop/gems"' "$demo/conversation.json" || fail "the agent does not see the player's screen"
grep -q '"purchase_failed"' "$demo/conversation.json" || fail "the agent does not see the tracked event"

# ---------------------------------------------------------------------------
step "The player reopens the app and resumes the conversation; agent Dana signs in, takes over, answers and closes; the player rates the help"
survey=(--resume --wait-replies 1 --answer q1=5 --answer q2=fixed --wait-surveys 1 --timeout 30)
say "${dim}\$ parley-chat --url $url --ca demo-ca.pem --user demo-user --token \$user_hash \\"
say "      --data-dir player-data --resume --wait-replies 1 --answer q1=5 --answer q2=fixed --wait-surveys 1 </dev/null &${reset}"
"${chat[@]}" "${survey[@]}" </dev/null >"$demo/player2.out" 2>"$demo/player2.err" &
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
say "${dim}\$ curl -c dana.cookies https://localhost:$port/api/login -d '{\"name\":\"dana\",\"password\":...}'${reset}"
agent_login "$demo/dana.cookies" || fail "the demo agent could not sign in"
agent_reply='{"text":"Hello, Dana from support here. I found the purchase: 500 gems are on their way!"}'
for call in "assign|{}" "messages|$agent_reply" "close|{}"; do
    what=${call%%|*} body=${call#*|}
    say "${dim}\$ curl -b dana.cookies -H 'X-Parley-CSRF: …' -X POST https://localhost:$port/api/conversations/$conv/$what -d '$body'${reset}"
    agent_api POST "/api/conversations/$conv/$what" "$body" >"$demo/agent-$what.json" ||
        fail "the agent's $what was refused"
    sleep 0.3 # lets the player's screen show each step in order
done
player_rc=0
wait "$player_pid" || player_rc=$?
player_pid=
say "what the player saw:"
show "$demo/player2.out"
[ "$player_rc" -eq 0 ] || { show "$demo/player2.err"; fail "the player's client exited with $player_rc"; }
grep -qF "[conversation] continuing $conv" "$demo/player2.out" || fail "the player's app did not resume the conversation"
grep -q '^\[agent Dana\]' "$demo/player2.out" || fail "the agent's reply did not reach the player"
grep -q '^\[survey\]' "$demo/player2.out" || fail "no CSAT survey reached the player"

# ---------------------------------------------------------------------------
step "The README's C example (examples/quickstart/quickstart.c), linked to libparley"
say "${dim}\$ parley-quickstart $url/ demo-ca.pem${reset}"
bounded "$build/examples/parley-quickstart" "$url/" "$demo/demo-ca.pem" \
    >"$demo/quickstart.out" 2>"$demo/quickstart.err" ||
    { show "$demo/quickstart.out" "$demo/quickstart.err"; fail "the quickstart example got no reply"; }
show "$demo/quickstart.out"

# ---------------------------------------------------------------------------
step "A game loop (examples/game_context/game_context.c): context every frame, a redaction hook, logout"
say "${dim}\$ parley-game-context $url demo-ca.pem \$(user_hash pilot-7)${reset}"
bounded "$build/examples/parley-game-context" "$url" "$demo/demo-ca.pem" "$(user_hash pilot-7)" \
    >"$demo/game.out" 2>"$demo/game.err" ||
    { show "$demo/game.out" "$demo/game.err"; fail "the game example got no answer"; }
show "$demo/game.out"

# ---------------------------------------------------------------------------
step "A game's own support screen (examples/support_ui/support_ui.c): blocks, read marks, history, articles, a muted proactive NPS survey"
say "${dim}\$ parley-support-ui $url demo-ca.pem \$(user_hash ui-player)${reset}"
bounded "$build/examples/parley-support-ui" "$url" "$demo/demo-ca.pem" "$(user_hash ui-player)" \
    >"$demo/ui.out" 2>"$demo/ui.err" ||
    { show "$demo/ui.out" "$demo/ui.err"; fail "the support screen example did not finish"; }
show "$demo/ui.out"

# ---------------------------------------------------------------------------
step "Report a problem (examples/attachments/attachments.c): a screenshot from memory and a log file, push token, local history, the file fetched back"
say "${dim}\$ parley-attachments $url demo-ca.pem reporter-data \$(user_hash reporter-1)${reset}"
mkdir -p "$demo/reporter-data"
bounded "$build/examples/parley-attachments" "$url" "$demo/demo-ca.pem" "$demo/reporter-data" "$(user_hash reporter-1)" \
    >"$demo/attachments.out" 2>"$demo/attachments.err" ||
    { show "$demo/attachments.out" "$demo/attachments.err"; fail "the attachments example did not finish"; }
grep -v '^\[upload\] .* bytes$' "$demo/attachments.out" | show

# ---------------------------------------------------------------------------
step "The conversation as stored by the server"
api GET "/api/conversations/$conv/messages" >"$demo/transcript.json" || fail "transcript"
# One line per message; the raw JSON if its shape is not the expected one.
transcript=$(sed 's/},{"id"/},\n{"id"/g' "$demo/transcript.json" | sed -nE \
    's/.*"seq":"([0-9]+)","author":\{"kind":"([a-z]+)"(,"name":"([^"]*)")?\},"text":"(([^"\\]|\\.)*)".*/#\1 \2 \4: \5/p' |
    sed -E 's/^(#[0-9]+ [a-z]+) :/\1:/')
if [ -n "$transcript" ]; then show <<<"$transcript"; else show "$demo/transcript.json"; fi

# ---------------------------------------------------------------------------
step "The support team's score: GET /api/surveys/csat/responses"
api GET /api/surveys/csat/responses >"$demo/csat.json" || fail "the survey API did not answer"
if command -v jq >/dev/null 2>&1; then jq '.aggregate' "$demo/csat.json" | show; else show "$demo/csat.json"; fi
grep -q '"csat_avg":5' "$demo/csat.json" || fail "the CSAT answer is not in the aggregate"

# ---------------------------------------------------------------------------
step "The player writes again: a new conversation waits in the agents' queue"
again=(--subject "VIP badge missing" --send "My VIP badge disappeared after the update"
       --choose "Talk to a human" --timeout 30)
say "${dim}\$ parley-chat ... --subject 'VIP badge missing' --send 'My VIP badge disappeared after the update' --choose 'Talk to a human'${reset}"
if ! bounded "${chat[@]}" "${again[@]}" </dev/null >"$demo/player3.out" 2>"$demo/player3.err"; then
    show "$demo/player3.out" "$demo/player3.err"
    fail "the player's second conversation did not reach the queue"
fi
show "$demo/player3.out"
waiting=$(sed -n 's/^\[conversation\] started //p' "$demo/player3.out" | head -n 1)
[ -n "$waiting" ] || fail "the second conversation was not reported"
# What the console's Queue tab loads, as the demo agent sees it.
agent_login "$demo/console.cookies" || fail "the demo agent could not sign in"
curl -sS --fail --max-time 10 --cacert "$demo/demo-ca.pem" -b "$demo/console.cookies" \
    "https://localhost:$port/api/conversations?state=queued" >"$demo/queue.json" ||
    fail "the console's list did not answer"
grep -qF "\"id\":\"$waiting\"" "$demo/queue.json" || fail "$waiting is not in the console's queue"
curl -sS --fail --max-time 10 --cacert "$demo/demo-ca.pem" "https://localhost:$port/" |
    grep -q '<title>Parley Support</title>' || fail "the console's page is not served at /"

printf '\n%sDemo complete:%s context, triage with its reasons, knowledge base first, the VIP lane, live agent, CSAT, all over wss://localhost:%s.\n' \
    "$green$bold" "$reset" "$port"
printf '%sFiles (certificates, database, logs) are in %s%s\n' "$dim" "$demo" "$reset"

step "The agent console"
say "Console:  ${bold}https://localhost:$port/${reset}"
say "Sign in:  ${bold}dana${reset} / ${bold}$agent_password${reset}"
say "Waiting:  $waiting from demo-user (\"VIP badge missing\") in the Queue tab, in the queue's"
say "          order with each row's team and VIP lane; open one for its triage and reasons;"
say "          the closed conversation, its CSAT answer and the player's context beside it,"
say "          and the figures on the Dashboard."
say "${dim}The browser does not know the demo's throw-away CA: accept its warning for"
say "localhost, or trust $demo/demo-ca.pem.${reset}"
if [ -z "$serve" ]; then
    say "${dim}(This run stops the server now; \`make demo\` keeps it running.)${reset}"
    exit 0
fi
say "parley-server keeps running for the console; ${bold}Ctrl-C${reset} stops it."
trap 'printf "\n"; say "stopping parley-server"; exit 0' INT TERM
wait "$server_pid" || fail "the server stopped"
