# lab.sh is sourced by demo.sh and screenshots.sh: a work folder with a
# private Tor network in it, removed on exit with the processes the script
# started, and a node sharing a file whose link the script waits for.
# The sourcing script sets bin (the hydre binary) and tag (its name, in
# messages) first.

# lab_init NAME makes $work (and $net, the network's folder in it) and
# stops every process of $pids, the network and removes $work on exit.
lab_init() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/hydre-$1.XXXXXX")
	net="$work/testnet"
	pids=()
	trap lab_cleanup EXIT INT TERM
}

lab_cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$bin" testnet down "$net" >/dev/null 2>&1 || true
	rm -rf "$work"
}

# lab_share NODE FILE starts node NODE (its data in $work/NODE, its output
# in $work/NODE.out and .err) sharing FILE on the network, in the
# background, and sets $link once it prints one (180 s at most).
lab_share() {
	"$bin" --data-dir "$work/$1" --testnet "$net" share "$2" >"$work/$1.out" 2>"$work/$1.err" &
	local pid=$!
	pids+=("$pid")
	link=""
	for _ in $(seq 1 180); do
		link=$(grep -m1 -o 'hydre:[^[:space:]]*' "$work/$1.out" || true)
		[ -n "$link" ] && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$work/$1.err" >&2; echo "$tag: node ${1^^} stopped" >&2; exit 1; }
		sleep 1
	done
	cat "$work/$1.err" >&2
	echo "$tag: node ${1^^} gave no link in 180 s" >&2
	exit 1
}
