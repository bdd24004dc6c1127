# iommu-watch — build, run, test. Every target installs what it needs (Debian 12, as root).
SWIFT_BIN ?= /opt/swift/usr/bin
export PATH := $(SWIFT_BIN):$(PATH)
SWIFT ?= swift
RELEASE_FLAGS := -c release --static-swift-stdlib
BINARY := .build/release/iommu-watch

.PHONY: all deps test-deps build release scan test unit-test cli-test clean fuzz fuzz-smoke

all: release

deps:
	tools/install-deps build

test-deps:
	tools/install-deps test

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product iommu-watch

## The main job: scan this machine, or a bundled real capture when it has no IOMMU groups.
scan: release
	tools/scan-here $(BINARY)

## Every test: unit tests, the CLI's contract.
test: test-deps
	$(MAKE) unit-test cli-test fuzz-smoke

unit-test:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

cli-test: release
	Tests/CLI/run $(BINARY)

clean:
	rm -rf .build .build-*

## Fuzz every parser (libFuzzer + ASan), seeded with the real captures. FUZZ_RUNS per target.
FUZZ_RUNS ?= 10000000
fuzz:
	Fuzz/run --runs $(FUZZ_RUNS)

fuzz-smoke:
	Fuzz/run --runs 20000

## Benchmark, not a test: scan against the C syscall floor and the shell loop on
## 2,048 x 8 synthetic devices (bench-large: also 8,192 x 8); appends to docs/performance.md.
.PHONY: bench bench-large
bench: release
	BENCH_BUILD_FLAGS="$(RELEASE_FLAGS)" BENCH_COMMAND="make bench" Benchmarks/run
bench-large: release
	BENCH_BUILD_FLAGS="$(RELEASE_FLAGS)" BENCH_COMMAND="make bench-large" Benchmarks/run --large
