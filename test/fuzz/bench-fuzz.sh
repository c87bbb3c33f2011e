#!/usr/bin/env bash
# Executions per CPU second of each fuzz target under run-fuzz.sh's ASan
# options (parley=) against ASan's defaults, or another build (baseline=):
#
#   bench-fuzz.sh BUILD_DIR
#       `make bench-fuzz`: every fuzz_* target of BUILD_DIR/test/fuzz, or
#       those FUZZ_TARGETS names. Each round runs the two side by side, so
#       that both see the same load, on the same inputs: at most
#       FUZZ_BENCH_INPUTS (default 200) inputs, evenly picked from the corpus
#       a long run grew in BUILD_DIR/fuzz-work/<target> (else the checked-in
#       seeds), then FUZZ_BENCH_RUNS (default 4000) mutations with a fixed
#       seed: mostly a long run's steady state, not the replay of a corpus.
#       Medians of FUZZ_BENCH_ROUNDS (default 3) rounds.
#
#   bench-fuzz.sh BUILD_DIR BASELINE_BUILD_DIR
#       The same, but baseline= is BASELINE_BUILD_DIR's build of each
#       target, under run-fuzz.sh's options too: a change to the code
#       against the build before it.
#
# One line per target:
#   bench fuzz_NAME: parley=<v>exec/cpu-s baseline=<v>exec/cpu-s ratio=<r>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=fuzz-options.sh
. "$here/fuzz-options.sh"
build=${1:?usage: bench-fuzz.sh BUILD_DIR [BASELINE_BUILD_DIR]}
base_build=${2:-}
runs=${FUZZ_BENCH_RUNS:-4000}
inputs=${FUZZ_BENCH_INPUTS:-200}
rounds=${FUZZ_BENCH_ROUNDS:-3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# sample DIR TO: every n-th file of DIR copied to TO, at most $inputs;
# prints how many.
sample() {
    local files=("$1"/*) n i k=0
    n=$(((${#files[@]} + inputs - 1) / inputs))
    mkdir -p "$2"
    for ((i = 0; i < ${#files[@]}; i += n)); do
        cp "${files[i]}" "$2/" && k=$((k + 1))
    done
    echo "$k"
}

# rate OUT ASAN_OPTIONS BINARY CORPUS EXECUTIONS: one seeded run with the
# target's -max_len; its executions per CPU second (user + sys) go to OUT.
rate() {
    local out=$1 opts=$2 bin=$3 corpus=$4 total=$5 work max_len
    max_len=$(target_opts "$(basename "$bin")")
    work=$(mktemp -d -p "$scratch")
    local TIMEFORMAT='%U %S'
    if ! { time ASAN_OPTIONS=$opts "$bin" -runs="$total" -seed=7 "${max_len% json}" -rss_limit_mb=8192 \
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

mapfile -t bins < <(fuzz_targets "$build")
for bin in "${bins[@]}"; do
    name=$(basename "$bin")
    base_bin=$bin base_opts=
    if [ -n "$base_build" ]; then
        base_bin=$base_build/test/fuzz/$name base_opts=$asan_options
        [ -x "$base_bin" ] || {
            echo "bench-fuzz: no $base_bin to compare with" >&2
            exit 1
        }
    fi
    from=$build/fuzz-work/$name
    [ -n "$(ls -A "$from" 2>/dev/null)" ] || from=$here/corpus/$name
    corpus=$scratch/$name.corpus
    total=$(($(sample "$from" "$corpus") + runs))
    for r in $(seq "$rounds"); do
        rate "$scratch/$name.p$r" "$asan_options" "$bin" "$corpus" "$total" &
        ours=$!
        rate "$scratch/$name.b$r" "$base_opts" "$base_bin" "$corpus" "$total" &
        wait $! || exit 1
        wait $ours || exit 1
    done
    p=$(cat "$scratch/$name".p* | median)
    b=$(cat "$scratch/$name".b* | median)
    awk -v n="$name" -v p="$p" -v b="$b" 'BEGIN {
        printf "bench %s: parley=%.0fexec/cpu-s baseline=%.0fexec/cpu-s ratio=%.2f\n", n, p, b, p / b }'
done
