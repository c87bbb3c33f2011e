#!/usr/bin/env bash
# Installs the build into a scratch prefix, checks that both libraries
# export nothing but parley_*, and builds a consumer every way a host links:
# CMake find_package(Parley) (shared, static, and static beside a host's own
# symbols of the same names as Parley's internals and OpenSSL's API),
# pkg-config (shared) and pkg-config --static.
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

# A host links libparley.a into its own program: any global but parley_*
# could collide with the host's code or its own OpenSSL/libwebsockets.
foreign=$(nm -g --defined-only "$libdir/libparley.a" | awk 'NF == 3 && $3 !~ /^parley_/ { print $3 }')
[ -z "$foreign" ] || { echo "libparley.a defines non-parley_ globals:"; echo "$foreign" | head -20; exit 1; }
# Only the version node (an absolute symbol) may stand beside parley_*.
foreign=$(nm -D --defined-only "$libdir/libparley.so.0" | awk 'NF == 3 && $2 != "A" && $3 !~ /^parley_/ { print $3 }')
[ -z "$foreign" ] || { echo "libparley.so exports non-parley_ symbols:"; echo "$foreign" | head -20; exit 1; }
# Everything of libwebsockets it uses is inside; only system libraries are left.
unresolved=$(nm -u "$libdir/libparley.a" | awk '$2 ~ /^(lws|_lws|SSL_|X509_)/ { print $2 }')
[ -z "$unresolved" ] || { echo "libparley.a leaves libwebsockets symbols undefined:"; echo "$unresolved" | head; exit 1; }

cmake -S "$here" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log"
cmake --build "$work/cmake" >>"$work/cmake.log"
LD_LIBRARY_PATH=$libdir "$work/cmake/consumer_cmake"
"$work/cmake/consumer_cmake_static"
! ldd "$work/cmake/consumer_cmake_static" | grep -q libparley || { echo "static consumer uses libparley.so"; exit 1; }
"$work/cmake/consumer_cmake_collide"

export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -std=c11 "$here/consumer.c" $(pkg-config --cflags --libs parley) -o "$work/consumer_pc"
LD_LIBRARY_PATH=$libdir "$work/consumer_pc"

cc -std=c11 "$here/consumer.c" -static-libgcc $(pkg-config --cflags parley) \
    "$libdir/libparley.a" $(pkg-config --libs-only-other --libs-only-l --static parley | sed 's/-lparley//') \
    -o "$work/consumer_static"
"$work/consumer_static"
echo "install check: only parley_* exported; find_package (shared, static, beside colliding host symbols), pkg-config and static linking all work"
