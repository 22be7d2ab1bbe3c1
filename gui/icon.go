package gui

import (
	"fyne.io/fyne/v2"

	"github.com/hydre-p2p/hydre/assets"
)

// iconResource is the app's icon (assets.Icon) as Fyne takes it, for the
// app, the window, the tray and the screens' headers.
var iconResource = fyne.NewStaticResource("icon.png", assets.Icon)
