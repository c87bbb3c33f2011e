#!/usr/bin/env bash
# The Windows end-to-end test: starts the Linux parley-server on a loopback
# port with throw-away certificates, runs e2e_windows.exe under wine
# against it (wss://localhost:PORT/; wine programs reach the Linux file
# system through drive Z:), stops the server.
# Usage: run-e2e.sh SERVER GEN_CERTS WINE_SH PREFIX EXE WORK
set -euo pipefail
server=$1 gen_certs=$2 wine_sh=$3 prefix=$4 exe=$5 work=$6
[ -x "$server" ] || { echo "run-e2e: $server is not built (make build first)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
sh "$gen_certs" "$work" test >"$work/certs.log" 2>&1 || { cat "$work/certs.log" >&2; exit 1; }

pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; true; }
trap cleanup EXIT
"$server" --port 0 --ready-file "$work/ready" --db "$work/server.db" \
    --cert "$work/test-server.pem" --key "$work/test-server.key" >"$work/server.log" 2>&1 &
pid=$!
port=
for _ in $(seq 1 200); do
    port=$(tr -cd '0-9' <"$work/ready" 2>/dev/null || true)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "run-e2e: the server exited" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "run-e2e: the server did not get ready" >&2; exit 1; }

rc=0
"$wine_sh" --prefix "$prefix" "$exe" "wss://localhost:$port/" "Z:$work/test-ca.pem" "Z:$work" || rc=$?
[ "$rc" = 0 ] || { echo "--- server log"; tail -30 "$work/server.log"; } >&2
exit "$rc"
