# tinvestd — the two commands a newcomer needs are `make run` and `make test`.
# Both install what is missing (scripts/install-deps.sh), build, and go.

MAKEFLAGS += --no-print-directory

BUILD_DIR      ?= build
TEST_BUILD_DIR ?= build-asan
JOBS           ?= $(shell nproc)
RUN_DIR        ?= run
LISTEN         ?= 127.0.0.1:50051
TLS_LISTEN     ?= 127.0.0.1:50052
SANDBOX_LISTEN ?= 127.0.0.1:50053
SANDBOX_TLS_LISTEN ?= 127.0.0.1:50054
HTTP_LISTEN    ?= 127.0.0.1:50055
BACKTEST_LISTEN ?= 127.0.0.1:50061
BACKTEST_PERIOD ?=
BACKTEST_SPEED  ?= 60
SIM_SECONDS    ?= 300
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_CC        ?= clang-14
FUZZ_SECONDS   ?= 300
FUZZ_TARGETS   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGET    ?= $(FUZZ_TARGETS)

.PHONY: all build tinvestctl deps run test fuzz-build fuzz fuzz-corpus crash-soak recycle-soak sim bench clean \
	format backtest-demo backtest-python

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The operator's command line alone (make build makes it too), next to tinvestd in $(BUILD_DIR).
tinvestctl: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target tinvestctl

# The test build runs everything under AddressSanitizer + UndefinedBehaviorSanitizer; the plain
# build is compiled too so that both sets of warnings are errors. Then each fuzz target of
# tests/fuzz runs briefly from its committed corpus (the tests fuzz.<target>, FUZZ_TEST_SECONDS
# each, in the fuzz build), so a change that breaks a reader of untrusted input fails here.
test: build
	@cmake -S . -B $(TEST_BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug -DTINVESTD_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD_DIR) -j $(JOBS)
	@cd $(TEST_BUILD_DIR) && ctest --output-on-failure -j 2
	@$(MAKE) fuzz-build
	@cd $(FUZZ_BUILD_DIR) && ctest --output-on-failure -j 2

# The fuzz build: clang with libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer, in a
# directory of its own; only the fuzz targets and the modules they feed (docs/TESTING.md).
fuzz-build: deps
	@cmake -S . -B $(FUZZ_BUILD_DIR) -DCMAKE_C_COMPILER=$(FUZZ_CC) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DTINVESTD_FUZZ=ON $(if $(FUZZ_TEST_SECONDS),-DFUZZ_TEST_SECONDS=$(FUZZ_TEST_SECONDS)) >/dev/null
	@cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS)

# Fuzzes FUZZ_SECONDS per target (FUZZ_TARGET=name for one), keeping what it finds in
# $(FUZZ_BUILD_DIR)/fuzz/<target>/corpus for the next run. A crash prints its input and the command
# that reproduces it; the others still run, and the make fails at the end.
fuzz: fuzz-build
	@failed=""; for target in $(FUZZ_TARGET); do \
		scripts/fuzz.sh run $(FUZZ_BUILD_DIR) $$target $(FUZZ_SECONDS) || failed="$$failed $$target"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashed:$$failed"; exit 1; fi

# Writes the seed corpus tests/fuzz/corpus/<target>/ again from the project's own writers (after a
# change of a request, the journal or the snapshot format). Inputs added by hand stay.
fuzz-corpus: fuzz-build
	@$(FUZZ_BUILD_DIR)/fuzz_make_corpus $(CURDIR)

# 200+ kill -9 rounds against the journal (make test runs 20).
crash-soak: build
	@cd tests/integration && TINVESTD_BIN=$(CURDIR)/$(BUILD_DIR)/tinvestd TINVESTD_SOURCE_DIR=$(CURDIR) \
		CRASH_ROUNDS=$${CRASH_ROUNDS:-200} node --test crash.test.mjs

# 2 000 000 market orders through a pool of 100 000 with a 2 s retention: no capacity refusal, no
# INTERNAL, flat memory, and a restart into the same state.
recycle-soak: build
	@scripts/recycle-soak.sh $(BUILD_DIR)

# The deterministic simulator (docs/TESTING.md) on the release build: random seeds for
# SIM_SECONDS, or one seed replayed with its trace: make sim SEED=N [SIM_STEPS=S]
# [SIM_FLAGS="--expose NAME"]. A failure prints the exact command that reproduces it.
SIM_STEPS_FLAG = $(if $(SIM_STEPS),--steps $(SIM_STEPS))
sim: build
	@if [ -n "$(SEED)" ]; then \
		$(BUILD_DIR)/tinvestd_sim --seed $(SEED) $(SIM_STEPS_FLAG) --verbose $(SIM_FLAGS); \
	else \
		$(BUILD_DIR)/tinvestd_sim --random --seconds $(SIM_SECONDS) $(SIM_STEPS_FLAG) $(SIM_FLAGS); \
	fi

# The broker's endpoint and the sandbox endpoint, each plaintext and TLS, and the REST proxy on
# the HTTP listener (docs/PROTOCOL.md).
run: build
	@scripts/run-demo.sh $(BUILD_DIR)/tinvestd $(RUN_DIR) $(LISTEN) $(TLS_LISTEN) $(SANDBOX_LISTEN) \
		$(SANDBOX_TLS_LISTEN) $(HTTP_LISTEN)

# A replay of a synthetic demo history in the foreground on $(BACKTEST_LISTEN), fresh each time,
# for the example bot (README, "Backtest a bot in two commands"; docs/BACKTEST.md).
backtest-demo: build
	@scripts/backtest-demo.sh $(BUILD_DIR)/tinvestd $(RUN_DIR) $(BACKTEST_LISTEN) "$(BACKTEST_PERIOD)" \
		$(BACKTEST_SPEED)

# The example bot with the official Python SDK (a checkout: SDK=DIR), twice at --speed 60 and twice
# at step: each pair must write the same report. Not part of `make test` (docs/TESTING.md).
backtest-python: build
	@if [ -z "$(SDK)" ]; then echo "usage: make backtest-python SDK=DIR [PYTHON=python3]"; exit 2; fi
	@scripts/backtest-python-check.sh "$(SDK)" $(BUILD_DIR)

bench: build
	@scripts/bench.sh $(BUILD_DIR)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR) $(FUZZ_BUILD_DIR)
