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

tag=screenshots
. "$root/scripts/lab.sh"
lab_init shots

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
lab_share a "$work/holiday-video.mp4"

echo "screenshots: node A shares a folder of 12 photos as one link"
for d in 2026-07-14 2026-07-15 2026-07-16; do
	mkdir -p "$work/summer trip/$d"
	for i in 1 2 3 4; do head -c $(((i + 1) << 19)) /dev/urandom >"$work/summer trip/$d/IMG_$d-$i.jpg"; done
done
"$bin" --data-dir "$work/a2" --testnet "$net" share "$work/summer trip" >"$work/a2.out" 2>"$work/a2.err" &
pids+=($!)
folder_link=""
for _ in $(seq 1 180); do
	folder_link=$(grep -m1 -o 'hydre:[^[:space:]]*' "$work/a2.out" || true)
	[ -n "$folder_link" ] && break
	kill -0 "${pids[1]}" 2>/dev/null || { cat "$work/a2.err" >&2; echo "screenshots: node A's folder share stopped" >&2; exit 1; }
	sleep 1
done
[ -n "$folder_link" ] || { cat "$work/a2.err" >&2; echo "screenshots: node A gave no folder link in 180 s" >&2; exit 1; }

echo "screenshots: the app shares a file and a folder, downloads A's and captures each screen"
head -c $((3 << 20)) /dev/urandom >"$work/notes.pdf"
mkdir -p "$work/slides/figures"
head -c 200000 /dev/urandom >"$work/slides/talk.odp"
head -c 90000 /dev/urandom >"$work/slides/figures/plot.png"
settings "$work/b" "$work/b-downloads"
xvfb-run -a -s "-screen 0 1280x800x24" \
	"$bin" --data-dir "$work/b" --testnet "$net" --log-level info \
	gui --share "$work/notes.pdf" --share "$work/slides" --get "$link" --get "$folder_link" --screenshots "$out" >"$work/b.log" 2>&1 ||
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
