#!/bin/sh
# Checks the C sources against .clang-format (`make format-check`): names
# each file clang-format would change and how many of its lines, and fails
# when there is one. --diff shows the changes as well. Nothing is rewritten;
# `clang-format -i FILE` does that for a file you own.
#
#   scripts/format-check.sh [--diff] [DIR|FILE ...]   (default: lib include examples test)
set -eu

cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
show_diff=0
if [ "${1:-}" = "--diff" ]; then
    show_diff=1
    shift
fi
[ $# -gt 0 ] || set -- lib include examples test

if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
    echo "format-check: $CLANG_FORMAT not found (make deps installs it)" >&2
    exit 2
fi

files=$(find "$@" -type f \( -name '*.c' -o -name '*.h' \) | sort)
# One clang-format for every file names those it would change: started
# once per file, clang-format took a minute of the test suite's time.
report=$(echo "$files" | xargs -r "$CLANG_FORMAT" --style=file --dry-run 2>&1) || {
    echo "$report" >&2
    echo "format-check: $CLANG_FORMAT failed" >&2
    exit 1
}
changed=$(echo "$report" | sed -n 's/^\(.*\):[0-9]*:[0-9]*: warning: code should be clang-formatted.*/\1/p' | sort -u)
bad=0
lines=0
for f in $changed; do
    n=$("$CLANG_FORMAT" --style=file "$f" | diff "$f" - | grep -c '^<' || true)
    echo "$f: $n lines"
    [ $show_diff = 0 ] || "$CLANG_FORMAT" --style=file "$f" | diff -u "$f" - || true
    bad=$((bad + 1))
    lines=$((lines + n))
done
if [ $bad -gt 0 ]; then
    echo "format-check: $bad files, $lines lines differ from .clang-format" >&2
    exit 1
fi
echo "format-check: $(echo "$files" | wc -l) files follow .clang-format"
