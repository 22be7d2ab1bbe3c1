package gui

import (
	"fmt"
	"image"

	qrcode "github.com/skip2/go-qrcode"
)

// qrSize is the side, in pixels, of the QR codes the app draws.
const qrSize = 320

// qrImage draws text (a link) as a QR code a phone can read from the screen.
func qrImage(text string) (image.Image, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("draw qr code: %w", err)
	}
	q.DisableBorder = false
	return q.Image(qrSize), nil
}
