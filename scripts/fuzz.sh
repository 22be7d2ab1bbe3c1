#!/usr/bin/env bash
# fuzz.sh runs every Fuzz target of the module for a short time each
# (default 10s), so CI exercises the decoders of untrusted bytes beyond
# their seed corpora.
set -euo pipefail
fuzztime=${1:-10s}
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	grep -lq '^func Fuzz' "$dir"/*_test.go 2>/dev/null || continue
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		echo "fuzz: $pkg $target ($fuzztime)"
		for attempt in 1 2; do
			if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1; then
				break
			fi
			# Go's fuzzing coordinator sometimes ends with "context deadline
			# exceeded" when a worker stalls near the end of -fuzztime (seen
			# once in CI here: 355 runs, then none for 8 s, while the same
			# target runs 200k/s and passes alone); that is retried once. A
			# real failure writes its input to testdata/fuzz and fails at once.
			if [ "$attempt" = 1 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
				echo "fuzz: $target: coordinator timeout without a failing input, once more"
				continue
			fi
			cat "$log"
			exit 1
		done
	done
done
