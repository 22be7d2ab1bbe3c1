# hydre: the two commands are `make demo` and `make test`.
# Both install what is missing first (scripts/deps.sh: apt-get as root, sudo otherwise).

GO        ?= go
BIN       := bin/hydre
FUZZTIME  ?= 10s
BENCH_OUT ?= $(CURDIR)/bin/bench

.PHONY: all deps build test vet unit fuzz screenshots bench demo package clean

all: build

deps:
	@scripts/deps.sh all

build: deps
	$(GO) build -o $(BIN) ./cmd/hydre

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# Unit and integration tests (integration tests bring up a private Tor network
# on 127.0.0.1), a short run of every fuzz target, and the GUI screenshots.
test: deps vet unit fuzz screenshots

unit:
	$(GO) test -count=1 -timeout 45m ./...

fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

screenshots: build
	@if [ -x scripts/screenshots.sh ]; then scripts/screenshots.sh $(BIN); fi

# Whole-system benchmarks against peers measured in the same run; writes BENCHMARKS.md.
bench:
	@scripts/deps.sh bench
	@scripts/bench.sh $(BENCH_OUT)

# The Linux desktop package (bin/Hydre.tar.xz), registering the hydre: link scheme.
package: build
	@scripts/package.sh

demo: build
	@scripts/demo.sh $(BIN)

clean:
	rm -rf bin screenshots
