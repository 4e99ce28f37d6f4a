# gtrace top-level Makefile: a thin driver around CMake + ctest.
#   make demo     install build deps (as root), build, run the demo pipeline
#   make test     install build deps (as root), build, run every test
#   make bench    build in Release and run the benchmarks
#   make install  install the library, headers, gtrace.pc, CMake package, CLI
#   make asan     build with ASan+UBSan in build-asan, run ctest (docs/reliability.md)
#   make tsan     build with TSan in build-tsan, run the ring/collector tests
#   make fuzz     build the libFuzzer targets with clang, fuzz each FUZZ_SECONDS
#   make fuzz-merge  add the inputs `make fuzz` found that add coverage to
#                 tests/fuzz/corpus/ (review, then commit them)
#   make soak     outside CI: 110 load runs through one session, fail on fd/memory/segment growth (~10 min)

BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGT_WERROR=ON
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

# Sanitizer runs: every report goes to a file under <build>/sanitizer-logs
# as well as failing the process (halt_on_error, -fno-sanitize-recover), and
# the run fails if any report file exists, so a report in a child process
# whose exit status a test does not check still fails the run.
SAN_COMMON = halt_on_error=1:print_stacktrace=1:log_exe_name=1
ASAN_ENV = ASAN_OPTIONS=$(SAN_COMMON):detect_leaks=1:abort_on_error=0:log_path=$(CURDIR)/$(ASAN_BUILD)/sanitizer-logs/asan \
	UBSAN_OPTIONS=$(SAN_COMMON):log_path=$(CURDIR)/$(ASAN_BUILD)/sanitizer-logs/ubsan
TSAN_ENV = TSAN_OPTIONS=$(SAN_COMMON):second_deadlock_stack=1:log_path=$(CURDIR)/$(TSAN_BUILD)/sanitizer-logs/tsan
# Tests left out of the ASan+UBSan run, and why:
#   cli.install.*  build an outside project against the installed library
#                  without sanitizer flags, which cannot link/load a sanitized
#                  libgtrace (they run in `make test`)
#   cli.demo.demo  asserts zero loss at 2 M events in the perf step, a
#                  throughput promise an instrumented collector cannot keep
ASAN_EXCLUDE ?= ^(cli\.install\.|cli\.demo\.demo$$)
# The TSan run: the multi-threaded code (rings, collector + writer thread,
# end-to-end runs and long-lived sessions with rotate)
TSAN_TESTS ?= unit.test_lib|unit.test_collector|unit.test_batch|unit.test_session|unit.test_system|unit.test_window|cli.e2e|cli.session|cli.memory|cli.system

# Debian packages the build and the tests need.
DEB_PACKAGES := build-essential cmake pkg-config libzstd-dev libxxhash-dev \
	libjansson-dev python3 clang libclang-rt-14-dev libtracefs-dev libtraceevent-dev

.PHONY: all deps configure build test demo install bench clean asan tsan fuzz fuzz-merge soak

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "missing Debian packages; run as root:"; \
			echo "  apt-get install -y$$missing"; \
			exit 1; \
		fi; \
	fi

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: build
	GTRACE=$(CURDIR)/$(BUILD)/cli/gtrace DEMO_BIN=$(CURDIR)/$(BUILD)/examples/demo \
		sh examples/demo/run_demo.sh

install: build
	cmake --install $(BUILD)

bench: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release
	cmake --build build-bench -j $(JOBS)
	sh bench/run_bench.sh build-bench

# $(call gt_san_check,BUILD_DIR): fail if the run left sanitizer reports
gt_san_check = @if [ -n "$$(ls -A $(1)/sanitizer-logs 2>/dev/null)" ]; then \
		echo "sanitizer reports in $(1)/sanitizer-logs:"; \
		for f in $(1)/sanitizer-logs/*; do echo "== $$f"; cat "$$f"; done; exit 1; \
	fi

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DGT_SANITIZE=address,undefined $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	rm -rf $(ASAN_BUILD)/sanitizer-logs && mkdir -p $(ASAN_BUILD)/sanitizer-logs
	$(ASAN_ENV) ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) \
		-E '$(ASAN_EXCLUDE)'
	$(call gt_san_check,$(ASAN_BUILD))

# setarch -R: gcc 12's TSan runtime cannot map its shadow with the
# kernel's full mmap randomisation (vm.mmap_rnd_bits = 32)
tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DGT_SANITIZE=thread $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	rm -rf $(TSAN_BUILD)/sanitizer-logs && mkdir -p $(TSAN_BUILD)/sanitizer-logs
	$(TSAN_ENV) setarch -R ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) \
		-R '$(TSAN_TESTS)'
	$(call gt_san_check,$(TSAN_BUILD))

fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DGT_FUZZ=ON -DGT_SANITIZE=address,undefined $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all
	tests/fuzz/run_fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-merge:
	tests/fuzz/run_fuzz.sh --merge $(FUZZ_BUILD)

# Soak (docs/reliability.md): one long-lived session, SOAK_ITERATIONS load
# runs (tests/soak/soak.sh lists its knobs); not part of `make test`.
SOAK_BUILD ?= build-soak
soak: deps
	cmake -S . -B $(SOAK_BUILD) $(CMAKE_FLAGS)
	cmake --build $(SOAK_BUILD) -j $(JOBS) --target gtrace gt_load
	tests/soak/soak.sh $(SOAK_BUILD)

clean:
	rm -rf $(BUILD) build-bench $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
