# Tenantbase — the commands a developer needs. `make run` and `make test` install what is
# missing first (scripts/setup), so both work on a fresh Debian 12 machine.
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all setup build build-asan run test unit e2e bench fuzz soak format lint sdk clean

all: build

setup:
	@scripts/setup

# Release build; the binary is $(BUILD)/tenantbase.
build: setup
	@scripts/build $(BUILD) Release

build-asan: setup
	@scripts/build $(ASAN_BUILD) Debug -DTB_SANITIZE=ON

run: build
	@mkdir -p data
	@echo "Starting Tenantbase on http://localhost:8080 (data in ./data)."
	@echo "Sign in: POST /v1/auth/login with the admin printed below on first start,"
	@echo "or the one from TB_ADMIN_EMAIL / TB_ADMIN_PASSWORD."
	$(BUILD)/tenantbase serve --data ./data --http 0.0.0.0:8080

# Unit tests and end-to-end tests, on the release and the ASan+UBSan builds, on SQLite and
# on a throwaway PostgreSQL cluster.
test: setup
	@scripts/test

# Each fuzz target (src/**/*_fuzz.cpp) over its corpus, then FUZZ_SECONDS (default 60) of new
# inputs, under ASan+UBSan (scripts/fuzz). `make test` runs the same for 10 s each.
fuzz: setup
	@scripts/fuzz

# 30 minutes of mixed traffic against the ASan+UBSan build (bench/soak; SOAK_SECONDS):
# no sanitizer report, no failed request, RSS and descriptors flat after the warm-up.
soak: setup
	@bench/soak

bench: build
	@bench/run
	@bench/limits-overhead
	@bench/files
	@bench/realtime

# The TypeScript SDK (sdk/typescript) from docs/openapi.yaml: regenerate after changing it.
sdk: setup
	@scripts/sdk

format:
	@find src -name '*.h' -o -name '*.cpp' | xargs clang-format -i

# clang-tidy on the C++ files changed against HEAD (and untracked ones).
lint: build
	@scripts/lint

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
