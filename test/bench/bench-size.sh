#!/usr/bin/env bash
# The footprint of the minimal profile against the default one, both built
# and measured in this run (make bench-size; test/bench/README.md):
#   size_libparley_so      libparley.so, stripped
#   size_shipped_so        what an app ships to use the shared library:
#                          the minimal libparley.so holds mbedTLS and cJSON,
#                          the default one needs Debian's libmbedtls,
#                          libmbedx509, libmbedcrypto and libcjson beside it
#   size_static_quickstart examples/quickstart linked statically with
#                          libparley.a, libwebsockets, mbedTLS and cJSON
#                          (the C library stays shared), --gc-sections,
#                          stripped
#   idle_heap              heap of a connected idle client (bench_heap.c)
#   handshake_heap_peak    the most it held on the way (the TLS handshake)
# and the issue's goals as baselines: ..._goal lines.
# Usage: bench-size.sh DEFAULT_BUILD MINIMAL_BUILD DEPS_DIR
#   DEPS_DIR holds the prefixes of scripts/build-deps.sh minimal (minimal/) and cjson (default/).
set -euo pipefail
default=$(cd "${1:?usage: bench-size.sh DEFAULT_BUILD MINIMAL_BUILD DEPS_DIR}" && pwd)
minimal=$(cd "${2:?usage: bench-size.sh DEFAULT_BUILD MINIMAL_BUILD DEPS_DIR}" && pwd)
deps=$(cd "${3:?usage: bench-size.sh DEFAULT_BUILD MINIMAL_BUILD DEPS_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "bench-size: failed: $*" >&2; exit 1; }

# stripped FILE...: bytes of FILEs once stripped, summed.
stripped() {
    local total=0 f n
    for f in "$@"; do
        strip -o "$work/s" "$f" || fail "strip $f"
        n=$(stat -c %s "$work/s")
        total=$((total + n))
    done
    echo "$total"
}

# report NAME PARLEY BASELINE UNIT DIVISOR
report() {
    awk -v n="$1" -v p="$2" -v b="$3" -v u="$4" -v d="$5" 'BEGIN {
        printf "bench %s: parley=%.1f%s baseline=%.1f%s ratio=%.2f\n", n, p / d, u, b / d, u, p / b }'
}

# quickstart BUILD CFLAGS MBEDTLS_DIR CJSON_A: the static program, stripped.
quickstart() {
    local out="$work/quickstart-$(basename "$1")"
    "$cc" $2 -ffunction-sections -fdata-sections -I"$root/include" \
        "$root/examples/quickstart/quickstart.c" -o "$out" \
        -Wl,--gc-sections -s "$1/lib/libparley.a" \
        "$3/libmbedtls.a" "$3/libmbedx509.a" "$3/libmbedcrypto.a" "$4" \
        -lpthread -ldl -Wl,--as-needed -lcap >"$work/link.log" 2>&1 \
        || { cat "$work/link.log" >&2; fail "linking the static quickstart of $1"; }
    stat -c %s "$out"
}

# The shared libraries the default libparley.so loads for mbedTLS and cJSON.
deps_of() {
    ldd "$1" | awk '$1 ~ /^lib(mbedtls|mbedx509|mbedcrypto|cjson)\.so/ { print $3 }'
}

[ -f "$deps/default/cjson/lib/libcjson.a" ] || fail "$deps/default/cjson/lib/libcjson.a (scripts/build-deps.sh cjson)"
so_default=$(stripped "$default/lib/libparley.so.0")
so_minimal=$(stripped "$minimal/lib/libparley.so.0")
mapfile -t shared_deps < <(deps_of "$default/lib/libparley.so.0")
[ "${#shared_deps[@]}" -eq 4 ] || fail "expected 4 shared mbedTLS/cJSON libraries, got: ${shared_deps[*]}"
shipped_default=$((so_default + $(stripped "${shared_deps[@]}")))
debian_mbedtls=$(dirname "$("$cc" -print-file-name=libmbedtls.a)")
qs_default=$(quickstart "$default" "-O2" "$debian_mbedtls" "$deps/default/cjson/lib/libcjson.a")
qs_minimal=$(quickstart "$minimal" "-Os" "$deps/minimal/mbedtls/lib" "$deps/minimal/cjson/lib/libcjson.a")

# field LINE NAME: the number after NAME= in bench_heap's line.
field() {
    echo "$1" | sed -n "s/.* $2=\([0-9]*\).*/\1/p"
}
heap_default=$("$default/test/bench/bench_heap") || fail "bench_heap of $default"
heap_minimal=$("$minimal/test/bench/bench_heap") || fail "bench_heap of $minimal"

report size_libparley_so "$so_minimal" "$so_default" KiB 1024
report size_shipped_so "$so_minimal" "$shipped_default" KiB 1024
report size_static_quickstart "$qs_minimal" "$qs_default" KiB 1024
report size_static_quickstart_goal "$qs_minimal" $((600 * 1024)) KiB 1024
report idle_heap "$(field "$heap_minimal" idle)" "$(field "$heap_default" idle)" KiB 1024
report idle_heap_goal "$(field "$heap_minimal" idle)" $((96 * 1024)) KiB 1024
report handshake_heap_peak "$(field "$heap_minimal" peak)" "$(field "$heap_default" peak)" KiB 1024
