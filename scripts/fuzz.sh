#!/usr/bin/env bash
# fuzz.sh runs every Fuzz target of the module for a short time each
# (default 10s), so CI exercises the decoders of untrusted bytes beyond
# their seed corpora.
set -euo pipefail
fuzztime=${1:-10s}
cd "$(dirname "$0")/.."
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	grep -lq '^func Fuzz' "$dir"/*_test.go 2>/dev/null || continue
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		echo "fuzz: $pkg $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/hydre-fuzz.log 2>&1 || {
			cat /tmp/hydre-fuzz.log
			exit 1
		}
	done
done
