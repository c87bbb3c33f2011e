#!/usr/bin/env bash
# ctest fuzz_scripts: run-fuzz.sh and bench-fuzz.sh hand a target the
# options of fuzz-options.sh, a caller's ASAN_OPTIONS after ours (so that
# they win); run-fuzz.sh --runs picks the targets fuzz-options.sh selects
# and tells an interrupted run from a finding; bench-fuzz.sh prints its
# line, against ASan's defaults or another build, or names a failing
# target. A stand-in target records what it was given and answers as
# libFuzzer would.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# expect WHAT GOT WANT
expect() {
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

mkdir -p "$tmp/build/test/fuzz"
fake=$tmp/build/test/fuzz/fuzz_srv_frames
cat >"$fake" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\${ASAN_OPTIONS-<unset>}" >>"$tmp/asan"
printf '%s\n' "\$*" >>"$tmp/args"
# Some CPU time, which bench-fuzz.sh divides by.
for ((i = 0; i < 200000; i++)); do :; done
echo "stat::number_of_executed_units: 42"
echo "Done 42 runs in 0 second(s)"
EOF
chmod +x "$fake"

out=$(env -u ASAN_OPTIONS "$here/run-fuzz.sh" --short "$fake")
expect "run-fuzz.sh's line" "$out" "fuzz fuzz_srv_frames: 42 executions in 0 s, corpus 0, findings 0"
expect "ASAN_OPTIONS without the caller's" "$(tail -n 1 "$tmp/asan")" "quarantine_size_mb=10"
[[ " $(tail -n 1 "$tmp/args") " == *" -max_len=70000 "* ]] ||
    fail "the target's -max_len missing from: $(tail -n 1 "$tmp/args")"

ASAN_OPTIONS=quarantine_size_mb=64:detect_leaks=0 "$here/run-fuzz.sh" --short "$fake" >/dev/null
expect "ASAN_OPTIONS with the caller's" "$(tail -n 1 "$tmp/asan")" \
    "quarantine_size_mb=10:quarantine_size_mb=64:detect_leaks=0"

# --runs takes each executable fuzz_* of the build, only FUZZ_TARGETS'
# when it is set.
sel=$tmp/sel/test/fuzz
mkdir -p "$sel"
cp "$fake" "$sel/fuzz_srv_http"
cp "$fake" "$sel/fuzz_srv_kb"
echo 'not a target' >"$sel/fuzz_notes.txt"
ran() { "$here/run-fuzz.sh" --runs 1 "$tmp/sel" | cut -d: -f1 | tr '\n' ' '; }
expect "run-fuzz.sh --runs' targets" "$(ran)" "fuzz fuzz_srv_http fuzz fuzz_srv_kb "
expect "run-fuzz.sh --runs' targets in FUZZ_TARGETS" "$(FUZZ_TARGETS="fuzz_proto fuzz_srv_kb" ran)" \
    "fuzz fuzz_srv_kb "

: >"$tmp/asan"
mkdir -p "$tmp/build/fuzz-work/fuzz_srv_frames"
echo seed >"$tmp/build/fuzz-work/fuzz_srv_frames/a"
out=$(FUZZ_BENCH_ROUNDS=1 "$here/bench-fuzz.sh" "$tmp/build")
[[ $out =~ ^bench\ fuzz_srv_frames:\ parley=[0-9]+exec/cpu-s\ baseline=[0-9]+exec/cpu-s\ ratio=[0-9.]+$ ]] ||
    fail "bench-fuzz.sh's line: '$out'"
expect "bench-fuzz.sh's two runs" "$(sort "$tmp/asan" | tr '\n' ' ')" " quarantine_size_mb=10 "
[[ $(tail -n 1 "$tmp/args") == *"-runs=4001 "* ]] ||
    fail "bench-fuzz.sh's -runs is not the sample plus 4,000: $(tail -n 1 "$tmp/args")"

# Against a baseline build: its own target, under our options as well; a
# baseline without the target is an error that names it.
mkdir -p "$tmp/base/test/fuzz"
sed "s|$tmp/args|$tmp/base-args|" "$fake" >"$tmp/base/test/fuzz/fuzz_srv_frames"
chmod +x "$tmp/base/test/fuzz/fuzz_srv_frames"
: >"$tmp/asan"
out=$(FUZZ_BENCH_ROUNDS=1 "$here/bench-fuzz.sh" "$tmp/build" "$tmp/base")
[[ $out =~ ^bench\ fuzz_srv_frames:\ parley=[0-9]+inputs/cpu-s\ baseline=[0-9]+inputs/cpu-s\ ratio=[0-9.]+$ ]] ||
    fail "bench-fuzz.sh's line against a baseline build: '$out'"
[[ $(tail -n 1 "$tmp/base-args") == *"-runs=0 "* ]] ||
    fail "bench-fuzz.sh mutates against a baseline build: $(tail -n 1 "$tmp/base-args")"
expect "bench-fuzz.sh's two builds' options" "$(tr '\n' ' ' <"$tmp/asan")" \
    "quarantine_size_mb=10 quarantine_size_mb=10 "
[[ -s $tmp/base-args ]] || fail "bench-fuzz.sh did not run the baseline build's target"
if err=$(FUZZ_BENCH_ROUNDS=1 "$here/bench-fuzz.sh" "$tmp/build" "$tmp/sel" 2>&1 >/dev/null); then
    fail "bench-fuzz.sh succeeded against a baseline build without the target"
fi
[[ $err == *"no $tmp/sel/test/fuzz/fuzz_srv_frames"* ]] || fail "bench-fuzz.sh's error: '$err'"

# A run stopped with SIGINT (libFuzzer exits with 72) says so, not that it
# left a reproducer.
printf '#!/bin/sh\necho "stat::number_of_executed_units: 7"; exit 72\n' >"$sel/fuzz_srv_kb"
rc=0
out=$(FUZZ_TARGETS=fuzz_srv_kb "$here/run-fuzz.sh" --runs 1 "$tmp/sel") || rc=$?
expect "run-fuzz.sh's status when interrupted" "$rc" 1
expect "run-fuzz.sh's lines when interrupted" "$out" \
    "fuzz fuzz_srv_kb: 7 executions in ? s, corpus 0, findings 0
fuzz fuzz_srv_kb: interrupted, no finding"

# A target that fails stops the benchmark, named, rather than a figure.
printf '#!/bin/sh\necho boom; exit 3\n' >"$fake"
if err=$(FUZZ_BENCH_ROUNDS=1 "$here/bench-fuzz.sh" "$tmp/build" 2>&1 >/dev/null); then
    fail "bench-fuzz.sh succeeded with a failing target"
fi
[[ $err == *"bench-fuzz: fuzz_srv_frames failed"* ]] || fail "bench-fuzz.sh's error: '$err'"

[ "$fails" -eq 0 ] && echo "fuzz_scripts: all checks passed"
exit $((fails > 0))
