package gui

import (
	_ "embed" // the app's icon is compiled in

	"fyne.io/fyne/v2"
)

// iconPNG is the app's icon, 512×512. scripts/package.sh installs the same
// file (scaled to the hicolor sizes) as the desktop icon.
//
//go:embed icon.png
var iconPNG []byte

// iconResource is iconPNG as Fyne takes it, for the app, the window, the
// tray and the screens' headers.
var iconResource = fyne.NewStaticResource("icon.png", iconPNG)
