# Thin wrapper over CMake and ctest. Every entry point installs the
# dependencies first (scripts/deps.sh, idempotent), so that a fresh Debian
# machine needs nothing else.
#
#   make run     build and run vigild in the foreground on this host
#   make test    build with ASan+UBSan and run every test, then the fuzz smoke run
#   make bench   build optimised and run the benchmarks
#   make install install (DESTDIR= for a staging directory); a user's
#                /etc/vigil/vigil.lua is never overwritten
#   make package build/vigil_<version>_<arch>.deb

JOBS      ?= $(shell nproc)
BUILD     ?= build
ASAN      ?= build-asan
FUZZ      ?= build-fuzz
RUN_DIR   ?= $(CURDIR)/$(BUILD)/run
FUZZ_TIME ?= 20

.PHONY: all deps build run test unit e2e fuzz bench install package clean

all: build

deps:
	@sh scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Runs on this host with the shipped config and policies, with state, socket
# and plugins in the build tree so that nothing needs installing. The
# config's policy_dirs apply, with the shipped policies taken from the
# source tree (and its outputs' modules from the build tree).
run: build
	mkdir -p $(RUN_DIR)
	VIGIL_OUTPUT_DIR=$(CURDIR)/$(BUILD)/outputs exec $(BUILD)/vigild --config etc/vigil/vigil.lua \
	  --state-dir $(RUN_DIR)/state --socket $(RUN_DIR)/vigild.sock \
	  --plugin-dir $(BUILD)/plugins --shipped-policy-dir lua/policies \
	  --trusted-owner $$(stat -c %u .)

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

package: build
	cd $(BUILD) && cpack -G DEB

# The fuzz smoke run goes first so that ctest's closing summary is the one of
# the whole suite; the optimised build (what `make run` uses) is built too,
# since some warnings only show at -O2.
test: deps fuzz build
	cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DVIGIL_SANITIZE=ON >/dev/null
	cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -LE fuzz

# The fuzz smoke run: libFuzzer (clang) on every fuzz target for FUZZ_TIME
# seconds each (make fuzz FUZZ_TIME=600 for a longer run), starting from the
# seed corpus.
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=Debug -DVIGIL_FUZZ=ON \
	  -DVIGIL_FUZZ_TIME=$(FUZZ_TIME) >/dev/null
	cmake --build $(FUZZ) -j $(JOBS) --target $$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$$//')
	cd $(FUZZ) && ctest --output-on-failure -L fuzz

bench: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build-bench -j $(JOBS)
	@for b in build-bench/bench/bench_*; do echo "== $$b"; $$b || exit 1; done
	@for b in bench/*.sh; do [ -e "$$b" ] || continue; echo "== $$b"; VIGIL_BUILD=build-bench bash $$b || exit 1; done

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ) build-bench
