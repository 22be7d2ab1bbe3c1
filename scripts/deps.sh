#!/usr/bin/env bash
# deps.sh installs the Debian packages hydre's build, tests, demo and
# benchmarks need. It does nothing when everything is already there.
# Usage: scripts/deps.sh [core|gui|bench|all]   (default: all)
set -euo pipefail

want=${1:-all}

core_pkgs=(tor)
# Independent software the tests run against: real players, real BitTorrent
# peers, OnionShare, Xvfb for GUI screenshots, and the tools that build the
# Linux packages and check what they install (make package, package-test).
test_pkgs=(ffmpeg mpv curl aria2 transmission-cli transmission-daemon qbittorrent-nox mktorrent
	onionshare-cli obfs4proxy snowflake-client xvfb xauth x11-apps imagemagick iproute2 procps psmisc
	python3 python3-cryptography b3sum dbus-daemon
	dpkg-dev xz-utils desktop-file-utils lintian x11-utils)
gui_pkgs=(libgl1-mesa-dev xorg-dev pkg-config)
bench_pkgs=(hyperfine b3sum coreutils time)

case "$want" in
core) pkgs=("${core_pkgs[@]}") ;;
gui) pkgs=("${core_pkgs[@]}" "${gui_pkgs[@]}") ;;
bench) pkgs=("${core_pkgs[@]}" "${test_pkgs[@]}" "${gui_pkgs[@]}" "${bench_pkgs[@]}") ;;
all) pkgs=("${core_pkgs[@]}" "${test_pkgs[@]}" "${gui_pkgs[@]}") ;;
*) echo "usage: $0 [core|gui|bench|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
# Node.js and npm (for the npm BitTorrent tracker and DHT the bridge tests
# run against): Debian's pair only when no node/npm is installed, since a
# nodesource nodejs bundles npm and conflicts with Debian's npm package.
if [ "$want" != core ] && [ "$want" != gui ] && ! command -v npm >/dev/null; then
	missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null; then
		echo "deps: need root or sudo to install: ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# Debian starts a system tor and transmission-daemon when it installs them.
# hydre never uses them, and a system tor would reach for the public network,
# so the daemons of the packages installed here are kept from starting, the
# way Debian's policy-rc.d interface allows (invoke-rc.d and
# deb-systemd-invoke both honour it). Nothing already running is stopped,
# disabled or killed: a user's own tor, relay or Tor Browser is not ours.
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# written by hydre scripts/deps.sh for the length of one install\nexit 101\n' |
		"${sudo[@]}" tee "$policy" >/dev/null
	"${sudo[@]}" chmod 0755 "$policy"
	own_policy=1
fi
cleanup() { [ -z "$own_policy" ] || "${sudo[@]}" rm -f "$policy"; }
trap cleanup EXIT
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
