#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds a consumer three ways:
# CMake find_package(Parley), pkg-config (shared) and pkg-config --static.
# Usage: check-install.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
libdir=$(find "$prefix" -name 'libparley.so.0' -printf '%h\n' | head -n 1)
[ -n "$libdir" ] || { echo "no libparley.so.0 installed"; exit 1; }
readelf -d "$libdir/libparley.so.0" | grep -q 'SONAME.*libparley.so.0' || { echo "SONAME missing"; exit 1; }
! ldd "$libdir/libparley.so.0" | grep -qi 'libssl\|libcrypto' || { echo "libparley links OpenSSL"; exit 1; }

cmake -S "$here" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log"
cmake --build "$work/cmake" >>"$work/cmake.log"
LD_LIBRARY_PATH=$libdir "$work/cmake/consumer_cmake"

export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -std=c11 "$here/consumer.c" $(pkg-config --cflags --libs parley) -o "$work/consumer_pc"
LD_LIBRARY_PATH=$libdir "$work/consumer_pc"

cc -std=c11 "$here/consumer.c" -static-libgcc $(pkg-config --cflags parley) \
    "$libdir/libparley.a" $(pkg-config --libs-only-other --libs-only-l --static parley | sed 's/-lparley//') \
    -o "$work/consumer_static"
"$work/consumer_static"
echo "install check: find_package, pkg-config and static linking all work"
