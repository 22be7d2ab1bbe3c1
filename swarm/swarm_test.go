package swarm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

func TestSwarmOfNodes(t *testing.T) {
	tests := []struct {
		name  string
		nodes int
		opts  []memnet.Option
	}{
		{"8 nodes slow links", 8, []memnet.Option{memnet.WithLatency(20 * time.Millisecond), memnet.WithBandwidth(1 << 20)}},
		{"5 nodes lossy links", 5, []memnet.Option{memnet.WithLatency(5 * time.Millisecond), memnet.WithFailureRate(0.01)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := memnet.New(tt.opts...)
			// The seeder's uplink alone would need 2 s per downloader.
			seeder := newNode(t, n, "seeder", nil, memnet.WithUplink(1<<20))
			path, data := writeFile(t, t.TempDir(), "data.bin", 2<<20+777)
			st := seeder.share(path, 16<<10)
			var peers []*node
			for i := range tt.nodes - 1 {
				p := newNode(t, n, "peer"+string(rune('a'+i)), nil)
				p.get(st.Link)
				peers = append(peers, p)
			}
			var uploaded int64
			for _, p := range peers {
				done := p.waitDone(st.ID, 60*time.Second)
				checkFile(t, done.Path, data)
			}
			chunks := (len(data) + 16<<10 - 1) / (16 << 10)
			for _, p := range peers {
				s, _ := p.e.Status(st.ID)
				uploaded += s.Uploaded
				c, _ := p.e.get(st.ID)
				if f := int(c.fetched.Load()); f > chunks*5/4 {
					t.Errorf("%s fetched %d chunks for %d", p.name, f, chunks)
				}
			}
			if uploaded == 0 {
				t.Error("no downloader served any chunk to another")
			}
			t.Logf("downloaders uploaded %d bytes between them", uploaded)
		})
	}
}

func TestLiarIsBanned(t *testing.T) {
	n := memnet.New(memnet.WithLatency(2 * time.Millisecond))
	_, data := writeFile(t, t.TempDir(), "x", 400<<10)
	sealed := sealBytes(t, "x.bin", data, 16<<10)
	// The honest peer is slow, so the download outlasts the liar by far: a
	// liar merely disconnected would be dialed again.
	honest := startFakeSeeder(t, n.Node("honest", memnet.WithBandwidth(256<<10)), sealed, data, false)
	liar := startFakeSeeder(t, n.Node("liar"), sealed, data, true)
	logs := newLogCapture()
	b := newNode(t, n, "b", func(c *Config) { c.CircuitsPerPeer = 2; c.Logger = slog.New(logs) })
	link := linkWith(t, honest.link(), liar.l.Address(), honest.l.Address())
	st := b.get(link)
	done := b.waitDone(st.ID, 30*time.Second)
	checkFile(t, done.Path, data)
	conns, pieces, afterBan, _ := liar.stats()
	if pieces == 0 {
		t.Fatal("the liar was never asked: the test proves nothing")
	}
	if !logs.contains("banned") {
		t.Fatalf("no ban logged: %v", *logs.msgs)
	}
	// Both circuits to it open at the start; none after the ban.
	if afterBan != 0 || conns > 2 {
		t.Fatalf("%d connections to the liar, %d after its ban: it was dialed again", conns, afterBan)
	}
}

func TestPeerVanishes(t *testing.T) {
	n := memnet.New(memnet.WithLatency(5 * time.Millisecond))
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	path, data := writeFile(t, t.TempDir(), "v.bin", 1<<20)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	b.waitDone(st.ID, 20*time.Second)
	bs, _ := b.e.Status(st.ID)
	c := newNode(t, n, "c", nil, memnet.WithBandwidth(512<<10))
	c.get(linkWith(t, st.Link, append(linkPeers(t, st.Link)[:1], linkPeers(t, bs.Link)[0])...))
	c.waitFor(st.ID, 20*time.Second, "30%", func(s Status) bool { return s.Verified > int64(len(data))*3/10 })
	a.mem.Close() // a vanishes mid-transfer
	done := c.waitDone(st.ID, 30*time.Second)
	checkFile(t, done.Path, data)
}

func linkPeers(t *testing.T, link string) []string {
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	return l.Peers
}

func TestRestartResumes(t *testing.T) {
	n := memnet.New(memnet.WithLatency(5 * time.Millisecond))
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil, memnet.WithBandwidth(1<<20))
	path, data := writeFile(t, t.TempDir(), "r.bin", 2<<20)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	b.waitFor(st.ID, 20*time.Second, "40%", func(s Status) bool { return s.Verified > int64(len(data))*4/10 })
	b.close()
	b.mem.Close()
	b.open()
	c, _ := b.e.get(st.ID)
	before, err := b.e.Status(st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if before.Verified < int64(len(data))*4/10 {
		t.Fatalf("verified %d after restart, want at least 40%%", before.Verified)
	}
	done := b.waitDone(st.ID, 30*time.Second)
	checkFile(t, done.Path, data)
	chunks := (len(data) + 16<<10 - 1) / (16 << 10)
	missing := chunks - int(before.Verified/(16<<10))
	if got := int(c.fetched.Load()); got > missing+4 { // + endgame duplicates
		t.Fatalf("fetched %d chunks after restart, %d were missing", got, missing)
	}
}

func TestHostileNameStaysInDestDir(t *testing.T) {
	n := memnet.New()
	for _, name := range []string{"../../../evil.txt", "/etc/passwd", "..", "a/../../b", `..\..\win.txt`, ".hidden", "con"} {
		t.Run(name, func(t *testing.T) {
			data := []byte("payload of " + name)
			sealed := sealBytes(t, name, data, 0)
			f := startFakeSeeder(t, n.Node("seed-"+name), sealed, data, false)
			b := newNode(t, n, "b-"+name, nil)
			st := b.get(f.link())
			done := b.waitDone(st.ID, 10*time.Second)
			if filepath.Dir(done.Path) != b.dl {
				t.Fatalf("saved at %s, outside %s", done.Path, b.dl)
			}
			checkFile(t, done.Path, data)
			entries, _ := os.ReadDir(filepath.Dir(b.dl))
			if len(entries) != 2 { // b.dl and b.dir only
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Fatalf("files next to the destination: %v", names)
			}
		})
	}
}

func TestOpenStreams(t *testing.T) {
	n := memnet.New(memnet.WithLatency(5 * time.Millisecond))
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil, memnet.WithBandwidth(256<<10))
	path, data := writeFile(t, t.TempDir(), "film.mp4", 4<<20)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	f, err := b.e.Open(context.Background(), st.ID) // waits for the descriptor
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Name() != "film.mp4" || f.Size() != int64(len(data)) || f.MediaType() != "video/mp4" {
		t.Fatalf("file %q %d %q", f.Name(), f.Size(), f.MediaType())
	}
	head := make([]byte, 100<<10)
	if _, err := io.ReadFull(f, head); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(head, data[:len(head)]) {
		t.Fatal("head differs")
	}
	// Seek to 80%: the window moves there and the bytes arrive long before
	// the download would reach them in order (4 MiB at 256 KiB/s is 16 s).
	off := int64(len(data)) * 8 / 10
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 64<<10)
	if _, err := io.ReadFull(f, part); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(part, data[off:off+int64(len(part))]) {
		t.Fatal("bytes after seek differ")
	}
	if s, _ := b.e.Status(st.ID); s.Verified >= int64(len(data))*7/10 {
		t.Fatalf("verified %d of %d when the seek read returned: the seek did not steer the picker", s.Verified, len(data))
	}
	// A read at the end returns the last byte then EOF.
	if _, err := f.Seek(-1, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	last, err := io.ReadAll(f)
	if err != nil || len(last) != 1 || last[0] != data[len(data)-1] {
		t.Fatalf("last byte %v %v", last, err)
	}
	// Close unblocks a read waiting for a chunk.
	g, err := b.e.Open(context.Background(), st.ID)
	if err != nil {
		t.Fatal(err)
	}
	g.Seek(int64(len(data))/2+12345, io.SeekStart)
	errc := make(chan error, 1)
	go func() { _, err := g.Read(make([]byte, 1<<20)); errc <- err }()
	g.Close()
	select {
	case err := <-errc:
		if err != nil && !errors.Is(err, ErrFileClosed) {
			t.Fatalf("read after close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
}

func TestOpenCancelled(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil, memnet.WithBandwidth(64<<10))
	b := newNode(t, n, "b", nil)
	path, _ := writeFile(t, t.TempDir(), "f", 2<<20)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	b.waitFor(st.ID, 10*time.Second, "descriptor", func(s Status) bool { return s.Size > 0 })
	ctx, cancel := context.WithCancel(context.Background())
	f, err := b.e.Open(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Seek(-1, io.SeekEnd)
	errc := make(chan error, 1)
	go func() { _, err := f.Read(make([]byte, 1)); errc <- err }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("read: %v, want canceled", err)
	}
}

func TestMultiCircuitSingleSource(t *testing.T) {
	n := memnet.New(memnet.WithLatency(5 * time.Millisecond))
	a := newNode(t, n, "a", nil, memnet.WithBandwidth(512<<10))
	b := newNode(t, n, "b", func(c *Config) { c.CircuitsPerPeer = 4; c.Reshare = false })
	path, data := writeFile(t, t.TempDir(), "m", 2<<20)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	done := b.waitDone(st.ID, 30*time.Second)
	checkFile(t, done.Path, data)
	if done.State != StateDone {
		t.Fatalf("state %v without reshare, want done", done.State)
	}
	if tags := b.mem.IsolationTags(); len(tags) < 4 {
		t.Fatalf("isolation tags %v, want 4 circuits", tags)
	}
}

// TestUploadedIsCurrent checks that a seeder's status counts what it sent
// as soon as the downloader has it, not at the next rate sample.
func TestUploadedIsCurrent(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", func(c *Config) { c.Reshare = false })
	path, data := writeFile(t, t.TempDir(), "u", 256<<10)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	checkFile(t, b.waitDone(st.ID, 30*time.Second).Path, data)
	if got := upload(a, st); got < int64(len(data)) {
		t.Fatalf("seeder reports %d bytes uploaded right after a %d-byte download", got, len(data))
	}
}

func TestChangedFileIsNeverServed(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	path, data := writeFile(t, t.TempDir(), "c", 256<<10)
	st := a.share(path, 16<<10)
	data[5] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	b.get(st.Link)
	a.waitFor(st.ID, 10*time.Second, "failed", func(s Status) bool { return s.State == StateFailed })
	s, _ := a.e.Status(st.ID)
	if !strings.Contains(s.Err, "changed") {
		t.Fatalf("error %q", s.Err)
	}
	if bs, _ := b.e.Status(st.ID); bs.Verified > int64(len(data)) {
		t.Fatal("impossible")
	}
}

func TestHostOnlyLink(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	h := newNode(t, n, "host", nil)
	c := newNode(t, n, "c", nil)
	path, data := writeFile(t, t.TempDir(), "h", 300<<10)
	st := a.share(path, 16<<10)
	l, _ := hcrypto.ParseLink(st.Link)
	l.Key = nil
	hs := h.get(l.Encode())
	if hs.Kind != KindHost {
		t.Fatalf("kind %v", hs.Kind)
	}
	done := h.waitDone(st.ID, 20*time.Second)
	if done.Name != "" {
		t.Fatalf("blind host knows the name %q", done.Name)
	}
	if _, err := h.e.Open(context.Background(), st.ID); !errors.Is(err, ErrNoKey) {
		t.Fatalf("open on a host: %v", err)
	}
	a.mem.Close()
	// c fetches from the blind host alone.
	cs := c.get(linkWith(t, st.Link, linkPeers(t, done.Link)...))
	checkFile(t, c.waitDone(cs.ID, 20*time.Second).Path, data)
}

func TestTwoReaders(t *testing.T) {
	n := memnet.New(memnet.WithLatency(5 * time.Millisecond))
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil, memnet.WithBandwidth(256<<10))
	path, data := writeFile(t, t.TempDir(), "two.mkv", 4<<20)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	b.waitFor(st.ID, 10*time.Second, "descriptor", func(s Status) bool { return s.Size > 0 })
	errc := make(chan error, 2)
	for _, frac := range []int64{2, 7} {
		go func() {
			f, err := b.e.Open(context.Background(), st.ID)
			if err != nil {
				errc <- err
				return
			}
			defer f.Close()
			off := int64(len(data)) * frac / 10
			f.Seek(off, io.SeekStart)
			buf := make([]byte, 96<<10)
			if _, err := io.ReadFull(f, buf); err != nil {
				errc <- err
				return
			}
			if !bytes.Equal(buf, data[off:off+int64(len(buf))]) {
				errc <- errors.New("bytes differ")
				return
			}
			errc <- nil
		}()
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if s, _ := b.e.Status(st.ID); s.Verified >= int64(len(data))/2 {
		t.Fatalf("verified %d of %d when both readers were served: windows did not lead", s.Verified, len(data))
	}
}

// TestOnlyLiars checks that a download whose only source lies says why it
// has no peer once that source is banned, and writes nothing it sent.
func TestOnlyLiars(t *testing.T) {
	n := memnet.New()
	_, data := writeFile(t, t.TempDir(), "x", 256<<10)
	sealed := sealBytes(t, "x.bin", data, 16<<10)
	liar := startFakeSeeder(t, n.Node("liar"), sealed, data, true)
	b := newNode(t, n, "b", nil)
	st := b.get(liar.link())
	s := b.waitFor(st.ID, 10*time.Second, "a reason", func(s Status) bool { return strings.Contains(s.Waiting, "banned") })
	if s.Verified != 0 || s.Peers != 0 {
		t.Fatalf("after the only source was banned: %d bytes verified, %d peers", s.Verified, s.Peers)
	}
	t.Logf("waiting: %s", s.Waiting)
}
