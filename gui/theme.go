package gui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// variantTheme is Fyne's theme held to one variant, for a person who picks
// dark or light instead of following the desktop.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

// Color returns the colour of name in the chosen variant.
func (t variantTheme) Color(name fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(name, t.variant)
}

// applyTheme puts a Settings.Theme choice in force and repaints the rows
// the lists keep between refreshes. UI thread only.
func (u *UI) applyTheme(choice string) {
	u.app.Settings().SetTheme(themeFor(choice))
	for _, r := range u.shares.made {
		r.Refresh()
	}
	for _, r := range u.downloads.made {
		r.Refresh()
	}
}

// themeFor returns the theme of a Settings.Theme choice.
func themeFor(choice string) fyne.Theme {
	switch choice {
	case ThemeDark:
		return variantTheme{Theme: theme.DefaultTheme(), variant: theme.VariantDark}
	case ThemeLight:
		return variantTheme{Theme: theme.DefaultTheme(), variant: theme.VariantLight}
	}
	return theme.DefaultTheme()
}
