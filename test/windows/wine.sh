#!/usr/bin/env bash
# Runs a Windows program under wine, headless and quiet, in a prefix of its
# own (created on first use, ~10 s; later starts take well under a second
# while wineserver lingers between programs). No X server is needed: the
# programs are console programs, and the Mono and Gecko installers a new
# prefix would offer are switched off.
# Usage: wine.sh --prefix DIR PROGRAM [ARG...]
set -euo pipefail
[ "${1:-}" = --prefix ] || { echo "usage: wine.sh --prefix DIR PROGRAM [ARG...]" >&2; exit 2; }
prefix=$2
shift 2
wine=$(command -v wine64 || { [ -x /usr/lib/wine/wine64 ] && echo /usr/lib/wine/wine64; } || command -v wine || true)
if [ -z "$wine" ]; then
    echo "skipped: wine is not installed (make deps installs it)"
    exit 77
fi
mkdir -p "$prefix"
export WINEPREFIX=$(cd "$prefix" && pwd) WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
unset DISPLAY WAYLAND_DISPLAY
# One creator at a time (ctest runs tests in parallel), and no program runs
# before the new prefix has settled (wineserver -w waits for wineboot's
# background work).
if [ ! -f "$WINEPREFIX/.parley-ready" ]; then
    server=$(command -v wineserver || echo "$(dirname "$wine")/wineserver")
    flock "$WINEPREFIX/.create.lock" sh -c '
        [ -f "$WINEPREFIX/.parley-ready" ] && exit 0
        "$0" wineboot --init >/dev/null 2>&1
        "$1" -w
        touch "$WINEPREFIX/.parley-ready"' "$wine" "$server"
fi
exec "$wine" "$@"
