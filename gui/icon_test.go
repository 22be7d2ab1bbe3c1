package gui

import (
	"bytes"
	"image/png"
	"testing"
)

// TestIcon checks that the compiled-in icon is a square PNG the desktop can
// scale down to every hicolor size scripts/package.sh installs.
func TestIcon(t *testing.T) {
	cfg, err := png.DecodeConfig(bytes.NewReader(iconResource.Content()))
	if err != nil {
		t.Fatalf("icon.png: %v", err)
	}
	if cfg.Width != 512 || cfg.Height != 512 {
		t.Errorf("icon.png is %d×%d, want 512×512", cfg.Width, cfg.Height)
	}
}
