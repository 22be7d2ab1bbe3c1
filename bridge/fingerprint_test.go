package bridge

import (
	"strings"
	"testing"
)

func TestPeerIDs(t *testing.T) {
	for _, fp := range []Fingerprint{Transmission300, QBittorrent452} {
		seen := map[string]bool{}
		for range 50 {
			id, err := fp.PeerID()
			if err != nil {
				t.Fatal(err)
			}
			if len(id) != 20 || !strings.HasPrefix(id, fp.PeerIDPrefix) || seen[id] {
				t.Fatalf("%s: bad or repeated peer id %q", fp.Name, id)
			}
			seen[id] = true
			for _, r := range id[8:] {
				if r < 0x21 || r > 0x7e {
					t.Fatalf("%s: unprintable peer id %q", fp.Name, id)
				}
			}
		}
	}
	// Transmission's check character makes the base-36 sum a multiple of 36.
	for range 50 {
		id, _ := Transmission300.PeerID()
		sum := 0
		for _, r := range id[8:] {
			sum += strings.IndexRune("0123456789abcdefghijklmnopqrstuvwxyz", r)
		}
		if sum%36 != 0 {
			t.Fatalf("transmission peer id %q fails its checksum", id)
		}
	}
	if _, err := (Fingerprint{PeerIDPrefix: "short"}).PeerID(); err == nil {
		t.Fatal("short prefix accepted")
	}
}

func TestDecoyNear(t *testing.T) {
	ih := [20]byte{0xab, 0xcd, 0xef, 0x12}
	for range 100 {
		d, err := decoyNear(ih, 20)
		if err != nil {
			t.Fatal(err)
		}
		if d == ih || d[0] != ih[0] || d[1] != ih[1] || d[2]&0xf0 != ih[2]&0xf0 {
			t.Fatalf("decoy %x not close to %x", d, ih)
		}
	}
}
