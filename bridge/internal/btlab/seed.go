package btlab

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
)

// Payload is a file of pseudo-random bytes and its torrent, for the lab's
// clients to seed.
type Payload struct {
	Sum     [32]byte           // the file's SHA-256
	Dir     string             // the folder holding the file, to seed from
	Torrent string             // the .torrent file's path
	Info    *metainfo.MetaInfo // the torrent, as loaded from Torrent
	root    string
}

// NewPayload writes size pseudo-random bytes of the given seed as
// dir/seed/name and makes its torrent in dir (name's base with .torrent,
// pieces of 2^pieceLog2 bytes, announce as its tracker, none when empty).
func NewPayload(t testing.TB, dir, name string, size int64, seed uint64, announce string, pieceLog2 int) Payload {
	t.Helper()
	p := Payload{Dir: filepath.Join(dir, "seed"), root: dir}
	file := filepath.Join(p.Dir, name)
	p.Sum = WritePayload(t, file, size, seed)
	p.Torrent = filepath.Join(dir, strings.TrimSuffix(name, filepath.Ext(name))+".torrent")
	MakeTorrent(t, file, p.Torrent, announce, pieceLog2)
	var err error
	if p.Info, err = metainfo.LoadFromFile(p.Torrent); err != nil {
		t.Fatal(err)
	}
	return p
}

// SeedWithAria2 seeds p with aria2 (DHT, LPD and PEX off) on 127.0.0.1
// until the test ends, and returns its port and process once it listens.
func (p Payload) SeedWithAria2(t testing.TB) (int, *Proc) {
	t.Helper()
	port := FreePort(t)
	aria := StartAria2Seeder(t, p.Torrent, p.Dir, port)
	aria.Out.Wait(t, 120*time.Second, func(l string) bool { return strings.Contains(l, "listening on TCP port") })
	return port, aria
}

// SeedWithTransmission seeds p with a transmission-daemon (configured in
// the payload's folder's tr, with extra settings) on 127.0.0.1 until the
// test ends, and returns its port and daemon once it holds all of p.
func (p Payload) SeedWithTransmission(t testing.TB, extra ...map[string]any) (int, *Transmission) {
	t.Helper()
	port := FreePort(t)
	trd := StartTransmission(t, filepath.Join(p.root, "tr"), port, extra...)
	trd.Add(t, p.Torrent, p.Dir)
	trd.WaitField(t, 120*time.Second, "Percent Done", func(v string) bool { return v == "100%" })
	return port, trd
}
