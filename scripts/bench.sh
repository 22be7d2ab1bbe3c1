#!/usr/bin/env bash
# bench.sh runs hydre's whole-system benchmarks (the TestBench* tests, gated
# by HYDRE_BENCH=1) and the micro-benchmarks, and assembles BENCHMARKS.md
# from the fragments each writes, with the machine and the date. Packages run
# one at a time (-p 1) so that no benchmark measures another one's load.
#
# HYDRE_BENCH_ONLY=REGEXP (e.g. 'Swarm|Stream') reruns only those
# TestBench<Area> tests and keeps the other areas' figures ('none' only
# assembles BENCHMARKS.md again): their fragments and the micro-benchmarks
# are recovered from BENCHMARKS.md, the last assembled result, with the
# dates it gives them (and any remark after a date), and the machine each
# was measured on. Fragments an earlier run left in the output folder are
# not used: they may be older than BENCHMARKS.md.
#
# The output folder (default bin/bench) is bench.sh's own: a full run empties
# it first (its content, never the folder itself). A folder given that
# exists, is not empty and was not made by bench.sh (it holds no
# .hydre-bench mark) is refused, never emptied.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/bin/bench}
case $out in
/*) ;;
*) out=$PWD/$out ;;
esac
mark=.hydre-bench
if [ -e "$out" ] || [ -L "$out" ]; then
	if [ ! -d "$out" ]; then
		echo "bench: $out is not a folder" >&2
		exit 2
	fi
	# bin/bench is the default, under bin/ (build output that make clean
	# removes): one an earlier version left unmarked is adopted.
	if [ ! -e "$out/$mark" ] && [ -n "$(ls -A "$out")" ] && [ "$out" != "$top/bin/bench" ]; then
		echo "bench: $out is not empty and was not made by bench.sh (no $mark in it): give a new or empty folder" >&2
		exit 2
	fi
fi
cd "$top"
only=${HYDRE_BENCH_ONLY:-}
machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(go version | cut -d' ' -f3), tor $(tor --version 2>/dev/null | head -1 | grep -o '[0-9][0-9.]*[0-9]' | head -1)"
mkdir -p "$out"
if [ -z "$only" ]; then
	find "$out" -mindepth 1 -delete
fi
echo "made by hydre scripts/bench.sh, which empties this folder on a full run" >"$out/$mark"
if [ -n "$only" ] && [ -e BENCHMARKS.md ]; then
	rm -f "$out"/*.md "$out"/*.machine "$out"/*.remark "$out/micro.txt" "$out/micro-note.txt"
	# The sections appear in the order of the names in the "when it was
	# measured" line (the fragments' file names, sorted).
	awk -v out="$out" '
		/^Each section, when it was measured/ {
			sub(/^[^:]*: /, ""); sub(/\.$/, "")
			# A remark may hold ", " too: a part that does not start with
			# "name YYYY-MM-DD HH:MM" belongs to the remark before it.
			p = split($0, parts, ", ")
			n = 0
			for (i = 1; i <= p; i++) {
				if (n > 0 && parts[i] !~ /^[A-Za-z0-9-]+ [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]/) {
					remark[n] = remark[n] ", " parts[i]
					continue
				}
				n++
				m = split(parts[i], w, " "); name[n] = w[1]; when[n] = w[2] " " w[3]
				remark[n] = ""
				for (j = 4; j <= m; j++) remark[n] = remark[n] (j > 4 ? " " : "") w[j]
			}
			next
		}
		/^## Micro-benchmarks/ { k = 0; micro = 1; next }
		micro && /^```/ { fence++; next }
		micro && fence >= 2 { print > (out "/micro-note.txt"); next }
		micro { print > (out "/micro.txt"); next }
		/^## / && n > 0 { k++; if (k <= n) { file = out "/" name[k] ".md"; stamp[k] = when[k] } }
		k > 0 && k <= n { print > file }
		END {
			for (i = 1; i <= n; i++) {
				if (remark[i] != "") print remark[i] > (out "/" name[i] ".remark")
				print out "/" name[i] ".md\t" when[i]
			}
		}
	' BENCHMARKS.md | while IFS="$(printf '\t')" read -r f when; do
		name=$(basename "$f" .md)
		other=$(grep '^Measured on another machine (' BENCHMARKS.md | grep -E "[:,] $name(,|\.$)" | head -1 || true)
		if [ -n "$other" ]; then
			echo "$other" | sed 's/^Measured on another machine (//; s/): .*//' >"${f%.md}.machine"
		else
			grep -m1 '^Machine: ' BENCHMARKS.md | sed 's/^Machine: //; s/\.$//' >"${f%.md}.machine"
		fi
		# Drop the blank line the assembly adds after each fragment.
		sed -i '$ { /^$/d }' "$f"
		touch -d "$when UTC" "$f"
	done
	echo "bench: recovered the other areas' figures from BENCHMARKS.md"
fi
export HYDRE_BENCH=1 HYDRE_BENCH_OUT
HYDRE_BENCH_OUT=$(cd "$out" && pwd)

run='^TestBench'
if [ -n "$only" ]; then
	run="^TestBench($only)\$"
fi
start=$(mktemp)
go test -p 1 -count=1 -timeout 0 -run "$run" -v ./... 2>&1 | tee "$out/bench-tests${only:+-${only//[^A-Za-z0-9]/-}}.log" | grep -E '^(=== RUN|--- |ok|FAIL|PASS)' || true
for f in "$out"/*.md; do
	if [ -e "$f" ] && [ "$f" -nt "$start" ]; then
		echo "$machine" >"${f%.md}.machine"
		rm -f "${f%.md}.remark"
	fi
done
rm -f "$start"
if [ -z "$only" ] || [ ! -e "$out/micro.txt" ]; then
	go test -count=1 -run '^$' -bench . -benchmem -benchtime 300ms ./crypto/... ./swarm/... 2>&1 | tee "$out/micro.txt" | grep -E '^(Benchmark|ok|FAIL)' || true
fi

{
	echo "# hydre benchmarks"
	echo
	echo "Written by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "Machine: $machine."
	declare -A others=()
	for f in "$out"/*.machine; do
		[ -e "$f" ] || continue
		m=$(cat "$f")
		if [ "$m" != "$machine" ]; then
			others[$m]+="${others[$m]:+, }$(basename "$f" .machine)"
		fi
	done
	for m in "${!others[@]}"; do
		echo "Measured on another machine ($m): ${others[$m]}."
	done
	echo "Absolute times on these shared 2-core machines are noisy: read the medians and the ratios against the peer measured in the same run."
	echo
	printf 'Each section, when it was measured (UTC):'
	sep=' '
	for f in "$out"/*.md; do
		[ -e "$f" ] || continue
		printf '%s%s %s' "$sep" "$(basename "$f" .md)" "$(date -u -r "$f" '+%Y-%m-%d %H:%M')"
		if [ -e "${f%.md}.remark" ]; then
			printf ' %s' "$(cat "${f%.md}.remark")"
		fi
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
	# A note written under the block by hand is kept until the
	# micro-benchmarks run again.
	if [ -e "$out/micro-note.txt" ]; then
		cat "$out/micro-note.txt"
	fi
} >BENCHMARKS.md
echo "bench: wrote BENCHMARKS.md"
