package gui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/hydre-p2p/hydre/swarm"
)

// screens the screenshot run must produce (scripts/screenshots.sh).
var wantScreenshots = []string{"startup", "share", "share-qr", "download", "download-light", "settings", "bridge", "tor-failed",
	"download-done", "share-compact", "download-compact", "settings-connection", "limits", "history", "tor-stuck", "download-files"}

// optionalScreenshots may be missing: the offline app needs user
// namespaces (unshare -rn), which the script requires only on CI.
var optionalScreenshots = map[string]bool{"tor-stuck": true}

// TestScreenshotsNotBlank checks the PNGs of scripts/screenshots.sh, named by
// $HYDRE_SCREENSHOTS: each must exist, be window-sized and show a real
// screen (many colours, no single colour covering nearly everything).
func TestScreenshotsNotBlank(t *testing.T) {
	dir := os.Getenv("HYDRE_SCREENSHOTS")
	if dir == "" {
		t.Skip("HYDRE_SCREENSHOTS is not set: scripts/screenshots.sh runs this check")
	}
	for _, name := range wantScreenshots {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, name+".png"))
			if optionalScreenshots[name] && errors.Is(err, os.ErrNotExist) {
				t.Skipf("%s.png was not made (scripts/screenshots.sh says why)", name)
			}
			if err != nil {
				t.Fatalf("missing screenshot: %v", err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("decode %s.png: %v", name, err)
			}
			if err := checkNotBlank(img); err != nil {
				t.Errorf("%s.png: %v", name, err)
			}
		})
	}
}

func TestCheckNotBlank(t *testing.T) {
	blank := image.NewRGBA(image.Rect(0, 0, 900, 640))
	if checkNotBlank(blank) == nil {
		t.Errorf("a blank image passed")
	}
	small := image.NewRGBA(image.Rect(0, 0, 10, 10))
	if checkNotBlank(small) == nil {
		t.Errorf("a tiny image passed")
	}
	// A real screen, painted by the test driver's software painter.
	app := test.NewTempApp(t)
	u, err := New(context.Background(), Options{App: app, DataDir: t.TempDir(),
		Start: func(context.Context, Settings, func(Progress)) (*swarm.Engine, func(), error) {
			return nil, nil, errors.New("no tor in this test")
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	eventually(t, u, 10*time.Second, func() bool { return u.tor.state == "failed" }, func() string { return u.tor.state })
	var img image.Image
	u.onUI(func() {
		u.selectScreen(ScreenSettings)
		img = u.win.Canvas().Capture()
	})
	if err := checkNotBlank(img); err != nil {
		t.Errorf("a real screen failed: %v", err)
	}
}

// checkNotBlank reports why img does not look like a captured screen.
func checkNotBlank(img image.Image) error {
	b := img.Bounds()
	if b.Dx() < 400 || b.Dy() < 300 {
		return fmt.Errorf("%dx%d is smaller than a window", b.Dx(), b.Dy())
	}
	counts := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			counts[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}]++
		}
	}
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	total := b.Dx() * b.Dy()
	switch {
	case len(counts) < 32:
		return fmt.Errorf("only %d distinct colours: blank", len(counts))
	case most*100 > total*98:
		return fmt.Errorf("one colour covers %d%% of the image: blank", most*100/total)
	}
	return nil
}
