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
#       A change to the code against the build before it: baseline= is
#       BASELINE_BUILD_DIR's build of each target, under run-fuzz.sh's
#       options too. Both replay the same sample, without mutations (two
#       builds cover differently, so one seed would mutate differently),
#       and what counts is inputs, not libFuzzer's executions (which count
#       the second run its leak check gives an input).
#
# One line per target:
#   bench fuzz_NAME: parley=<v>exec/cpu-s baseline=<v>exec/cpu-s ratio=<r>
#   (inputs/cpu-s against a baseline build)
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

# rate OUT ASAN_OPTIONS BINARY CORPUS RUNS [COUNT]: one seeded run of
# CORPUS with the target's -max_len and -runs=RUNS; COUNT per CPU second
# (user + sys) goes to OUT, by default the executions libFuzzer counted.
rate() {
    local out=$1 opts=$2 bin=$3 corpus=$4 total=$5 count=${6:-} work max_len
    max_len=$(target_opts "$(basename "$bin")")
    work=$(mktemp -d -p "$scratch")
    local TIMEFORMAT='%U %S'
    if ! { time ASAN_OPTIONS=$opts "$bin" -runs="$total" -seed=7 "${max_len% json}" -rss_limit_mb=8192 \
        -print_final_stats=1 "$work" "$corpus" >"$work.log" 2>&1; } 2>"$work.time"; then
        tail -n 20 "$work.log" >&2
        echo "bench-fuzz: $(basename "$bin") failed (ASAN_OPTIONS=$opts)" >&2
        return 1
    fi
    [ -n "$count" ] || count=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log")
    awk -v e="$count" '{ print e / ($1 + $2) }' "$work.time" >"$out"
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
    k=$(sample "$from" "$corpus")
    if [ -n "$base_build" ]; then
        # Two builds cover differently, so one seed would mutate differently
        # in each: both replay the sample alone. And inputs count, not
        # executions: libFuzzer runs an input again when it ends with more
        # mallocs than frees (its leak check), an execution but no new input.
        how=(0 "$k") unit=inputs
    else
        how=($((k + runs))) unit=exec
    fi
    for r in $(seq "$rounds"); do
        rate "$scratch/$name.p$r" "$asan_options" "$bin" "$corpus" "${how[@]}" &
        ours=$!
        rate "$scratch/$name.b$r" "$base_opts" "$base_bin" "$corpus" "${how[@]}" &
        wait $! || exit 1
        wait $ours || exit 1
    done
    p=$(cat "$scratch/$name".p* | median)
    b=$(cat "$scratch/$name".b* | median)
    awk -v n="$name" -v p="$p" -v b="$b" -v u="$unit" 'BEGIN {
        printf "bench %s: parley=%.0f%s/cpu-s baseline=%.0f%s/cpu-s ratio=%.2f\n", n, p, u, b, u, p / b }'
done
