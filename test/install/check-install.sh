#!/usr/bin/env bash
# Installs the build into a scratch prefix and moves it elsewhere (an
# installed tree must not depend on where it was installed), then checks
# that both libraries export nothing but parley_*, builds a consumer every
# way a host links: CMake find_package(Parley) (shared, static, and static
# beside a host's own symbols of the same names as Parley's internals and
# OpenSSL's API), pkg-config (shared) and pkg-config --static; and runs the
# installed programs: parley-chat --version, and parley-server with its
# installed default data, answered through the installed parley-chat.
# Usage: check-install.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$work/installed" >"$work/install.log"
mv "$work/installed" "$prefix"
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

# The installed programs run from the prefix alone: no LD_LIBRARY_PATH, not
# from the source tree, and with the data installed beside them.
bin=$prefix/bin
unset LD_LIBRARY_PATH
readelf -d "$bin/parley-chat" | grep -q 'RUNPATH.*\$ORIGIN/' || { echo "parley-chat has no \$ORIGIN runpath"; exit 1; }
version=$("$bin/parley-chat" --version) || { echo "installed parley-chat --version failed"; exit 1; }
[[ $version == "parley-chat "*"(libparley "* ]] || { echo "installed parley-chat --version: $version"; exit 1; }
for f in flows/support.json kb surveys.json sla.json console/index.html console/app.js; do
    [ -e "$prefix/share/parley/$f" ] || { echo "share/parley/$f is not installed"; exit 1; }
done
# The bot's name marks the installed flow: an answer under it can only come
# from share/parley, not from the source tree.
jq '.bot = "Installed Bot"' "$prefix/share/parley/flows/support.json" >"$work/flow.json"
cp "$work/flow.json" "$prefix/share/parley/flows/support.json"
mkdir "$work/run"
(cd "$work/run" && exec "$bin/parley-server" --port 0 --ready-file "$work/run/ready" --db "$work/run/server.db" \
    >"$work/run/server.log" 2>&1) &
server_pid=$!
port=
for _ in $(seq 1 200); do
    port=$(grep -o '[0-9]\+' "$work/run/ready" 2>/dev/null | head -n 1) && [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/run/server.log"; echo "installed parley-server exited"; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "installed parley-server not ready"; exit 1; }
! grep -q 'no surveys' "$work/run/server.log" || { cat "$work/run/server.log"; echo "installed surveys not found"; exit 1; }
echo "hello from the prefix" | timeout 60 "$bin/parley-chat" --url "ws://localhost:$port" --insecure --timeout 30 \
    >"$work/chat.out" 2>&1 || { cat "$work/chat.out"; echo "installed parley-chat got no answer"; exit 1; }
grep -q '^\[bot Installed Bot\] ' "$work/chat.out" ||
    { cat "$work/chat.out" "$work/run/server.log"; echo "the bot did not answer from the installed flow"; exit 1; }
# The agent console comes from share/parley/console too.
curl -sS --fail --max-time 10 "http://localhost:$port/" | grep -q '<title>Parley Support</title>' ||
    { echo "the installed parley-server does not serve the console at /"; exit 1; }
curl -sS --fail --max-time 10 -o /dev/null "http://localhost:$port/console/app.js" ||
    { echo "the installed parley-server does not serve the console's scripts"; exit 1; }
echo "install check: only parley_* exported; find_package (shared, static, beside colliding host symbols), pkg-config and static linking all work; the moved prefix's parley-chat and parley-server run with their installed library and data, the console included"
