#!/usr/bin/env bash
# Runs PROGRAM with libparley.so.0 taken from LIBDIR (and so do the
# programs it starts, parley-chat among them), after checking that the
# loader resolves it there.
# Usage: with-lib.sh LIBDIR PROGRAM [ARG...]
set -euo pipefail
libdir=$(cd "${1:?usage: with-lib.sh LIBDIR PROGRAM [ARG...]}" && pwd)
prog=${2:?usage: with-lib.sh LIBDIR PROGRAM [ARG...]}
shift 2
[ -x "$prog" ] || { echo "with-lib: $prog is not built (build the default profile first)" >&2; exit 1; }
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
resolved=$(ldd "$prog" | awk '$1 == "libparley.so.0" { print $3 }')
[ "$resolved" = "$libdir/libparley.so.0" ] \
    || { echo "with-lib: $prog loads '$resolved', not $libdir/libparley.so.0" >&2; exit 1; }
exec "$prog" "$@"
