# Thin wrapper over CMake for the README's commands.
#
#   make              build everything into build/ (programs in build/bin/)
#   make run          a node on 127.0.0.1:8080 (data in ./var) with a demo repository
#   make test         unit tests, then conformance when ../shared/conformance exists
#   make asan         the unit tests and conformance under ASan+UBSan (build-asan/)
#   make fuzz         the libFuzzer targets with clang (build-fuzz/fuzz/)
#   make bench        build and run the benchmarks in bench/ (and bench/node/)
#   make conformance  the conformance suites only
#   make format       clang-format every C file
#
# WERROR=1 turns warnings into errors (CI sets it).

BUILD ?= build
WERROR ?= 0
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS = -DGUTS_WERROR=$(if $(filter 1,$(WERROR)),ON,OFF)
CONFORMANCE ?= ../shared/conformance

.PHONY: all deps build run test unit conformance asan fuzz bench format clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/run.sh $(BUILD)/bin

test: build
	@$(MAKE) --no-print-directory unit conformance BUILD=$(BUILD)

unit:
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

conformance:
	@scripts/conformance.sh $(BUILD)/bin/guts $(CONFORMANCE)

asan:
	@$(MAKE) --no-print-directory build BUILD=build-asan \
		CMAKE_FLAGS="$(CMAKE_FLAGS) -DGUTS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) --no-print-directory unit conformance BUILD=build-asan

fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DGUTS_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	@echo "fuzz targets are in build-fuzz/fuzz/; scripts/fuzz.sh runs them"

bench: build
	@scripts/deps.sh --bench
	@scripts/bench.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
