#!/bin/sh
# install.sh installs hydre from the unpacked archive it sits in (or removes
# it): the binary, the icon at each hicolor size and the .desktop file that
# registers the hydre: link scheme. The archive's Makefile calls it:
#   sudo make install          into /usr/local
#   make user-install          into ~/.local, no root needed
#   make install PREFIX=/opt/hydre DESTDIR=/tmp/stage
# Usage: [PREFIX=DIR] [DESTDIR=DIR] ./install.sh install|uninstall
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
app=org.hydre_p2p.hydre
sizes="16 24 32 48 64 128 256 512"

die() {
	echo "install.sh: $*" >&2
	exit 2
}

case ${1:-} in
install | uninstall) action=$1 ;;
*) die "usage: [PREFIX=DIR] [DESTDIR=DIR] $0 install|uninstall" ;;
esac
case $prefix in
/*) ;;
*) die "PREFIX must be an absolute path, not \"$prefix\"" ;;
esac
# The .desktop file names the installed binary in its Exec line, where these
# characters would need escaping a desktop could read differently.
case $prefix in
*[\"\`\$\\%\'\|\&]* | *"
"*) die "PREFIX holds a character a .desktop Exec line cannot carry safely: \"$prefix\"" ;;
esac

root=$destdir$prefix
apps=$root/share/applications
icons=$root/share/icons/hicolor

# refresh updates the desktop's caches of a live install (not a staged one,
# under DESTDIR): the MIME cache that maps hydre: links to the app, and an
# icon cache where one already exists (a stale cache hides a new icon).
refresh() {
	[ -z "$destdir" ] || return 0
	if command -v update-desktop-database >/dev/null 2>&1; then
		update-desktop-database -q "$apps" || true
	fi
	if [ -f "$icons/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
		gtk-update-icon-cache -q -f "$icons" || true
	fi
}

if [ "$action" = uninstall ]; then
	rm -f "$root/bin/hydre" "$apps/$app.desktop"
	for s in $sizes; do
		rm -f "$icons/${s}x$s/apps/$app.png"
	done
	refresh
	echo "install.sh: removed hydre from $root"
	exit 0
fi

install -d "$root/bin" "$apps"
install -m 0755 "$here/bin/hydre" "$root/bin/hydre"
for s in $sizes; do
	install -d "$icons/${s}x$s/apps"
	install -m 0644 "$here/share/icons/hicolor/${s}x$s/apps/$app.png" "$icons/${s}x$s/apps/$app.png"
done
# Exec and TryExec name the installed binary by its full path: PREFIX/bin
# need not be on the desktop session's PATH (~/.local/bin often is not).
exe=$prefix/bin/hydre
case $exe in
*[!A-Za-z0-9/._+-]*) quoted="\"$exe\"" ;;
*) quoted=$exe ;;
esac
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sed -e "s|^Exec=hydre |Exec=$quoted |" -e "s|^TryExec=hydre\$|TryExec=$exe|" \
	"$here/share/applications/$app.desktop" >"$tmp"
install -m 0644 "$tmp" "$apps/$app.desktop"
refresh
echo "install.sh: installed hydre into $root"
if ! command -v tor >/dev/null 2>&1 && [ ! -x /usr/bin/tor ] && [ ! -x /usr/sbin/tor ]; then
	echo "install.sh: hydre needs tor, which is not installed: install it (Debian, Ubuntu: sudo apt install tor)" >&2
fi
