# The two set-up commands: `make dev` and `make test`. See README.md.
BUILD ?= build
JOBS ?= $(shell nproc)
PY := /usr/bin/python3
export CCACHE_DIR ?= $(HOME)/.cache/ccache

.PHONY: deps configure build dev demo test unit e2e bench asan clean

deps:
	@bash scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

dev: build
	$(BUILD)/vault server -dev

# The seed's Quick Start against the project's IAM/STS emulator (no AWS account needed).
demo: build
	@bash scripts/demo.sh

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

e2e: build
	VAULT_BIN=$(abspath $(BUILD)/vault) $(PY) -m pytest -q tests/e2e

test: unit e2e

bench: build
	@bash scripts/install-deps --bench
	VAULT_BIN=$(abspath $(BUILD)/vault) bash bench/run.sh

# Unit tests under ASan+UBSan (a separate build tree).
asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVAULT_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
