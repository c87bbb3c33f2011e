#!/usr/bin/env bash
# Builds Parley's dependencies from their Debian source packages for the
# profiles that cannot use Debian's binaries, each into PREFIX/<name>:
#
#   minimal  mbedTLS 2.28 with scripts/mbedtls-config-minimal.h (a TLS 1.2
#            client), libwebsockets 4.1.6 client-only against it, cJSON
#            1.7.15; static, -Os, one section per function
#   mingw    the same three, cross-compiled for 64-bit Windows with Debian's
#            MinGW-w64 (cmake/mingw-w64.cmake); mbedTLS with its upstream
#            configuration (Debian adds pthread threading, which Windows
#            lacks and Parley does not need: no mbedTLS context is shared
#            between threads)
#   cjson    cJSON alone, static: the default profile's static quickstart
#            (make bench-size) links it, Debian ships no libcjson.a
#
# libwebsockets goes through scripts/build-lws.sh (the same Debian source and
# patches as the default profile). Each part is cached under a stamp named
# after what it was built from, so a second run costs nothing.
# Usage: scripts/build-deps.sh PROFILE PREFIX
set -euo pipefail
profile=${1:?usage: build-deps.sh minimal|mingw|cjson PREFIX}
prefix=${2:?usage: build-deps.sh minimal|mingw|cjson PREFIX}
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
jobs=${JOBS:-$(nproc)}
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

cmake_common=(-DCMAKE_POSITION_INDEPENDENT_CODE=ON)
case "$profile" in
minimal)
    cmake_common+=(-DCMAKE_BUILD_TYPE=MinSizeRel
                   "-DCMAKE_C_FLAGS=-ffunction-sections -fdata-sections")
    mbedtls_config="$here/mbedtls-config-minimal.h" ;;
mingw)
    cmake_common+=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_TOOLCHAIN_FILE=$root/cmake/mingw-w64.cmake")
    mbedtls_config="" ;;
cjson)
    cmake_common+=(-DCMAKE_BUILD_TYPE=Release) ;;
*)
    echo "build-deps: unknown profile '$profile' (minimal, mingw or cjson)" >&2; exit 2 ;;
esac

# key ARG... [-- FILE...]: a short hash of the profile, the common
# arguments, these arguments and these files' contents: what a part is
# built from, so that a change to any of it rebuilds the part.
key() {
    {
        printf '%s\n' "$profile" "${cmake_common[@]}"
        while [ $# -gt 0 ] && [ "$1" != -- ]; do printf '%s\n' "$1"; shift; done
        [ $# -gt 0 ] && shift && cat "$@"
    } | sha256sum | cut -c1-16
}

# fetch PACKAGE DIRGLOB: Debian's source (with Debian's patches) into the
# work directory, once per run; prints its path.
fetch() {
    local dir
    dir=$(find "$work" -maxdepth 1 -type d -name "$2" | head -n 1)
    if [ -z "$dir" ]; then
        (cd "$work" && apt-get source --only-source "$1" >"$1-source.log" 2>&1) || {
            cat "$work/$1-source.log" >&2
            echo "build-deps: 'apt-get source $1' failed: run 'make deps' first (it enables deb-src)" >&2
            exit 1
        }
        dir=$(find "$work" -maxdepth 1 -type d -name "$2" | head -n 1)
    fi
    [ -n "$dir" ] || { echo "build-deps: no $2 in the $1 source package" >&2; exit 1; }
    printf '%s\n' "$dir"
}

# cmake_build NAME SRC ARGS...: configure, build and install into $prefix/NAME.
cmake_build() {
    local name=$1 src=$2
    shift 2
    rm -rf "$prefix/$name" "$work/build-$name"
    cmake -S "$src" -B "$work/build-$name" -DCMAKE_INSTALL_PREFIX="$prefix/$name" \
        "${cmake_common[@]}" "$@" >"$work/$name-configure.log" 2>&1 \
        || { cat "$work/$name-configure.log" >&2; exit 1; }
    cmake --build "$work/build-$name" -j "$jobs" >"$work/$name-build.log" 2>&1 \
        || { tail -50 "$work/$name-build.log" >&2; exit 1; }
    cmake --install "$work/build-$name" >"$work/$name-install.log" 2>&1 \
        || { cat "$work/$name-install.log" >&2; exit 1; }
}

# Static, its symbols declared without dllexport (CJSON_HIDE_SYMBOLS):
# parley.dll exports parley_* only.
cjson_args=(-DBUILD_SHARED_LIBS=OFF -DENABLE_CJSON_TEST=OFF -DENABLE_CJSON_UTILS=OFF
            -DENABLE_TARGET_EXPORT=OFF -DENABLE_CUSTOM_COMPILER_FLAGS=OFF
            -DENABLE_PUBLIC_SYMBOLS=OFF -DENABLE_HIDDEN_SYMBOLS=ON)
build_cjson() {
    local stamp="$prefix/cjson/.parley-cjson-1.7.15-$(key "${cjson_args[@]}")"
    [ -f "$stamp" ] && return 0
    local src
    src=$(fetch cjson 'cjson-1.7.15*')
    cmake_build cjson "$src" "${cjson_args[@]}"
    touch "$stamp"
}

# Debian's mbedtls source; the minimal profile's configuration replaces
# include/mbedtls/config.h, so the installed headers carry it.
mbedtls_args=(-DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF -DUSE_STATIC_MBEDTLS_LIBRARY=ON
              -DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DMBEDTLS_FATAL_WARNINGS=OFF -DINSTALL_MBEDTLS_HEADERS=ON)
build_mbedtls() {
    mbedtls_key=$(key "${mbedtls_args[@]}" -- ${mbedtls_config:+"$mbedtls_config"})
    local stamp="$prefix/mbedtls/.parley-mbedtls-2.28-$mbedtls_key"
    [ -f "$stamp" ] && return 0
    local src
    src=$(fetch mbedtls 'mbedtls-2.28*')
    if [ -n "$mbedtls_config" ]; then
        cp "$mbedtls_config" "$src/include/mbedtls/config.h"
    fi
    cmake_build mbedtls "$src" "${mbedtls_args[@]}"
    touch "$stamp"
}

# libwebsockets against that mbedTLS; the mbedTLS key is one of its
# arguments (unused by its CMake), so a new mbedTLS rebuilds it.
build_lws() {
    local mb="$prefix/mbedtls" libs
    libs="$mb/lib/libmbedtls.a;$mb/lib/libmbedx509.a;$mb/lib/libmbedcrypto.a"
    local args=("${cmake_common[@]}" -DLWS_MBEDTLS_INCLUDE_DIRS="$mb/include"
                -DLWS_MBEDTLS_LIBRARIES="$libs" -DLWS_WITH_SHARED=OFF)
    case "$profile" in
    minimal)
        # Notice-level logs are compiled out (LLL_NOTICE is 4): Parley
        # enables errors and warnings only.
        args+=("-DCMAKE_C_FLAGS=-ffunction-sections -fdata-sections -DLWS_LOGGING_BITFIELD_CLEAR=4"
               -DDISABLE_WERROR=ON -DLWS_WITHOUT_SERVER=ON -DLWS_LOGS_TIMESTAMP=OFF
               -DLWS_ROLE_RAW_FILE=OFF -DLWS_WITH_FILE_OPS=OFF -DLWS_WITH_LEJP=OFF
               -DLWS_WITH_LWSAC=OFF -DLWS_WITH_CUSTOM_HEADERS=OFF -DLWS_WITH_SYS_SMD=OFF
               -DLWS_WITH_SYS_STATE=OFF -DLWS_WITH_HTTP_BASIC_AUTH=OFF
               -DLWS_WITH_HTTP_UNCOMMON_HEADERS=OFF -DLWS_CLIENT_HTTP_PROXYING=OFF
               -DLWS_WITH_UDP=OFF -DLWS_UNIX_SOCK=OFF -DLWS_WITH_DIR=OFF
               -DLWS_WITH_LEJP_CONF=OFF -DLWS_IPV6=ON) ;;
    mingw)
        args+=(-DLWS_UNIX_SOCK=OFF -DLWS_IPV6=ON) ;;
    esac
    JOBS=$jobs "$here/build-lws.sh" "$prefix/lws" "${args[@]}" "-DPARLEY_MBEDTLS_KEY=$mbedtls_key"
    # On Windows libwebsockets names its static library apart from the DLL's
    # import library; Parley's CMake looks for libwebsockets.a everywhere.
    if [ -f "$prefix/lws/lib/libwebsockets_static.a" ]; then
        cp "$prefix/lws/lib/libwebsockets_static.a" "$prefix/lws/lib/libwebsockets.a"
    fi
}

work="$prefix/.work"
rm -rf "$work"
mkdir -p "$work"
build_cjson
if [ "$profile" != cjson ]; then
    build_mbedtls
    build_lws
fi
rm -rf "$work"
