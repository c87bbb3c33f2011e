# Thin wrapper over CMake (the neovim pattern). The README documents each target.
BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
LWS_PREFIX := $(CURDIR)/$(BUILD)/deps/lws
CMAKE_ARGS := -DPARLEY_LWS_PREFIX=$(LWS_PREFIX) -DPARLEY_WERROR=ON

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PACKAGES := build-essential cmake pkg-config dpkg-dev clang libclang-rt-14-dev \
                libmbedtls-dev libcjson-dev libsqlite3-dev libcap-dev openssl curl jq valgrind tzdata \
                python3 python3-clang python3-pytest mono-mcs mono-runtime \
                lua5.4 liblua5.4-dev luajit libluajit-5.1-dev \
                gcc-mingw-w64-x86-64 wine wine64 \
                chromium fonts-liberation fonts-dejavu-core

# Issue 17 (beyond one machine): PostgreSQL and Redis for the server's
# second store and fan-out (tests start private instances of both), libuv
# for the server's epoll-based libwebsockets, HAProxy for the cluster.
DEB_PACKAGES += postgresql redis-server libpq-dev libhiredis-dev libuv1-dev haproxy

.PHONY: all deps lws build build-asan build-tsan test test-plain test-asan test-tsan fuzz demo bench clean install api \
        minimal test-minimal bench-size windows test-windows

all: build

# Debian's source entries, for scripts/build-lws.sh (apt-get source
# libwebsockets); written once, said out loud, never overwritten.
DEB_SRC_FILE := /etc/apt/sources.list.d/parley-deb-src.sources

deps:
	@if [ ! -f $(DEB_SRC_FILE) ]; then \
	  echo "make deps: writing $(DEB_SRC_FILE): Debian's deb-src entries, so that"; \
	  echo "make deps: scripts/build-lws.sh can fetch the libwebsockets source package"; \
	  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
	    | $(SUDO) tee $(DEB_SRC_FILE) >/dev/null; \
	else \
	  echo "make deps: $(DEB_SRC_FILE) is there already: left as it is"; fi
	@echo "make deps: installing the Debian packages: $(DEB_PACKAGES)"
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEB_PACKAGES)
	@# The console's browser tests: playwright-core from the checked-in lock
	@# file, driving Debian's chromium (no browser download). Node comes
	@# from Debian unless the machine already has one.
	command -v npm >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends nodejs npm
	cd test/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

lws:
	scripts/build-lws.sh $(LWS_PREFIX)
	scripts/build-lws.sh $(LWS_PREFIX)-uv libuv

build: lws
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)
	cmake --build $(BUILD)/release -j $(JOBS)

# clang, so the same build also holds the libFuzzer targets (PARLEY_FUZZ).
build-asan: lws
	cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=ON -DPARLEY_FUZZ=ON \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ $(CMAKE_ARGS)
	cmake --build $(BUILD)/asan -j $(JOBS)

# ThreadSanitizer, its own clang build: the tests labelled "threaded" (those
# that run the I/O thread or threads of their own, and the server and CLI
# they start). test/tsan.supp holds suppressions for third-party code only.
build-tsan: lws
	cmake -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=Debug -DPARLEY_TSAN=ON \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ $(CMAKE_ARGS)
	cmake --build $(BUILD)/tsan -j $(JOBS)

# clang 14's TSan cannot map its shadow memory when the kernel randomises
# more than 28 bits of mmap addresses; then the tests run without ASLR.
TSAN_RUN := $(shell [ "$$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ] && \
              echo setarch $$(uname -m) -R)
test-tsan: build-tsan
	cd $(BUILD)/tsan && \
	  TSAN_OPTIONS="suppressions=$(CURDIR)/test/tsan.supp halt_on_error=1 second_deadlock_stack=1" \
	  $(TSAN_RUN) ctest -L threaded --output-on-failure -j $(JOBS)

# The minimal static profile: the client-only dependencies of
# scripts/build-deps.sh (mbedTLS for a TLS 1.2 client, client-only
# libwebsockets, cJSON; -Os), Parley with -Os and --gc-sections. Its
# end-to-end tests borrow the default build's tests, server and CLI.
MINIMAL_DEPS := $(CURDIR)/$(BUILD)/deps/minimal
minimal: build
	JOBS=$(JOBS) scripts/build-deps.sh minimal $(MINIMAL_DEPS)
	cmake -S . -B $(BUILD)/minimal -DCMAKE_BUILD_TYPE=MinSizeRel -DPARLEY_WERROR=ON \
	  -DPARLEY_MINIMAL=ON -DPARLEY_DEPS_PREFIX=$(MINIMAL_DEPS) \
	  -DPARLEY_BUILD_EXAMPLES=OFF -DPARLEY_BUILD_BINDINGS=OFF \
	  -DPARLEY_DEFAULT_BUILD=$(CURDIR)/$(BUILD)/release \
	  -DPARLEY_BENCH_SERVER=$(CURDIR)/$(BUILD)/release/test/bench/bench_server
	cmake --build $(BUILD)/minimal -j $(JOBS)

# Its unit tests, and the end-to-end tests against its libparley.so.
test-minimal: minimal
	cd $(BUILD)/minimal && ctest -L 'unit|minimal' --output-on-failure -j $(JOBS)

# Windows, cross-compiled with MinGW-w64 (cmake/mingw-w64.cmake): parley.dll,
# its import library libparley.dll.a, libparley.a and the unit tests as .exe
# files in $(BUILD)/windows/bin, the dependencies built from Debian's
# sources into $(BUILD)/deps/mingw. test-windows runs them under wine
# (test/windows/wine.sh), with the end-to-end test against the Linux
# server of `make build`.
WINDOWS_DEPS := $(CURDIR)/$(BUILD)/deps/mingw
HAVE_MINGW := $(shell command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 && echo yes)
windows:
ifeq ($(HAVE_MINGW),yes)
	JOBS=$(JOBS) scripts/build-deps.sh mingw $(WINDOWS_DEPS)
	cmake -S . -B $(BUILD)/windows -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/mingw-w64.cmake \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARLEY_WERROR=ON -DPARLEY_DEPS_PREFIX=$(WINDOWS_DEPS) \
	  -DPARLEY_LINUX_BUILD=$(CURDIR)/$(BUILD)/release
	cmake --build $(BUILD)/windows -j $(JOBS)
else
	@echo "windows: skipped: x86_64-w64-mingw32-gcc is not installed (make deps installs it)"
endif

test-windows: build windows
ifeq ($(HAVE_MINGW),yes)
	cd $(BUILD)/windows && ctest --output-on-failure -j $(JOBS)
else
	@echo "test-windows: skipped: x86_64-w64-mingw32-gcc is not installed (make deps installs it)"
endif

# The footprint of both profiles (test/bench/README.md, "Footprint").
bench-size: build minimal
	JOBS=$(JOBS) scripts/build-deps.sh cjson $(CURDIR)/$(BUILD)/deps/default
	test/bench/bench-size.sh $(BUILD)/release $(BUILD)/minimal $(BUILD)/deps

test-plain: build
	cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(BUILD)/asan && ctest --output-on-failure -j $(JOBS)

# The whole suite plain, then under ASan+UBSan (with a short run of every
# fuzz target), then the threaded tests under ThreadSanitizer, then the
# minimal profile, then the Windows build under wine.
test: test-plain test-asan test-tsan test-minimal test-windows

# Every libFuzzer target for FUZZ_SECONDS each, or with FUZZ_RUNS for that
# many executions each (issue 10's long runs: FUZZ_RUNS=10000000);
# FUZZ_TARGETS="fuzz_a fuzz_b" picks targets. What they find stays in
# $(BUILD)/asan/fuzz-work (test/fuzz/README.md).
FUZZ_SECONDS ?= 60
fuzz: build-asan
	test/fuzz/run-fuzz.sh $(if $(FUZZ_RUNS),--runs $(FUZZ_RUNS),--time $(FUZZ_SECONDS)) \
	  $(BUILD)/asan $(CURDIR)/../shared/testdata/JSONTestSuite/test_parsing

# Each fuzz target's executions per CPU second under run-fuzz.sh's ASan
# options against ASan's defaults, side by side (test/fuzz/README.md); on the
# corpus `make fuzz` grew in $(BUILD)/asan/fuzz-work, else on the seeds.
.PHONY: bench-fuzz
bench-fuzz: build-asan
	test/fuzz/bench-fuzz.sh $(BUILD)/asan

# Needs `make deps` once; writes only under $(BUILD) (the demo's files in
# $(BUILD)/release/demo, remade on each run).
demo: build
	scripts/demo.sh --serve $(BUILD)/release

# Every figure as `bench NAME: parley=<v><unit> baseline=<v><unit> ratio=<r>`
# (test/bench/README.md says what each one measures); 30 to 40 s.
BENCHES := bench_poll bench_journal bench_rtt bench_inbound bench_calls bench_idle bench_cost
bench: build
	@for b in $(BENCHES); do $(BUILD)/release/test/bench/$$b || exit 1; done

# parley-server at scale (issue 17, test/bench/README.md): idle TLS
# connections by the thousand (RSS, idle CPU, accept rate; libuv against
# poll()) and messages persisted per second; a few minutes.
.PHONY: bench-server
bench-server: build
	$(BUILD)/release/test/bench/bench_scale $(BENCH_SERVER_ARGS)

# 100,000 simulated clients reconnecting to a backend that restarts
# (test/sim/README.md): the reconnect spread, crash against goaway.
.PHONY: sim
sim: build
	$(BUILD)/release/test/sim/sim_reconnect $(SIM_ARGS)

# The delivery promise under fire (issue 3); CHAOS_ARGS="--seed N" replays a run.
# Three parley-server instances on one store with Redis behind HAProxy: a
# conversation across instances and a drain (docs/scaling.md).
.PHONY: cluster-demo
cluster-demo: build
	scripts/cluster.sh demo $(BUILD)/cluster-demo --build $(BUILD)/release $(CLUSTER_ARGS)

.PHONY: chaos
chaos: build
	test/chaos/chaos.sh --build $(BUILD)/release $(CHAOS_ARGS)

# The code style (.clang-format, clang-format 14): names the files that
# differ from it; nothing is rewritten. Not part of `make test` until the
# tree is clean; scripts/format-check.sh --diff shows the changes.
DEB_PACKAGES += clang-format
.PHONY: format-check
format-check:
	scripts/format-check.sh

# bindings/api.json from include/parley.h, then each binding's generated
# layer from it (bindings/README.md); commit the result. Debian's python3
# is the one with python3-clang.
api:
	/usr/bin/python3 scripts/gen-api.py
	/usr/bin/python3 scripts/gen-bindings.py

install: build
	cmake --install $(BUILD)/release

clean:
	rm -rf $(BUILD)/release $(BUILD)/asan $(BUILD)/tsan $(BUILD)/minimal $(BUILD)/windows
