#!/usr/bin/env bash
# Runs libFuzzer targets over their checked-in seed corpus
# (test/fuzz/corpus/<target>/, plus JSONTestSuite's parsing cases for the
# targets that read JSON, when ../shared/testdata has them).
#
#   run-fuzz.sh --short BINARY [JSON_DIR]
#       ctest's run: every seed once, then FUZZ_SHORT_RUNS (default 3000)
#       mutations with a fixed seed; new inputs go to a scratch directory
#       that is removed afterwards.
#   run-fuzz.sh --time SECONDS BUILD_DIR [JSON_DIR]
#       `make fuzz`: every fuzz_* target of BUILD_DIR/test/fuzz in turn, for
#       SECONDS each; what they find is kept in BUILD_DIR/fuzz-work/<target>
#       (corpus) and crash-*/leak-*/timeout-* files there.
#   run-fuzz.sh --runs N BUILD_DIR [JSON_DIR]
#       The same, each target for N executions in one run (issue 10's long
#       runs: `make fuzz FUZZ_RUNS=10000000`).
#   FUZZ_TARGETS="fuzz_a fuzz_b" limits --time and --runs to those targets.
#
# Each run ends with one line:
#   fuzz NAME: N executions in S s, corpus C, findings F
# and the exit status is non-zero when libFuzzer found something, or was
# interrupted (SIGINT: 72, said so).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=fuzz-options.sh
. "$here/fuzz-options.sh"
# A caller's own ASAN_OPTIONS come after, and win where they set the same.
export ASAN_OPTIONS=$asan_options${ASAN_OPTIONS:+:$ASAN_OPTIONS}

# run NAME BINARY WORK_DIR JSON_DIR LIBFUZZER_ARGS...
run() {
    local name=$1 bin=$2 work=$3 json=$4
    shift 4
    local opts corpus=$here/corpus/$name log=$work/$name.log
    opts=$(target_opts "$name")
    local dirs=("$work/$name")
    [ -d "$corpus" ] && dirs+=("$corpus")
    if [[ $opts == *json* && -n $json && -d $json ]]; then
        dirs+=("$json")
    fi
    mkdir -p "$work/$name"
    "$bin" ${opts% json} -timeout=20 -print_final_stats=1 -artifact_prefix="$work/$name-" "$@" \
        "${dirs[@]}" >"$log" 2>&1
    local rc=$?
    local execs secs units findings
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    units=$(find "$work/$name" -type f | wc -l)
    findings=$(find "$work" -maxdepth 1 -name "$name-*" -type f | wc -l)
    printf 'fuzz %s: %s executions in %s s, corpus %s, findings %s\n' "$name" "${execs:-?}" "${secs:-?}" \
        "$units" "$findings"
    # 72: libFuzzer's exit on SIGINT (-interrupted_exitcode), no finding.
    if [ $rc -eq 72 ] && [ "$findings" -eq 0 ]; then
        echo "fuzz $name: interrupted, no finding"
    elif [ $rc -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz $name: libFuzzer exited with $rc; reproducer in $work/$name-*"
    fi
    return $rc
}

case "${1:-}" in
    --short)
        bin=${2:?usage: run-fuzz.sh --short BINARY [JSON_DIR]}
        name=$(basename "$bin")
        work=$(mktemp -d)
        trap 'rm -rf "$work"' EXIT
        run "$name" "$bin" "$work" "${3:-}" -runs="${FUZZ_SHORT_RUNS:-3000}" -seed=1
        ;;
    --time | --runs)
        usage="usage: run-fuzz.sh --time SECONDS | --runs N  BUILD_DIR [JSON_DIR]"
        n=${2:?$usage}
        build=${3:?$usage}
        [ "$1" = --time ] && limit=(-max_total_time="$n") || limit=(-runs="$n")
        # ASan's heap keeps what it once mapped for each size class, so a
        # long run's RSS grows with the mix of input sizes, not with live
        # memory: fuzz_rich held 49 MB live in 643 MB of heap and 1 GB of RSS
        # after 2.3 M executions, growing 200 MB per million. libFuzzer's
        # default 2 GB RSS limit would end a 10 M run with a false
        # out-of-memory. A leak is still caught per input (LSan), and one
        # allocation over 2 GB still fails the run.
        limit+=(-rss_limit_mb=8192 -malloc_limit_mb=2048)
        work=$build/fuzz-work
        status=0
        mapfile -t bins < <(fuzz_targets "$build")
        for bin in "${bins[@]}"; do
            run "$(basename "$bin")" "$bin" "$work" "${4:-}" "${limit[@]}" || status=1
        done
        exit $status
        ;;
    *)
        echo "usage: run-fuzz.sh --short BINARY [JSON_DIR] | --time SECONDS BUILD_DIR [JSON_DIR] | --runs N BUILD_DIR [JSON_DIR]" >&2
        exit 2
        ;;
esac
