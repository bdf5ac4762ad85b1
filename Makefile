# The two set-up commands: `make dev` and `make test`. See README.md.
BUILD ?= build
JOBS ?= $(shell nproc)
PY := /usr/bin/python3
export CCACHE_DIR ?= $(HOME)/.cache/ccache
# Object files hash the same in any checkout (paths under it become relative).
export CCACHE_BASEDIR ?= $(CURDIR)

.PHONY: deps configure build ui ui-test dev demo test unit e2e lint bench asan e2e-asan tsan fuzz package clean

deps:
	@bash scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

# The web UI's built files (ui/dist) are checked in; they are rebuilt first when the ui/ sources
# changed and Node.js is installed (scripts/ui-build). `make ui` rebuilds them regardless.
build: configure
	@bash scripts/ui-build
	@cmake --build $(BUILD) -j $(JOBS)

ui:
	@bash scripts/ui-build --force

dev: build
	$(BUILD)/vault server -dev

# The Quick Start of Vault 0.2's AWS backend docs against the project's IAM/STS emulator
# (no AWS account needed).
demo: build
	@bash scripts/demo.sh

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

e2e: build
	VAULT_BIN=$(abspath $(BUILD)/vault) $(PY) -m pytest -q tests/e2e

# The web UI's unit tests (Vitest); skipped, saying so, where Node.js is not installed.
ui-test:
	@bash scripts/ui-build --test

test: unit ui-test e2e

# Source checks CI runs before the tests: clang-format (.clang-format) and the module layering
# (the table in docs/architecture.md).
lint: deps
	@bash scripts/check-format
	@$(PY) scripts/check-layering

bench: build
	@bash scripts/install-deps --bench
	VAULT_BIN=$(abspath $(BUILD)/vault) bash bench/run.sh

# Unit tests under ASan+UBSan (a separate build tree).
asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE= -DVAULT_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

# Unit tests under ThreadSanitizer (a separate build tree; third-party suppressions with their
# reasons in tsan.supp). Any report fails the test that produced it.
tsan: deps
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE= -DVAULT_TSAN=ON >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(abspath tsan.supp)" \
	  ctest --output-on-failure -j $(JOBS)

# The end-to-end tests against an ASan+UBSan server binary (any report fails the run).
e2e-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE= -DVAULT_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS) --target vault
	rm -f build-asan/asan.*
	ASAN_OPTIONS=detect_leaks=0:log_path=$(abspath build-asan)/asan VAULT_BIN=$(abspath build-asan/vault) $(PY) -m pytest -q tests/e2e
	@if ls build-asan/asan.* >/dev/null 2>&1; then cat build-asan/asan.*; echo "ASan reported errors"; exit 1; fi

# libFuzzer targets (fuzz/: every parser that meets outside input) in a clang tree of their own
# with ASan+UBSan: each runs FUZZ_SECONDS on a copy of its seed corpus, one line per target; any
# crash fails. FUZZ_TARGETS="json hcl" runs only those. See fuzz/README.md.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -DVAULT_FUZZ=ON -DVAULT_JEMALLOC=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	@bash scripts/run-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# A Debian package (build/vault-cpp_<version>_amd64.deb): the binary, /etc/vault-cpp/vault.hcl
# and a hardened systemd unit (packaging/). Install: apt install ./build/vault-cpp_*.deb
package: build
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD)
