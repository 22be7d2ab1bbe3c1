#!/usr/bin/env bash
# package.sh builds bin/Hydre.tar.xz, the Linux desktop package: the binary,
# its icon and a .desktop file that registers the hydre: link scheme.
# Install it with: tar -xJf bin/Hydre.tar.xz && (cd hydre && sudo make install)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
fyne_tool=fyne.io/tools/cmd/fyne@v1.7.4
gobin=$(go env GOPATH)/bin
[ -x "$gobin/fyne" ] || go install "$fyne_tool"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# fyne package rewrites FyneApp.toml (it bumps Build) and wants Go code in
# its folder: package from a scratch copy.
cp -r FyneApp.toml assets "$work/"
cp bin/hydre "$work/hydre"
printf 'module pkg\n\ngo 1.26\n' >"$work/go.mod"
printf 'package main\n\nfunc main() {}\n' >"$work/main.go"
(cd "$work" && "$gobin/fyne" package --target linux --executable ./hydre >/dev/null)

# Fyne's template writes "Exec=hydre %F" (made for files); a URI scheme
# handler needs %u, and links go to the gui command.
mkdir "$work/unpack"
tar -xJf "$work/Hydre.tar.xz" -C "$work/unpack"
desktop=$(find "$work/unpack" -name '*.desktop' | head -1)
sed -i 's/^Exec=hydre %F$/Exec=hydre gui %u/' "$desktop"
grep -q '^Exec=hydre gui %u$' "$desktop" || { echo "package: unexpected Exec line in $desktop" >&2; exit 1; }
grep -q 'x-scheme-handler/hydre' "$desktop" || { echo "package: $desktop does not register hydre:" >&2; exit 1; }
tar -cJf "$top/bin/Hydre.tar.xz" -C "$work/unpack" .
echo "package: wrote bin/Hydre.tar.xz ($(basename "$desktop"))"
