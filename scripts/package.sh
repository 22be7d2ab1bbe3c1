#!/usr/bin/env bash
# package.sh builds hydre's Linux packages from a built binary (make build):
#   bin/Hydre.tar.xz              an archive to install anywhere:
#                                 tar -xJf Hydre.tar.xz && cd hydre && sudo make install
#                                 (or make user-install, into ~/.local)
#   bin/hydre_VERSION_ARCH.deb    a Debian package, depending on tor
# Both install the binary, the icon at each hicolor size and a .desktop file
# that registers the hydre: link scheme. The files come from assets/linux/ and
# assets/icon.png; scripts/package-test.sh installs both into scratch roots.
# Usage: scripts/package.sh [bin/hydre]
# DEBFULLNAME and DEBEMAIL name the .deb's maintainer (default: the author of
# the last commit).
set -euo pipefail
exe=$(realpath "${1:-bin/hydre}")
cd "$(dirname "$0")/.."
top=$PWD
app=org.hydre_p2p.hydre
sizes=(16 24 32 48 64 128 256 512)

die() {
	echo "package: $*" >&2
	exit 1
}
for tool in convert dpkg-deb dpkg-shlibdeps strip xz; do
	command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh installs it)"
done
[ -x "$exe" ] || die "no binary at $exe: run make build"

# The version is the binary's own; a development build gets the last
# commit's time and hash, so that newer builds sort as newer to dpkg
# (0.1.0-dev becomes 0.1.0~dev+git202612071930.9103710).
version=$("$exe" version | awk '{print $NF}')
[ -n "$version" ] || die "$exe version printed nothing"
debversion=${version//-/\~}
if [[ $version == *-dev ]] && git rev-parse --git-dir >/dev/null 2>&1; then
	debversion+="+git$(TZ=UTC git log -1 --date=format-local:%Y%m%d%H%M --format=%cd).$(git rev-parse --short=7 HEAD)"
fi
case $(go env GOARCH) in
amd64 | arm64 | riscv64 | s390x) arch=$(go env GOARCH) ;;
386) arch=i386 ;;
arm) arch=armhf ;;
ppc64le) arch=ppc64el ;;
*) die "no Debian architecture for GOARCH $(go env GOARCH)" ;;
esac

umask 022
work=$(mktemp -d "${TMPDIR:-/tmp}/hydre-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The tree both packages hold, under a prefix: bin/, share/.
tree=$work/tree
install -d "$tree/bin" "$tree/share/applications"
strip --remove-section=.comment -o "$tree/bin/hydre" "$exe"
install -m 0644 assets/linux/$app.desktop "$tree/share/applications/$app.desktop"
for s in "${sizes[@]}"; do
	d=$tree/share/icons/hicolor/${s}x$s/apps
	install -d "$d"
	if [ "$s" = 512 ]; then
		install -m 0644 assets/icon.png "$d/$app.png"
	else
		convert assets/icon.png -resize "${s}x$s" -strip -define png:exclude-chunks=date,time "png32:$d/$app.png"
	fi
done

# The archive: the tree, install.sh and its Makefile in a folder "hydre".
arc=$work/archive/hydre
install -d "$arc"
cp -a "$tree/." "$arc/"
install -m 0755 assets/linux/install.sh "$arc/install.sh"
install -m 0644 assets/linux/Makefile "$arc/Makefile"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@"$(git log -1 --format=%ct 2>/dev/null || date +%s)" \
	-C "$work/archive" -cJf "$work/Hydre.tar.xz" hydre
mv "$work/Hydre.tar.xz" bin/Hydre.tar.xz
echo "package: wrote bin/Hydre.tar.xz (hydre $version)"

# The .deb: the tree under /usr, a manual page made from the binary's help,
# the copyright file, the maintainer scripts, a control file.
deb=$work/deb
install -d "$deb/usr" "$deb/DEBIAN" "$deb/usr/share/doc/hydre"
cp -a "$tree/." "$deb/usr/"
install -m 0755 assets/linux/debian/postinst assets/linux/debian/postrm "$deb/DEBIAN/"
scripts/package-copyright.sh "$exe" >"$deb/usr/share/doc/hydre/copyright"
install -d "$deb/usr/share/man/man1"
scripts/package-man.sh "$exe" | gzip -9n >"$deb/usr/share/man/man1/hydre.1.gz"
chmod 0644 "$deb/usr/share/man/man1/hydre.1.gz"
maintainer="${DEBFULLNAME:-$(git log -1 --format=%an)} <${DEBEMAIL:-$(git log -1 --format=%ae)}>"
{
	printf 'hydre (%s) unstable; urgency=medium\n\n' "$debversion"
	printf '  * Built from %s.\n\n' "$(git rev-parse --short=12 HEAD 2>/dev/null || echo 'a source tree')"
	printf ' -- %s  %s\n' "$maintainer" "$(date -R -d @"$(git log -1 --format=%ct 2>/dev/null || date +%s)")"
} | gzip -9n >"$deb/usr/share/doc/hydre/changelog.gz"
chmod 0644 "$deb/usr/share/doc/hydre/"*
# dpkg-shlibdeps names the libraries the binary links (libc, libGL, X11)
# as package dependencies; it reads them from a source tree's debian/.
mkdir -p "$work/src/debian"
printf 'Source: hydre\n\nPackage: hydre\nArchitecture: any\n' >"$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O "$deb/usr/bin/hydre" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no library dependency for $exe"
cat >"$deb/DEBIAN/control" <<CONTROL
Package: hydre
Version: $debversion
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$deb" | cut -f1)
Depends: tor, $shlibs
Recommends: mpv | vlc, xdg-utils
Suggests: obfs4proxy, snowflake-client
Section: net
Priority: optional
Homepage: https://github.com/hydre-p2p/hydre
Description: share files by hash over Tor onion services
 hydre shares files between people over Tor onion services. A file is
 sealed (encrypted, cut into verified chunks) and shared by a link that
 names its hash and carries its key; whoever has the link downloads it
 from every peer that has it, verifies each chunk, and can play a video
 while it downloads. No peer learns another's IP address.
 .
 The package holds the desktop app and the command line (hydre gui,
 hydre share, hydre get), and registers the hydre: link scheme, so that
 a link clicked in a browser opens the app.
CONTROL
(cd "$deb" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$deb/DEBIAN/md5sums"
chmod 0644 "$deb/DEBIAN/control" "$deb/DEBIAN/md5sums"
out=bin/hydre_${debversion}_$arch.deb
rm -f bin/hydre_*.deb
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s) \
	dpkg-deb --root-owner-group -Zxz --build "$deb" "$work/hydre.deb" >/dev/null
mv "$work/hydre.deb" "$out"
echo "package: wrote $out"
