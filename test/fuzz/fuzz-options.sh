# shellcheck shell=bash
# What run-fuzz.sh and bench-fuzz.sh give a fuzz target, sourced by both.

# ClusterFuzz's quarantine for fuzzing, not ASan's 256 MB default. A freed
# block stays poisoned until 10 MB more are freed, far longer than any
# input of ours holds a stale pointer; cycling through 256 MB instead made
# every allocation touch cold memory and ASan hand pages back to the kernel
# and fault them in again: up to 1.4 times the CPU per execution and 5
# times the RSS (`make bench-fuzz`, test/fuzz/README.md).
# shellcheck disable=SC2034 # read by the scripts that source this file
asan_options=quarantine_size_mb=10

# fuzz_targets BUILD_DIR: the fuzz targets built there, one path a line:
# each executable test/fuzz/fuzz_*, only those named in FUZZ_TARGETS when it
# is set.
fuzz_targets() {
    local bin name
    for bin in "$1"/test/fuzz/fuzz_*; do
        [ -f "$bin" ] && [ -x "$bin" ] || continue
        name=$(basename "$bin")
        if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then
            continue
        fi
        echo "$bin"
    done
}

# What differs per target: the longest input, and whether JSON documents
# make useful seeds.
target_opts() {
    case "$1" in
        fuzz_proto) echo "-max_len=70000 json" ;;
        fuzz_session | fuzz_rich | fuzz_survey) echo "-max_len=16384 json" ;;
        fuzz_journal) echo "-max_len=16384" ;;
        fuzz_srv_frames) echo "-max_len=70000 json" ;;
        fuzz_srv_http) echo "-max_len=8192" ;;
        fuzz_srv_auth) echo "-max_len=4096" ;;
        fuzz_srv_flow | fuzz_srv_survey_def) echo "-max_len=16384 json" ;;
        fuzz_srv_kb) echo "-max_len=16384" ;;
        fuzz_srv_routing) echo "-max_len=16384 json" ;;
        fuzz_srv_tz) echo "-max_len=8192" ;;
        *) echo "-max_len=4096" ;;
    esac
}
