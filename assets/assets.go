// Package assets holds what hydre ships beside its code: the app's icon,
// compiled into the binary from here, and the Linux packaging files under
// linux/ (the .desktop entry, the archive's installer and Makefile, the
// .deb's maintainer scripts), which scripts/package.sh installs.
// FyneApp.toml, at the top of the repository, names the same icon for
// Fyne's own tools.
package assets

import _ "embed" // the icon is compiled in

// Icon is the app's icon, a 512×512 PNG. scripts/package.sh installs the
// same file, scaled to the hicolor sizes, as the desktop icon.
//
//go:embed icon.png
var Icon []byte
