#!/usr/bin/env bash
# screenshots.sh captures every screen of the desktop app to PNG files a
# person can look at, and fails if one is blank. It runs the real binary
# under Xvfb on a private Tor network on 127.0.0.1:
#   - node A shares a file from the command line ("hydre share");
#   - the app (node B) shares a file of its own and downloads A's by its
#     link, then captures each screen ("hydre gui --screenshots DIR");
#   - the app (node C), pointed at a Tor control port where nothing
#     listens, captures the "cannot connect" screen.
#   - the app (node D), in a network namespace with only loopback,
#     captures "Tor cannot reach the network" (needs unshare -rn).
# Usage: scripts/screenshots.sh [bin/hydre]   (output: $SCREENSHOTS_DIR or screenshots/)
set -euo pipefail
bin=${1:-bin/hydre}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
root=$(cd "$(dirname "$0")/.." && pwd)
out=${SCREENSHOTS_DIR:-$root/screenshots}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ! command -v xvfb-run >/dev/null; then
	if [ "${CI:-}" = true ]; then
		echo "screenshots: xvfb-run is missing (Debian package xvfb; scripts/deps.sh installs it)" >&2
		exit 1
	fi
	echo "screenshots: skipped: xvfb-run is not installed (apt-get install xvfb)"
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hydre-shots.XXXXXX")
net="$work/testnet"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$bin" testnet down "$net" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# settings DIR DOWNLOADS [TOR-JSON]: the app's settings file for a node.
settings() {
	local tor=${3:-'{"mode": "managed"}'}
	mkdir -p "$1"
	printf '{"download_dir": "%s", "reshare": true, "theme": "dark", "notify": false, "tor": %s}\n' \
		"$2" "$tor" >"$1/gui-settings.json"
}

echo "screenshots: starting a private Tor network"
"$bin" testnet up "$net" >"$work/testnet.log" 2>&1 || { cat "$work/testnet.log" >&2; exit 1; }

echo "screenshots: node A shares a 48 MiB video"
head -c $((48 << 20)) /dev/urandom >"$work/holiday-video.mp4"
"$bin" --data-dir "$work/a" --testnet "$net" share "$work/holiday-video.mp4" >"$work/a.out" 2>"$work/a.err" &
pids+=($!)
link=""
for _ in $(seq 1 180); do
	link=$(grep -m1 -o 'hydre:[^[:space:]]*' "$work/a.out" || true)
	[ -n "$link" ] && break
	kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/a.err" >&2; echo "screenshots: node A stopped" >&2; exit 1; }
	sleep 1
done
[ -n "$link" ] || { cat "$work/a.err" >&2; echo "screenshots: node A gave no link in 180 s" >&2; exit 1; }

echo "screenshots: the app shares a file, downloads A's and captures each screen"
head -c $((3 << 20)) /dev/urandom >"$work/notes.pdf"
settings "$work/b" "$work/b-downloads"
xvfb-run -a -s "-screen 0 1280x800x24" \
	"$bin" --data-dir "$work/b" --testnet "$net" --log-level info \
	gui --share "$work/notes.pdf" --get "$link" --screenshots "$out" >"$work/b.log" 2>&1 ||
	{ tail -n 40 "$work/b.log" >&2; echo "screenshots: the app failed" >&2; exit 1; }

echo "screenshots: the app cannot reach Tor"
settings "$work/c" "$work/c-downloads" '{"mode": "control", "control_addr": "127.0.0.1:1"}'
if xvfb-run -a -s "-screen 0 1280x800x24" \
	"$bin" --data-dir "$work/c" --log-level info gui --screenshots "$work/c-shots" >"$work/c.log" 2>&1; then
	echo "screenshots: the app connected to a control port where nothing listens" >&2
	exit 1
fi
[ -f "$work/c-shots/tor-failed.png" ] || { tail -n 40 "$work/c.log" >&2; echo "screenshots: no tor-failed.png" >&2; exit 1; }
cp "$work/c-shots/tor-failed.png" "$out/"

echo "screenshots: the app offline (its own network namespace, only loopback): Tor cannot reach the network"
if unshare -rn true 2>/dev/null; then
	settings "$work/d" "$work/d-downloads"
	# The real tor, with its real directory authorities, reaches nothing
	# from there (and sends nothing anywhere); the app says so after 30 s.
	if unshare -rn sh -c 'ip link set lo up && exec "$@"' sh xvfb-run -a -s "-screen 0 1280x800x24" \
		"$bin" --data-dir "$work/d" --log-level info gui --screenshots "$work/d-shots" >"$work/d.log" 2>&1; then
		echo "screenshots: the app connected to Tor with no network" >&2
		exit 1
	fi
	[ -f "$work/d-shots/tor-stuck.png" ] || { tail -n 40 "$work/d.log" >&2; echo "screenshots: no tor-stuck.png" >&2; exit 1; }
	cp "$work/d-shots/tor-stuck.png" "$out/"
elif [ "${CI:-}" = true ]; then
	echo "screenshots: unshare -rn fails: user namespaces are off" >&2
	exit 1
else
	echo "screenshots: skipped the offline app: unshare -rn fails here (user namespaces off)"
fi

echo "screenshots: checking that no PNG is blank"
(cd "$root" && HYDRE_SCREENSHOTS="$out" go test -count=1 -run '^TestScreenshotsNotBlank$' ./gui/)
ls -1 "$out"/*.png
echo "screenshots: done, see $out"
