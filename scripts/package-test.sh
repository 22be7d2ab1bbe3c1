#!/usr/bin/env bash
# package-test.sh installs each package scripts/package.sh built into a
# scratch folder, never into the system, and checks what got installed:
#   - bin/Hydre.tar.xz, unpacked: its own `make install` with DESTDIR and
#     PREFIX, and `make user-install` with HOME in the scratch folder (a
#     path with a space), then their uninstall targets;
#   - the .deb: its fields (it depends on tor), then `dpkg -x` into a
#     scratch root, and lintian when it is installed.
# For each: the installed `hydre version` prints what bin/hydre prints,
# desktop-file-validate accepts the installed .desktop file, whose Exec line
# names the installed binary, update-desktop-database maps hydre: links to
# it, and each icon is a PNG of its folder's size; the app's window, under
# Xvfb, has the class the .desktop file's StartupWMClass names.
# Usage: scripts/package-test.sh [bin/hydre]   (after scripts/package.sh)
set -euo pipefail
exe=$(realpath "${1:-bin/hydre}")
cd "$(dirname "$0")/.."
app=org.hydre_p2p.hydre
sizes=(16 24 32 48 64 128 256 512)

fail() {
	echo "package-test: FAIL: $*" >&2
	exit 1
}
for tool in desktop-file-validate update-desktop-database dpkg-deb identify xvfb-run xwininfo xprop; do
	command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.sh installs it)"
done
debs=(bin/hydre_*.deb)
[ -f bin/Hydre.tar.xz ] && [ -f "${debs[0]}" ] && [ ${#debs[@]} -eq 1 ] ||
	fail "want bin/Hydre.tar.xz and one bin/hydre_*.deb: run make package"
deb=${debs[0]}
want=$("$exe" version)

work=$(mktemp -d "${TMPDIR:-/tmp}/hydre-package-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

# check_install NAME ROOT PREFIX: the binary, .desktop file and icons that
# PREFIX (a path as the desktop sees it) holds once installed under ROOT.
check_install() {
	local name=$1 root=$2 prefix=$3
	local bin=$root$prefix/bin/hydre desktop=$root$prefix/share/applications/$app.desktop
	[ -x "$bin" ] || fail "$name: no executable $prefix/bin/hydre"
	local got
	got=$(HOME=$work/version-home "$bin" version) || fail "$name: hydre version exited $?"
	[ "$got" = "$want" ] || fail "$name: installed hydre version says \"$got\", bin/hydre \"$want\""
	[ -f "$desktop" ] || fail "$name: no $prefix/share/applications/$app.desktop"
	desktop-file-validate "$desktop" || fail "$name: desktop-file-validate rejects $desktop"
	grep -qx 'MimeType=x-scheme-handler/hydre;' "$desktop" || fail "$name: the .desktop file does not register hydre:"
	# The Exec line runs the installed binary's gui command with the link.
	local exec
	exec=$(sed -n 's/^Exec=//p' "$desktop")
	case $exec in
	"hydre gui %u") [ "$prefix" = /usr ] || fail "$name: Exec=$exec, but $prefix/bin is not on every PATH" ;;
	"$prefix/bin/hydre gui %u" | "\"$prefix/bin/hydre\" gui %u") ;;
	*) fail "$name: Exec=$exec does not run $prefix/bin/hydre gui %u" ;;
	esac
	local s f dims
	for s in "${sizes[@]}"; do
		f=$root$prefix/share/icons/hicolor/${s}x$s/apps/$app.png
		[ -f "$f" ] || fail "$name: no ${s}x$s icon"
		dims=$(identify -format '%m %wx%h' "$f")
		[ "$dims" = "PNG ${s}x$s" ] || fail "$name: the ${s}x$s icon is $dims"
	done
	echo "package-test: $name: hydre version, desktop-file-validate, Exec, ${#sizes[@]} icons: ok"
}

# check_wmclass NAME BIN DESKTOP: the window of BIN's app, under Xvfb, has
# the class the .desktop file's StartupWMClass names (a dock groups the
# window under its entry by it). The app is pointed at a tor control port
# where nothing listens: it opens its window and touches no network.
check_wmclass() {
	local name=$1 bin=$2 desktop=$3 want got
	want=$(sed -n 's/^StartupWMClass=//p' "$desktop")
	rm -rf "$work/gui" && mkdir -p "$work/gui/data"
	printf '{"download_dir": "%s", "notify": false, "tor": {"mode": "control", "control_addr": "127.0.0.1:1"}}\n' \
		"$work/gui/downloads" >"$work/gui/data/gui-settings.json"
	# Inside Xvfb: start the app, wait up to 60 s for its window, print the
	# window's class (the second string of WM_CLASS), stop the app.
	# shellcheck disable=SC2016
	got=$(HOME=$work/gui xvfb-run -a -s "-screen 0 1024x768x24" bash -c '
		"$1" --data-dir "$2/data" gui >"$2/gui.log" 2>&1 &
		pid=$!
		for _ in $(seq 1 120); do
			id=$(xwininfo -root -tree | awk "/\"hydre\": \\(/ {print \$1; exit}")
			[ -n "$id" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		[ -n "$id" ] && xprop -id "$id" WM_CLASS | sed -n "s/^WM_CLASS(STRING) = \"[^\"]*\", \"\(.*\)\"\$/\1/p"
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		true' probe "$bin" "$work/gui")
	[ -n "$got" ] || { tail -n 20 "$work/gui/gui.log" >&2; fail "$name: the app opened no window under Xvfb"; }
	[ "$got" = "$want" ] || fail "$name: the window's class is \"$got\", the .desktop file's StartupWMClass \"$want\""
	echo "package-test: $name: the window's class is StartupWMClass ($got): ok"
}

# check_scheme NAME APPS: update-desktop-database's cache in APPS sends
# hydre: links to the app.
check_scheme() {
	local name=$1 apps=$2
	grep -qx "x-scheme-handler/hydre=$app.desktop;" "$apps/mimeinfo.cache" 2>/dev/null ||
		fail "$name: mimeinfo.cache in $apps does not send hydre: links to $app.desktop"
	echo "package-test: $name: hydre: links open $app.desktop: ok"
}

# The archive, installed by its own Makefile.
mkdir "$work/unpacked"
tar -xJf bin/Hydre.tar.xz -C "$work/unpacked"
src=$work/unpacked/hydre
[ -f "$src/Makefile" ] || fail "archive: no hydre/Makefile"

make -s -C "$src" install DESTDIR="$work/stage" PREFIX=/usr/local >"$work/make.log" 2>&1 ||
	{ cat "$work/make.log" >&2; fail "archive: make install DESTDIR=… exited non-zero"; }
check_install "archive, make install DESTDIR" "$work/stage" /usr/local
[ ! -e "$work/stage/usr/local/share/applications/mimeinfo.cache" ] ||
	fail "archive: a staged install (DESTDIR) wrote a MIME cache"
make -s -C "$src" uninstall DESTDIR="$work/stage" PREFIX=/usr/local >"$work/make.log" 2>&1 ||
	{ cat "$work/make.log" >&2; fail "archive: make uninstall DESTDIR=… exited non-zero"; }
left=$(find "$work/stage" -type f)
[ -z "$left" ] || fail "archive: make uninstall left $left"

home="$work/home with space"
mkdir -p "$home"
HOME=$home make -s -C "$src" user-install >"$work/make.log" 2>&1 ||
	{ cat "$work/make.log" >&2; fail "archive: make user-install exited non-zero"; }
check_install "archive, make user-install" "" "$home/.local"
check_scheme "archive, make user-install" "$home/.local/share/applications"
HOME=$home make -s -C "$src" user-uninstall >"$work/make.log" 2>&1 ||
	{ cat "$work/make.log" >&2; fail "archive: make user-uninstall exited non-zero"; }
left=$(find "$home" -type f ! -name mimeinfo.cache)
[ -z "$left" ] || fail "archive: make user-uninstall left $left"
! grep -q hydre "$home/.local/share/applications/mimeinfo.cache" ||
	fail "archive: after make user-uninstall the MIME cache still names hydre"
echo "package-test: archive: uninstall targets remove what install put: ok"

# The .deb, unpacked into a scratch root.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = hydre ] || fail "deb: Package is $(field Package)"
depends=$(field Depends)
[[ ", $depends," == *", tor,"* ]] || fail "deb: Depends ($depends) lacks tor"
odd=$(dpkg-deb -c "$deb" | awk '$2 != "root/root" || ($6 !~ "^\\./usr/" && $6 != "./" && $6 != "./usr/")')
[ -z "$odd" ] || fail "deb: entries not root-owned or outside /usr: $odd"
dpkg -x "$deb" "$work/debroot"
check_install "deb" "$work/debroot" /usr
check_wmclass "deb" "$work/debroot/usr/bin/hydre" "$work/debroot/usr/share/applications/$app.desktop"
# desktop-file-utils' trigger runs update-desktop-database on the installed
# folder; here on the scratch root's.
update-desktop-database "$work/debroot/usr/share/applications"
check_scheme "deb" "$work/debroot/usr/share/applications"
[ -s "$work/debroot/usr/share/doc/hydre/copyright" ] || fail "deb: no copyright file"

if command -v lintian >/dev/null; then
	# Errors fail the test; warnings are printed for a person to read.
	lintian --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1 || true
	cat "$work/lintian.log"
	! grep -q '^E: ' "$work/lintian.log" || fail "deb: lintian reports errors"
	echo "package-test: deb: lintian: no errors"
else
	echo "package-test: deb: lintian is not installed: skipped"
fi
echo "package-test: ok ($(basename "$deb"), Hydre.tar.xz)"
