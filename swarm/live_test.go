package swarm

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// feedChunks writes the file bytes of the given chunks of a live share and
// adds each one, pausing between them.
func feedChunks(t *testing.T, ls *LiveShare, f *os.File, data []byte, chunks []int, pause time.Duration) {
	t.Helper()
	for _, i := range chunks {
		off, n := ls.chunkRange(i)
		if _, err := f.WriteAt(data[off:off+int64(n)], off); err != nil {
			t.Fatal(err)
		}
		if err := ls.Add(i); err != nil {
			t.Fatalf("add chunk %d: %v", i, err)
		}
		time.Sleep(pause)
	}
}

// TestLiveShare gives out a live content's link before any of its data
// exists: a downloader fetches and reads each chunk as the feeder adds it,
// in any order, across a restart of the origin, and ends with the exact
// file; a second downloader gets it from both.
func TestLiveShare(t *testing.T) {
	n := memnet.New(memnet.WithBandwidth(4 << 20))
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	const chunk = 16 << 10
	const size = 40*chunk + 123
	_, data := writeFile(t, t.TempDir(), "src", size)
	path := filepath.Join(t.TempDir(), "show.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ls, err := a.e.ShareLive(context.Background(), path, LiveOptions{Size: size, ChunkSize: chunk, MediaType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	st := ls.Status()
	if !st.Growing || st.Done() || st.Verified != 0 || st.Size != size {
		t.Fatalf("new live share: %+v", st)
	}
	nc := ls.NumChunks()

	got := b.get(st.Link)
	b.waitFor(got.ID, 20*time.Second, "descriptor", func(s Status) bool { return s.Size == size && s.Peers > 0 })
	r, err := b.e.Open(context.Background(), got.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	// The first ten chunks, in reverse order: the reader gets them before
	// the feeder has the rest.
	first := []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}
	feedChunks(t, ls, f, data, first, 0)
	head := make([]byte, 10*chunk)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	if string(head) != string(data[:len(head)]) {
		t.Fatal("bytes read from a live content differ")
	}
	if s, _ := b.e.Status(got.ID); s.Verified > int64(len(first))*chunk {
		t.Fatalf("downloader verified %d bytes of %d chunks added", s.Verified, len(first))
	}
	for i := range nc {
		if ls.Has(i) != (i < 10) {
			t.Fatalf("chunk %d added: %v", i, ls.Has(i))
		}
	}

	// Half of the rest in random order, then the origin restarts and its
	// feeder goes on from the stored signing key.
	rest := make([]int, 0, nc-10)
	for i := 10; i < nc; i++ {
		rest = append(rest, i)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	feedChunks(t, ls, f, data, rest[:len(rest)/2], 5*time.Millisecond)
	if err := ls.Close(); err != nil {
		t.Fatal(err)
	}
	a.close()
	a.open()
	if _, err := a.e.LiveShare(hcrypto.ContentID{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("feeder of an unknown content: %v", err)
	}
	ls, err = a.e.LiveShare(got.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	for _, i := range rest[:len(rest)/2] {
		if !ls.Has(i) {
			t.Fatalf("chunk %d lost across the restart", i)
		}
	}
	feedChunks(t, ls, f, data, rest[len(rest)/2:], 5*time.Millisecond)

	b.waitDone(got.ID, 60*time.Second)
	checkFile(t, filepath.Join(b.dl, "show.bin"), data)
	st = ls.Status()
	if st.Growing || !st.Done() || st.Verified != size {
		t.Fatalf("live share after its last chunk: %+v", st)
	}
	if _, err := a.e.LiveShare(got.ID); !errors.Is(err, ErrNotLive) {
		t.Fatalf("feeder of a finished live share: %v", err)
	}
	c := a.e.lookup(got.ID)
	seed := c.record().SignSeed
	if seed != nil {
		t.Fatal("the signing key is kept after the last chunk")
	}

	// A second downloader, told of the origin only, completes from it and
	// from the first one.
	c2 := newNode(t, n, "c", nil)
	got2 := c2.get(st.Link)
	c2.waitDone(got2.ID, 60*time.Second)
	checkFile(t, filepath.Join(c2.dl, "show.bin"), data)
}

// TestLiveShareRefusesChangedData adds a chunk, then changes its bytes: the
// feeder refuses to sign other data for it, and keeps serving the first.
func TestLiveShareRefusesChangedData(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	path, data := writeFile(t, t.TempDir(), "x.bin", 3<<10)
	ls, err := a.e.ShareLive(context.Background(), path, LiveOptions{Size: int64(len(data)), ChunkSize: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	if err := ls.Add(1); err != nil {
		t.Fatal(err)
	}
	data[1<<10] ^= 1
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ls.Add(1); !errors.Is(err, hcrypto.ErrBadChunk) {
		t.Fatalf("re-adding changed bytes: %v", err)
	}
	if err := ls.Add(7); err == nil {
		t.Fatal("added a chunk out of range")
	}
	if _, err := a.e.ShareLive(context.Background(), filepath.Join(t.TempDir(), "missing"), LiveOptions{Size: 1}); err == nil {
		t.Fatal("shared a missing file")
	}
}
