# hydre: the two commands are `make demo` and `make test`.
# Both install what is missing first (scripts/deps.sh: apt-get as root, sudo otherwise).

GO        ?= go
BIN       := bin/hydre
FUZZTIME  ?= 10s
BENCH_OUT ?= $(CURDIR)/bin/bench

.PHONY: all deps build test vet unit race fuzz screenshots bench bench-quick bench-check demo package package-test \
	install user-install uninstall user-uninstall clean

all: build

deps:
	@scripts/deps.sh all

build: deps
	$(GO) build -o $(BIN) ./cmd/hydre

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# Unit and integration tests (integration tests bring up a private Tor network
# on 127.0.0.1), every test but those under the race detector, a short run
# of every fuzz target, and the GUI screenshots.
test: deps vet unit race fuzz screenshots package-test bench-check

unit:
	$(GO) test -count=1 -timeout 45m ./...

# Every package under Go's race detector, with -short: the tests on the
# private Tor network (which dominate make unit) skip there, the in-memory
# network's run in full.
race:
	$(GO) test -race -short -count=1 -timeout 30m ./...

fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

screenshots: build
	@if [ -x scripts/screenshots.sh ]; then scripts/screenshots.sh $(BIN); fi

# Whole-system benchmarks against peers measured in the same run; writes BENCHMARKS.md.
bench:
	@scripts/deps.sh bench
	@scripts/bench.sh $(BENCH_OUT)

# A quick subset (under 15 minutes): the latency network's one-seeder
# comparison (2 runs of 16 MiB) and its streaming (2 runs); their sections of
# BENCHMARKS.md are replaced, the others kept.
bench-quick:
	@scripts/deps.sh bench
	@HYDRE_BENCH_ONLY='Latency|StreamLatency' HYDRE_BENCH_QUICK=1 HYDRE_BENCH_RUNS=2 scripts/bench.sh $(BENCH_OUT)

# bench.sh empties only an output folder it made.
bench-check:
	@scripts/bench-check.sh

# The Linux packages, bin/Hydre.tar.xz and bin/hydre_VERSION_ARCH.deb: the
# binary, icons and a .desktop file registering the hydre: link scheme.
package: build
	@scripts/package.sh $(BIN)

# Installs each package into a scratch folder and checks what it installed.
package-test: package
	@scripts/package-test.sh $(BIN)

# What the archive installs, from the source tree (PREFIX, default
# /usr/local, and DESTDIR as usual): sudo make install, or make user-install
# into ~/.local.
install user-install: package
	@d=$$(mktemp -d) && tar -xJf bin/Hydre.tar.xz -C "$$d" && \
		{ $(MAKE) -s -C "$$d/hydre" $@; rc=$$?; rm -rf "$$d"; exit $$rc; }

uninstall:
	@PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" assets/linux/install.sh uninstall

user-uninstall:
	@PREFIX="$$HOME/.local" DESTDIR= assets/linux/install.sh uninstall

demo: build
	@scripts/demo.sh $(BIN)

clean:
	rm -rf bin screenshots
