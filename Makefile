# iommu-watch — build, run, test. Every target installs what it needs (Debian 12, as root).
SWIFT_BIN ?= /opt/swift/usr/bin
export PATH := $(SWIFT_BIN):$(PATH)
SWIFT ?= swift
## Reproducible (make deb-reproducible, tools/reproducible-elf): no DWARF skeleton units for the
## imported C modules (CSystemd, CLinux), whose clang module signature differs from one build to the
## next; the checkout's path in the debug info is /usr/src/iommu-watch, wherever it was built.
REPRODUCIBLE_FLAGS := -Xswiftc -Xfrontend -Xswiftc -no-clang-module-breadcrumbs \
	-Xswiftc -debug-prefix-map -Xswiftc $(CURDIR)=/usr/src/iommu-watch -Xcc -fdebug-prefix-map=$(CURDIR)=/usr/src/iommu-watch
RELEASE_FLAGS := -c release --static-swift-stdlib $(REPRODUCIBLE_FLAGS)
BINARY := .build/release/iommu-watch

.PHONY: all deps test-deps build release scan test unit-test lint format cli-test clean fuzz fuzz-smoke

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

## Every test: unit tests, the CLI's contract, a short fuzz of every parser, the daemon against a
## private journald and in systemd guests (nspawn, then QEMU with a real hotplug), the real-kernel matrix
## (x86 in full, one ARM64 configuration per kernel line); the Prometheus rules, a real node_exporter
## scrape, journal forwarding, the .deb in a clean guest.
test: test-deps
	$(MAKE) unit-test cli-test fuzz-smoke daemon-test rules-test scrape-test forward-test chaos-smoke guest-test deb-guest-test qemu-guest-test realkernel-ci

## The quick loop: the layout check, then every unit test.
unit-test: lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## The layout of every Swift file, as .swift-format says (the toolchain's swift-format);
## `make format` rewrites the files to it.
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Fuzz Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Fuzz Package.swift

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

## ---- daemon: install, uninstall, daemon tests, benchmark (docs/daemon.md) ----
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
BINDIR := $(PREFIX)/bin
UNITDIR ?= $(PREFIX)/lib/systemd/system
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog
MANDIR ?= $(PREFIX)/share/man
MAN_OUT := .build/man

.PHONY: install uninstall man daemon-test guest-test daemon-benchmark

## Man pages, one per command, by the tool behind swift-argument-parser's generate-manual plugin,
## run on the release binary: what `swift package generate-manual` runs, without the plugin's own
## release build, which uses other flags than `release` and would make each rebuild the other.
## The pages' date is SOURCE_DATE_EPOCH's when it is set (reproducible builds, `make deb`), else today.
man: release
	$(SWIFT) build --product generate-manual
	mkdir -p $(MAN_OUT)
	$$($(SWIFT) build --show-bin-path)/generate-manual $(BINARY) --multi-page --section 8 \
		--authors "iommu-watch developers" --output-directory $(MAN_OUT) \
		$(if $(SOURCE_DATE_EPOCH),--date $$(date -u -d @$(SOURCE_DATE_EPOCH) +%F))
	tools/man-names $(MAN_OUT)/*.8

## bash-completion sources its files: the generated #!/bin/bash line goes (lintian: bash-completion-with-hashbang).
install: release man
	install -D -m 0755 $(BINARY) $(DESTDIR)$(BINDIR)/iommu-watch
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CATALOGDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/iommu-watch/iommu-watch.conf.d
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/iommu-watch.service > $(DESTDIR)$(UNITDIR)/iommu-watch.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/iommu-watch.service
	install -m 0644 systemd/iommu-watch.catalog systemd/iommu-watch-daemon.catalog $(DESTDIR)$(CATALOGDIR)/
	[ -e $(DESTDIR)$(SYSCONFDIR)/iommu-watch/iommu-watch.conf ] || install -m 0644 systemd/iommu-watch.conf $(DESTDIR)$(SYSCONFDIR)/iommu-watch/iommu-watch.conf
	install -m 0644 $(MAN_OUT)/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(BINARY) --generate-completion-script bash | sed '1{/^#!/d}' > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/iommu-watch
	$(BINARY) --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_iommu-watch
	$(BINARY) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/iommu-watch.fish
	if [ -z "$(DESTDIR)" ]; then journalctl --update-catalog; fi
	if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/iommu-watch $(DESTDIR)$(UNITDIR)/iommu-watch.service \
		$(DESTDIR)$(CATALOGDIR)/iommu-watch-daemon.catalog $(DESTDIR)$(CATALOGDIR)/iommu-watch.catalog \
		$(DESTDIR)$(MANDIR)/man8/iommu-watch.8 $(DESTDIR)$(MANDIR)/man8/iommu-watch.*.8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/iommu-watch \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_iommu-watch \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/iommu-watch.fish
	if [ -z "$(DESTDIR)" ]; then journalctl --update-catalog; fi
	@echo "Left in place: $(SYSCONFDIR)/iommu-watch (your configuration)."

## Host daemon tests: private journald, notify listener, mutated real capture.
daemon-test: build
	$(SWIFT) build
	python3 Tests/Integration/test_notify.py
	python3 Tests/Integration/test_transitions.py
	python3 Tests/Integration/test_hostile.py
	Tests/Integration/journal.sh

## The real systemd guest: systemd-nspawn with the installed unit.
guest-test: release
	Tests/Integration/guest.sh

daemon-benchmark: release
	Tests/Integration/benchmark.sh $(BINARY)

## Benchmark, not a test: scan against the C syscall floor and the shell loop on
## 2,048 x 8 synthetic devices (bench-large: also 8,192 x 8); appends to docs/performance.md.
.PHONY: bench bench-large
bench: release
	BENCH_BUILD_FLAGS="$(RELEASE_FLAGS)" BENCH_COMMAND="make bench" Benchmarks/run
bench-large: release
	BENCH_BUILD_FLAGS="$(RELEASE_FLAGS)" BENCH_COMMAND="make bench-large" Benchmarks/run --large

## Real kernels under QEMU (Tests/RealKernel, docs/testbed.md): Debian 5.10, 6.1, 6.12, 7.x with
## emulated Intel and AMD IOMMUs, and Debian's arm64 6.1, 6.12, 7.x with SMMUv3 (device tree and
## ACPI) and virtio-iommu; every scan must read without errors. realkernel: everything;
## realkernel-ci (what `make test` runs): the x86 matrix and scenarios, one ARM64 boot per line.
.PHONY: realkernel realkernel-ci realkernel-capture
realkernel: release
	Tests/RealKernel/run --ci --arm all --binary $(BINARY)
realkernel-ci: release
	Tests/RealKernel/run --ci --arm ci --binary $(BINARY)
realkernel-capture: release
	Tests/RealKernel/run --capture --arm all --binary $(BINARY)

## The real systemd guest on a real kernel: Debian bookworm + its 6.1 kernel under QEMU
## with an emulated Intel IOMMU; QMP hotplug of an e1000e must show in the journal within 5 s.
.PHONY: qemu-guest-test
qemu-guest-test: release
	Tests/Integration/qemu-guest.sh

## ---- reliability: fuzz above, chaos, soak; docs/reliability.md ----
## make chaos: the release daemon on a capture mutated at random for CHAOS_SECONDS (default 600).
## make soak: SOAK_RESCANS rescans (or SOAK_SECONDS, whichever first) of the SOAK_TREE synthetic
## tree by the release daemon, RSS growth after warm-up <= 1 %; then ASan and TSan debug builds
## for SANITIZER_SECONDS each and the unit tests under each sanitizer. The default tree, 64 x 8
## (512 devices, more than most servers have), is the largest whose 100,000 rescans fit in about
## an hour of one core here (36 ms each); 2,048 x 8 costs 1.3 s a rescan, 36 hours for 100,000:
## soak it for a while with `make soak SOAK_TREE=2048x8 SOAK_SECONDS=720` (docs/reliability.md).
## make reliability: all of them, and the long fuzz run.
CHAOS_SECONDS ?= 600
SOAK_TREE ?= 64x8
SOAK_RESCANS ?= 100000
SOAK_SECONDS ?= 9000
SANITIZER_SECONDS ?= 300
.PHONY: chaos chaos-smoke soak reliability
chaos: release
	nice -n 10 python3 Tests/Chaos/chaos.py --seconds $(CHAOS_SECONDS)
## In make test: one minute of chaos (about 70 s in all).
chaos-smoke: release
	nice -n 10 python3 Tests/Chaos/chaos.py --seconds 60
soak: deps
	nice -n 10 Tests/Soak/run --tree $(SOAK_TREE) --rescans $(SOAK_RESCANS) --seconds $(SOAK_SECONDS) --sanitizer-seconds $(SANITIZER_SECONDS)
reliability: fuzz chaos soak bench-large

## ---- fleet: Prometheus rules, node_exporter scrape, journal forwarding, the .deb ----
.PHONY: rules-test scrape-test forward-test
## The alerting rules (contrib/prometheus): promtool's syntax check, then its unit tests.
rules-test:
	promtool check rules contrib/prometheus/iommu-watch.rules.yml
	promtool test rules contrib/prometheus/iommu-watch.rules.test.yml
## The daemon's PrometheusFile= on a real capture, served by the real prometheus-node-exporter
## (textfile collector); /metrics fetched and checked series by series, promtool check metrics;
## then a real Prometheus with the rules scrapes it: the divergence alert pends, then goes.
scrape-test: release
	IOMMU_WATCH=$(BINARY) python3 Tests/Integration/test_scrape.py
## The daemon's entries through systemd-journal-upload -> systemd-journal-remote (HTTP, localhost),
## found on the receiving side by MESSAGE_ID= and IOMMU_GROUP=.
forward-test: release
	IOMMU_WATCH=$(BINARY) Tests/Integration/forward.sh

## The Debian package (debian/, debian/README.source): dpkg-buildpackage -b with the Swift toolchain
## at $(SWIFT_BIN); the .deb, .buildinfo and .changes land in $(DEB_OUT); then lintian on them.
DEB_OUT ?= .build/deb
.PHONY: deb deb-guest-test deb-reproducible piuparts
deb: release
	tools/build-deb $(DEB_OUT)

## The .deb in a clean Debian 12 guest with systemd as PID 1 (nspawn): install, enabled and active,
## catalog, man pages; an upgrade keeps the edited conffile and restarts; purge leaves no file.
## The guest tree is debootstrapped once into /var/cache/iommu-watch/ (about a minute).
deb-guest-test: deb
	Tests/Integration/deb-guest.sh $(DEB_OUT)/iommu-watch_$$(dpkg-parsechangelog -S Version)_$$(dpkg --print-architecture).deb

## Same source, same .deb: make deb, then the release build again from nothing, make deb again, and
## compare both packages (iommu-watch, iommu-watch-dbgsym) byte for byte. A full rebuild (about
## 2 minutes on 2 cores): not in `make test`.
deb-reproducible: deb
	rm -rf $(DEB_OUT)-first && cp -a $(DEB_OUT) $(DEB_OUT)-first
	rm -rf .build/release/ && $(MAKE) release
	tools/build-deb $(DEB_OUT)
	cd $(DEB_OUT) && for deb in iommu-watch*.deb; do \
		cmp $$deb ../$(notdir $(DEB_OUT))-first/$$deb || exit 1; echo "$$deb: reproduced, byte for byte"; done

## Debian's own install/purge checker on the .deb (docs/packaging.md has the latest result). Minutes,
## not seconds (a bookworm chroot from the mirror, cached in PIUPARTS_BASE): not in `make test`.
## It cannot test an upgrade (the package is in no archive); deb-guest-test does.
PIUPARTS_BASE ?= /var/cache/iommu-watch/piuparts-bookworm.tgz
piuparts: deb
	command -v piuparts >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends piuparts >/dev/null
	mkdir -p $(dir $(PIUPARTS_BASE))
	mirror=$$(awk '/^URIs:/ {print $$2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null); \
	if [ -s $(PIUPARTS_BASE) ]; then base="-b $(PIUPARTS_BASE)"; else base="-s $(PIUPARTS_BASE)"; fi; \
	piuparts $$base -d bookworm -m $${mirror:-http://deb.debian.org/debian} --no-eatmydata \
		$(DEB_OUT)/iommu-watch_$$(dpkg-parsechangelog -S Version)_$$(dpkg --print-architecture).deb
