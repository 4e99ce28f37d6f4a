# gtrace top-level Makefile: a thin driver around CMake + ctest.
#   make demo     install build deps (as root), build, run the demo pipeline
#   make test     install build deps (as root), build, run every test
#   make bench    build in Release and run the benchmarks
#   make install  install the library, headers, gtrace.pc, CMake package, CLI

BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGT_WERROR=ON

# Debian packages the build and the tests need.
DEB_PACKAGES := build-essential cmake pkg-config libzstd-dev libxxhash-dev \
	libjansson-dev python3

.PHONY: all deps configure build test demo install bench clean

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

clean:
	rm -rf $(BUILD) build-bench
