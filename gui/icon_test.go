package gui

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate icon_bundled.go from ../assets/icon.png")

// TestBundledIcon keeps the icon compiled into the app equal to
// assets/icon.png (the one FyneApp.toml packages). Run with -update after
// changing the asset.
func TestBundledIcon(t *testing.T) {
	want, err := os.ReadFile("../assets/icon.png")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("icon_bundled.go", bundledIconSource(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(iconResource.Content(), want) {
		t.Fatalf("the bundled icon differs from assets/icon.png: run go test ./gui -run TestBundledIcon -update")
	}
}

func bundledIconSource(png []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(png)
	var b strings.Builder
	b.WriteString(`// Code generated from assets/icon.png by TestBundledIcon -update; DO NOT EDIT.

package gui

import (
	"encoding/base64"

	"fyne.io/fyne/v2"
)

// iconResource is assets/icon.png, the app's icon.
var iconResource = fyne.NewStaticResource("icon.png", mustBase64(iconPNG))

const iconPNG = "" +
`)
	for len(enc) > 0 {
		n := min(100, len(enc))
		sep := " +"
		if n == len(enc) {
			sep = ""
		}
		fmt.Fprintf(&b, "\t%q%s\n", enc[:n], sep)
		enc = enc[n:]
	}
	b.WriteString(`
func mustBase64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic("gui: bundled icon: " + err.Error())
	}
	return b
}
`)
	return []byte(b.String())
}
