#!/usr/bin/env bash
# Saves a long fuzz run to disk and brings it back later: one libFuzzer
# process, its corpus in memory and its execution count intact, can span
# machines that do not stay up (a working session, a preemptible VM).
#
#   checkpoint.sh freeze IMAGES_DIR PID
#       PID is a `run-fuzz.sh --runs` process started with setsid (it leads
#       its own session; stdin and stdout are files). Its fuzz_* child is
#       stopped between two inputs, CRIU writes the pair to IMAGES_DIR/PID
#       and ends them.
#   checkpoint.sh snapshot IMAGES_DIR PID
#       The same, and the run goes on: insurance against the machine going
#       away. Thawing it later rewinds the run to that point.
#   checkpoint.sh thaw IMAGES_DIR/PID
#       Restores the pair (same PIDs, same files, its autogroup nice) and
#       lets the fuzzer go on.
#       The run must not be alive.
#
# Needs CRIU 4.2 or newer (criu on PATH, or $CRIU) and gdb, as root.
#
# Why between two inputs: libFuzzer's -timeout alarm compares the wall clock
# with the start of the running input, so a process saved inside an input
# would report a false timeout as soon as it is restored. Stopped where it
# mutates the next input, it is outside the callback and the alarm ignores it.
set -euo pipefail
criu=${CRIU:-criu}

die() {
    echo "checkpoint.sh: $*" >&2
    exit 1
}

# save IMAGES_DIR PID [CRIU_DUMP_OPTION...]: sets $fuzzer.
save() {
    local images=$1 pid=$2 dir
    shift 2
    fuzzer=$(pgrep -P "$pid" -f '/fuzz_') || die "$pid has no fuzz_* child: not a run-fuzz.sh run"
    # A new snapshot replaces the last good one only once it is complete.
    dir=$images/$pid.new
    rm -rf "$dir"
    mkdir -p "$dir"
    gdb -q -batch -p "$fuzzer" \
        -ex 'break fuzzer::MutationDispatcher::Mutate' -ex continue -ex delete \
        -ex 'queue-signal SIGSTOP' -ex detach >"$dir/gdb.log" 2>&1 ||
        die "gdb could not stop fuzzer $fuzzer between two inputs (see $dir/gdb.log)"
    # Whatever happens next, a stopped fuzzer is not left behind (after a
    # freeze it is gone and this does nothing).
    trap 'kill -CONT "$fuzzer" 2>/dev/null || true' EXIT
    grep -q '^State:.*stopped' "/proc/$fuzzer/status" ||
        die "fuzzer $fuzzer did not stop (see $dir/gdb.log); nothing saved"
    echo "$fuzzer" >"$dir/fuzzer.pid"
    # The run's autogroup nice (how it shares the CPU with other sessions'
    # runs) is not CRIU's to restore: the restored session gets a new one.
    sed -n 's/.* nice //p' "/proc/$pid/autogroup" >"$dir/autogroup.nice" 2>/dev/null || true
    # CRIU refuses to reopen a file whose size changed since the dump: the
    # log a snapshotted run keeps writing is cut back to this size on thaw.
    local log
    log=$(readlink "/proc/$fuzzer/fd/1")
    printf '%s\n%s\n' "$(stat -c %s "$log")" "$log" >"$dir/log.size"
    # The server targets keep SQLite open in /dev/shm, which a reboot
    # empties and a snapshotted run goes on changing; CRIU reopens those
    # files by path, so they travel along.
    local shm
    shm=$(find "/proc/$fuzzer/fd" -lname '/dev/shm/parley-fuzz-*' -printf '%l\n' |
        sed -n '1s|^/dev/shm/\([^/]*\)/.*|\1|p')
    if [ -n "$shm" ]; then
        tar -C /dev/shm -cf "$dir/shm.tar" "$shm"
    fi
    # SQLite's locks on the server targets' database are part of the state.
    "$criu" dump -t "$pid" -D "$dir" -o dump.log --file-locks --ghost-limit=64M "$@" ||
        die "dump failed (see $dir/dump.log); the run goes on"
    rm -rf "${images:?}/$pid"
    mv "$dir" "$images/$pid"
}

thaw() {
    local dir=$1 size log
    [ -f "$dir/fuzzer.pid" ] || die "$dir holds no saved run"
    fuzzer=$(cat "$dir/fuzzer.pid")
    # Its PID must be free anyway, and its log is about to be cut back.
    [ ! -d "/proc/$fuzzer" ] || die "process $fuzzer is alive: freeze or end the run first"
    {
        read -r size
        read -r log
    } <"$dir/log.size"
    truncate -s "$size" "$log"
    if [ -f "$dir/shm.tar" ]; then
        tar -C /dev/shm -xf "$dir/shm.tar"
    fi
    "$criu" restore -D "$dir" -d -o restore.log --file-locks ||
        die "restore failed (see $dir/restore.log)"
    local nice
    nice=$(cat "$dir/autogroup.nice" 2>/dev/null || true)
    if [ -n "$nice" ]; then
        echo "$nice" >"/proc/$(basename "$dir")/autogroup" ||
            echo "checkpoint.sh: autogroup nice $nice not set again" >&2
    fi
    kill -CONT "$fuzzer"
    echo "thawed $dir: fuzzer $fuzzer runs again${nice:+ (autogroup nice $nice)}"
}

case "${1:-}" in
    freeze)
        save "${2:?images dir}" "${3:?run-fuzz.sh pid}"
        # CRIU has killed the pair; wait until they are reaped, so that a
        # thaw right after finds their PIDs free.
        for _ in $(seq 50); do
            [ -d "/proc/$fuzzer" ] || [ -d "/proc/$3" ] || break
            sleep 0.2
        done
        echo "froze run $3 (fuzzer $fuzzer) into $2/$3"
        ;;
    snapshot)
        save "${2:?images dir}" "${3:?run-fuzz.sh pid}" --leave-running
        echo "snapshot of run $3 (fuzzer $fuzzer) in $2/$3; it goes on"
        ;;
    thaw) thaw "${2:?images dir of one run}" ;;
    *)
        echo "usage: checkpoint.sh freeze|snapshot IMAGES_DIR PID | thaw IMAGES_DIR/PID" >&2
        exit 2
        ;;
esac
