#!/usr/bin/env bash
# bench.sh runs hydre's whole-system benchmarks (the TestBench* tests, gated
# by HYDRE_BENCH=1) and the micro-benchmarks, and assembles BENCHMARKS.md
# from the fragments each writes, with the machine and the date. Packages run
# one at a time (-p 1) so that no benchmark measures another one's load.
#
# HYDRE_BENCH_ONLY=REGEXP (e.g. 'Swarm|Stream') reruns only those
# TestBench<Area> tests and keeps the other areas' fragments of an earlier
# run in the output folder ('none' only assembles BENCHMARKS.md again).
set -euo pipefail
out=${1:-bin/bench}
cd "$(dirname "$0")/.."
only=${HYDRE_BENCH_ONLY:-}
if [ -z "$only" ]; then
	rm -rf "$out"
fi
mkdir -p "$out"
export HYDRE_BENCH=1 HYDRE_BENCH_OUT
HYDRE_BENCH_OUT=$(cd "$out" && pwd)

run='^TestBench'
if [ -n "$only" ]; then
	run="^TestBench($only)\$"
fi
go test -p 1 -count=1 -timeout 0 -run "$run" -v ./... 2>&1 | tee "$out/bench-tests${only:+-${only//[^A-Za-z0-9]/-}}.log" | grep -E '^(=== RUN|--- |ok|FAIL|PASS)' || true
if [ -z "$only" ] || [ ! -e "$out/micro.txt" ]; then
	go test -count=1 -run '^$' -bench . -benchmem -benchtime 300ms ./crypto/... ./swarm/... 2>&1 | tee "$out/micro.txt" | grep -E '^(Benchmark|ok|FAIL)' || true
fi

{
	echo "# hydre benchmarks"
	echo
	echo "Written by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(go version | cut -d' ' -f3), tor $(tor --version 2>/dev/null | head -1 | grep -o '[0-9][0-9.]*[0-9]' | head -1)."
	echo "Absolute times on these shared 2-core machines are noisy: read the medians and the ratios against the peer measured in the same run."
	echo
	printf 'Each section, when it was measured (UTC):'
	sep=' '
	for f in "$out"/*.md; do
		[ -e "$f" ] || continue
		printf '%s%s %s' "$sep" "$(basename "$f" .md)" "$(date -u -r "$f" '+%Y-%m-%d %H:%M')"
		sep=', '
	done
	echo "."
	echo
	for f in "$out"/*.md; do
		[ -e "$f" ] || continue
		cat "$f"
		echo
	done
	echo "## Micro-benchmarks"
	echo
	echo '```'
	grep -E '^(Benchmark|goos|goarch|cpu|pkg)' "$out/micro.txt" || true
	echo '```'
} >BENCHMARKS.md
echo "bench: wrote BENCHMARKS.md"
