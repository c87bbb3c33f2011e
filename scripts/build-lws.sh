#!/usr/bin/env bash
# Builds Debian's own libwebsockets 4.1.6 source against mbedTLS into a cached
# prefix. Debian's binary package is built against OpenSSL; Parley's TLS must
# be mbedTLS, so we rebuild the same source with LWS_WITH_MBEDTLS=ON, with the
# small patches in scripts/lws-patches/ (each says why).
# Usage: scripts/build-lws.sh PREFIX [libuv] [CMAKE_ARG...]
# With "libuv" the build also has lws' libuv event loop (epoll underneath),
# linked in rather than loaded as a plugin, the patches of
# scripts/lws-patches/server/ (a TLS connection's memory, the timer list), and an mbedTLS
# of its own in PREFIX/mbedtls: Debian's 2.28 source with Debian's
# configuration plus MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH, so that a
# connection's output record buffer shrinks after the handshake. That is
# parley-server's build (docs/scaling.md). The client library keeps the
# plain poll() build against Debian's mbedTLS: it holds one connection, and
# a host's own loop must not meet ours.
# The extra arguments go to libwebsockets' configure step after ours (the
# minimal and Windows profiles of scripts/build-deps.sh pass their own
# mbedTLS, options and toolchain); they are part of the cache key.
set -euo pipefail
prefix=${1:?usage: build-lws.sh PREFIX [libuv] [CMAKE_ARG...]}
# Absolute: the build runs in a work directory of its own.
prefix=$(realpath -m "$prefix")
shift
variant=
evlib=()
if [ "${1:-}" = libuv ]; then
    variant=libuv
    evlib=(-DLWS_WITH_LIBUV=ON -DLWS_WITH_EVLIB_PLUGINS=OFF)
    shift
fi
patches="$(cd "$(dirname "$0")" && pwd)/lws-patches"
# A new stamp whenever the patches change, so cached builds are redone.
stamp="$prefix/.parley-lws-4.1.6-mbedtls-p5${variant:+-$variant-s5}"
if [ $# -gt 0 ]; then
    stamp="$stamp-$(printf '%s\n' "$@" | sha256sum | cut -c1-16)"
fi
[ -f "$stamp" ] && exit 0

work="$prefix.work"
rm -rf "$work" "$prefix"
mkdir -p "$work"
cd "$work"
if ! apt-get source --only-source libwebsockets >source.log 2>&1; then
    cat source.log >&2
    echo "build-lws: 'apt-get source libwebsockets' failed: run 'make deps' first (it enables deb-src)" >&2
    exit 1
fi
src=$(find . -maxdepth 1 -type d -name 'libwebsockets-4.1.6*' | head -n 1)

# server_mbedtls: Debian's mbedTLS source configured as Debian configures it
# (the `scripts/config.py set` lines of its debian/rules) plus
# MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH, static, into $prefix/mbedtls.
server_mbedtls() {
    apt-get source --only-source mbedtls >mbedtls-source.log 2>&1 \
        || { cat mbedtls-source.log >&2; echo "build-lws: 'apt-get source mbedtls' failed" >&2; exit 1; }
    local msrc cfg names name
    msrc=$(find . -maxdepth 1 -type d -name 'mbedtls-2.28*' | head -n 1)
    [ -n "$msrc" ] || { echo "build-lws: expected mbedTLS 2.28 source, got: $(ls)" >&2; exit 1; }
    cfg="$msrc/include/mbedtls/config.h"
    names=$(sed -n 's|.*scripts/config.py set \([A-Z0-9_]*\).*|\1|p' "$msrc/debian/rules")
    for name in $names MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH; do
        sed -i "s|^//#define $name\$|#define $name|; s|^//#define $name |#define $name |" "$cfg"
        grep -q "^#define $name\b" "$cfg" || { echo "build-lws: mbedTLS has no option $name" >&2; exit 1; }
    done
    cmake -S "$msrc" -B build-mbedtls -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_INSTALL_PREFIX="$prefix/mbedtls" -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
        -DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF -DUSE_STATIC_MBEDTLS_LIBRARY=ON \
        -DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DMBEDTLS_FATAL_WARNINGS=OFF \
        -DINSTALL_MBEDTLS_HEADERS=ON >mbedtls-configure.log 2>&1 \
        || { cat mbedtls-configure.log >&2; exit 1; }
    cmake --build build-mbedtls -j "${JOBS:-$(nproc)}" >mbedtls-build.log 2>&1 \
        || { tail -50 mbedtls-build.log >&2; exit 1; }
    cmake --install build-mbedtls >mbedtls-install.log 2>&1 || { cat mbedtls-install.log >&2; exit 1; }
    local m="$prefix/mbedtls"
    evlib+=(-DLWS_MBEDTLS_INCLUDE_DIRS="$m/include"
            -DLWS_MBEDTLS_LIBRARIES="$m/lib/libmbedtls.a;$m/lib/libmbedx509.a;$m/lib/libmbedcrypto.a")
}
[ "$variant" = libuv ] && server_mbedtls

[ -n "$src" ] || { echo "build-lws: expected libwebsockets 4.1.6 source, got: $(ls)" >&2; exit 1; }
extra=()
[ "$variant" = libuv ] && extra=("$patches"/server/*.patch)
for p in "$patches"/*.patch ${extra[@]+"${extra[@]}"}; do
    patch -p1 --forward --quiet -d "$src" <"$p" >patch.log 2>&1 \
        || { cat patch.log >&2; echo "build-lws: $p does not apply" >&2; exit 1; }
done

cmake -S "$src" -B build \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DLWS_WITH_MBEDTLS=ON \
    -DLWS_WITH_SHARED=OFF -DLWS_WITH_STATIC=ON \
    -DLWS_WITH_HTTP2=OFF \
    -DLWS_WITHOUT_TESTAPPS=ON -DLWS_WITH_MINIMAL_EXAMPLES=OFF \
    -DLWS_WITH_EXPORT_LWSTARGETS=OFF \
    ${evlib[@]+"${evlib[@]}"} "$@" \
    >configure.log 2>&1 || { cat configure.log >&2; exit 1; }
cmake --build build -j "${JOBS:-$(nproc)}" >build.log 2>&1 || { tail -50 build.log >&2; exit 1; }
cmake --install build >install.log 2>&1 || { cat install.log >&2; exit 1; }
grep -q '^#define LWS_WITH_MBEDTLS' "$prefix/include/lws_config.h" \
    || { echo "build-lws: built libwebsockets is not using mbedTLS" >&2; exit 1; }
if [ "$variant" = libuv ]; then
    grep -q '^#define LWS_WITH_LIBUV' "$prefix/include/lws_config.h" \
        || { echo "build-lws: built libwebsockets has no libuv event loop" >&2; exit 1; }
    grep -q '^#define MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH' "$prefix/mbedtls/include/mbedtls/config.h" \
        || { echo "build-lws: the server's mbedTLS has no variable buffers" >&2; exit 1; }
fi
touch "$stamp"
rm -rf "$work"
