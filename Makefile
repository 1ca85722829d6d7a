# Pollux top-level Makefile: a thin wrapper over meson/ninja.
#   make            build (build/)
#   make run        build, start pollux_tgt on a demo config and show it serving
#   make check      build release + ASan/UBSan (+ fuzzers) and run every test
#   make bench      run the benchmarks in bench/
#   make fuzz       run every fuzzer longer (FUZZ_SECONDS, default 300)
#   make interop    QEMU-guest interop tests (test/interop/)
#   make format / format-check

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 300
CHECK_FUZZ_SECONDS ?= 15
SRC_DIRS   := include lib app test bench examples

# Debian's interpreter starts in a tenth of the time of a version-manager shim.
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
export PYTHON

export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=0

.PHONY: all deps run check bench fuzz interop format format-check clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@scripts/check_deps.sh || scripts/pkgdep.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) --buildtype=debugoptimized

$(ASAN_BUILD)/build.ninja: | deps
	meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=undefined

$(FUZZ_BUILD)/build.ninja: | deps
	CC=clang meson setup $(FUZZ_BUILD) --buildtype=debug -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false

run: all
	@scripts/demo.sh $(BUILD)

check: $(BUILD)/build.ninja $(ASAN_BUILD)/build.ninja $(FUZZ_BUILD)/build.ninja
	ninja -C $(BUILD)
	ninja -C $(ASAN_BUILD)
	ninja -C $(FUZZ_BUILD)
	$(PYTHON) test/run_tests.py --build $(BUILD) --build $(ASAN_BUILD) \
		--fuzz-build $(FUZZ_BUILD) --fuzz-seconds $(CHECK_FUZZ_SECONDS) --interop-quick

bench: all
	bench/run_all.sh $(BUILD)

fuzz: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	$(PYTHON) test/run_tests.py --only fuzz --fuzz-build $(FUZZ_BUILD) --fuzz-seconds $(FUZZ_SECONDS)

interop: all
	test/interop/run.sh

format:
	find $(SRC_DIRS) -name '*.[ch]' | xargs clang-format -i

format-check:
	@find $(SRC_DIRS) -name '*.[ch]' | xargs clang-format --dry-run --Werror && echo "format: ok"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
