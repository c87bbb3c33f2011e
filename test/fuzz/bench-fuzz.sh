#!/usr/bin/env bash
# Executions per CPU second of each fuzz target under run-fuzz.sh's ASan
# options (parley=) against ASan's defaults (baseline=):
#
#   bench-fuzz.sh BUILD_DIR
#       `make bench-fuzz`: every fuzz_* target of BUILD_DIR/test/fuzz, or
#       those FUZZ_TARGETS names. Each round runs the two side by side, so
#       that both see the same load, on the same inputs: the corpus a long
#       run grew in BUILD_DIR/fuzz-work/<target> when there is one (else the
#       checked-in seeds), then FUZZ_BENCH_RUNS (default 2000) mutations
#       with a fixed seed. Medians of FUZZ_BENCH_ROUNDS (default 3) rounds.
#
# One line per target:
#   bench fuzz_NAME: parley=<v>exec/cpu-s baseline=<v>exec/cpu-s ratio=<r>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: bench-fuzz.sh BUILD_DIR}
runs=${FUZZ_BENCH_RUNS:-2000}
rounds=${FUZZ_BENCH_ROUNDS:-3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# rate OUT ASAN_OPTIONS BINARY CORPUS: one seeded run; its executions per
# CPU second (user + sys) go to OUT.
rate() {
    local out=$1 opts=$2 bin=$3 corpus=$4 work
    work=$(mktemp -d -p "$scratch")
    local TIMEFORMAT='%U %S'
    if ! { time ASAN_OPTIONS=$opts "$bin" -runs="$runs" -seed=7 -max_len=70000 -rss_limit_mb=8192 \
        -print_final_stats=1 "$work" "$corpus" >"$work.log" 2>&1; } 2>"$work.time"; then
        tail -n 20 "$work.log" >&2
        echo "bench-fuzz: $(basename "$bin") failed (ASAN_OPTIONS=$opts)" >&2
        return 1
    fi
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log")
    awk -v e="$execs" '{ print e / ($1 + $2) }' "$work.time" >"$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for bin in "$build"/test/fuzz/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=$(basename "$bin")
    if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then
        continue
    fi
    corpus=$build/fuzz-work/$name
    [ -n "$(ls -A "$corpus" 2>/dev/null)" ] || corpus=$here/corpus/$name
    for r in $(seq "$rounds"); do
        rate "$scratch/$name.p$r" "$("$here/run-fuzz.sh" --asan-options)" "$bin" "$corpus" &
        ours=$!
        rate "$scratch/$name.b$r" "" "$bin" "$corpus" &
        wait $! && wait $ours
    done
    p=$(cat "$scratch/$name".p* | median)
    b=$(cat "$scratch/$name".b* | median)
    awk -v n="$name" -v p="$p" -v b="$b" 'BEGIN {
        printf "bench %s: parley=%.0fexec/cpu-s baseline=%.0fexec/cpu-s ratio=%.2f\n", n, p, b, p / b }'
done
