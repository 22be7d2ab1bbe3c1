package bridge

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// captureHandshake dials a BitTorrent peer as a plain leecher would and
// returns its reserved bytes and its extended handshake.
func captureHandshake(t *testing.T, addr string, ih metainfo.Hash) ([8]byte, map[string]any) {
	t.Helper()
	c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	hs := append([]byte("\x13BitTorrent protocol"), 0, 0, 0, 0, 0, 0x10, 0, 0x04)
	hs = append(hs, ih[:]...)
	hs = append(hs, "-TR3000-capture12345"...)
	ext, _ := bencode.Marshal(map[string]any{"m": map[string]int{"ut_metadata": 3}, "v": "Transmission 3.00"})
	hs = binary.BigEndian.AppendUint32(hs, uint32(2+len(ext)))
	hs = append(append(hs, msgExtended, 0), ext...)
	if _, err := c.Write(hs); err != nil {
		t.Fatal(err)
	}
	var peerHS [68]byte
	if _, err := io.ReadFull(c, peerHS[:]); err != nil {
		t.Fatalf("read transmission's handshake: %v", err)
	}
	for {
		var lb [4]byte
		if _, err := io.ReadFull(c, lb[:]); err != nil {
			t.Fatalf("read transmission's messages: %v", err)
		}
		n := binary.BigEndian.Uint32(lb[:])
		if n == 0 || n > 1<<20 {
			continue
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(c, msg); err != nil {
			t.Fatal(err)
		}
		if msg[0] == msgExtended && len(msg) > 2 && msg[1] == 0 {
			var d map[string]any
			if err := bencode.Unmarshal(msg[2:], &d); err != nil {
				t.Fatal(err)
			}
			return [8]byte(peerHS[20:28]), d
		}
	}
}

// TestFingerprintMatchesTransmission captures the handshake of a real
// Transmission 3.00 (set to prefer plain connections, DHT and PEX off) and
// checks the bridge's, seen by an independent proxy, field by field: the
// same reserved bits, the same extended-handshake keys (but metadata_size,
// which only a client holding the metadata sends) with the same values
// (but upload_only, 1 for Transmission's seed and 0 for a leecher, and p,
// each daemon's own port), and a
// download that still works with ut_metadata renumbered.
func TestFingerprintMatchesTransmission(t *testing.T) {
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	sum := writePayload(t, filepath.Join(seedDir, "fp.bin"), 3<<20+5, 21)
	tf := filepath.Join(dir, "fp.torrent")
	makeTorrent(t, filepath.Join(seedDir, "fp.bin"), tf, "", 16)
	mi, err := metainfo.LoadFromFile(tf)
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	trd := startTransmission(t, filepath.Join(dir, "tr"), port, map[string]any{"encryption": 0})
	trd.Add(t, tf, seedDir)
	trd.WaitField(t, 60*time.Second, "Percent Done", func(v string) bool { return v == "100%" })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	realReserved, realExt := captureHandshake(t, addr, mi.HashInfoBytes())
	t.Logf("transmission: reserved %x, extended handshake %v", realReserved, realExt)

	proxy := startWireProxy(t, addr)
	c := newTestClient(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bt, err := c.Add(ctx, "magnet:?xt=urn:btih:"+mi.HashInfoBytes().HexString()+"&x.pe="+proxy.addr())
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, ctx, bt, filepath.Join(c.cfg.DataDir, "fp.bin"), sum)

	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	if len(proxy.reserved) == 0 || len(proxy.extHS) == 0 {
		t.Fatal("the proxy saw no handshake from the bridge")
	}
	if got := proxy.reserved[0]; got != realReserved {
		t.Errorf("reserved bytes: bridge %x, transmission %x", got, realReserved)
	}
	ours := proxy.extHS[0]
	t.Logf("bridge: extended handshake %v", ours)
	keys := func(m map[string]any, drop ...string) []string {
		var ks []string
	next:
		for k := range m {
			for _, d := range drop {
				if k == d {
					continue next
				}
			}
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	if a, b := keys(ours), keys(realExt, "metadata_size"); !reflect.DeepEqual(a, b) {
		t.Errorf("extended handshake keys: bridge %v, transmission %v", a, b)
	}
	// p is each daemon's own port (the lab's is random): compared by type.
	if p, ok := ours["p"].(int64); !ok || p <= 0 || p > 65535 {
		t.Errorf("extended handshake p = %v: want a port", ours["p"])
	}
	for _, k := range keys(realExt, "metadata_size", "upload_only", "p") {
		if !reflect.DeepEqual(ours[k], realExt[k]) {
			t.Errorf("extended handshake %q: bridge %v, transmission %v", k, ours[k], realExt[k])
		}
	}
	if ours["upload_only"] != int64(0) {
		t.Errorf("upload_only %v: a leecher says 0", ours["upload_only"])
	}
}
