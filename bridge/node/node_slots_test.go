package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
)

// The node's slots (Leech.MaxTorrents) against requesters who hold them:
// an info-hash no one seeds, a requester who leaves, a reader who stalls.
// Each test runs a node of one slot; before the fix each left every later
// request "bridge busy" until the node restarted.

// randomMagnet returns a magnet of an info-hash that no torrent has.
func randomMagnet(t *testing.T) string {
	var ih [20]byte
	if _, err := rand.Read(ih[:]); err != nil {
		t.Fatal(err)
	}
	return "magnet:?xt=urn:btih:" + hex.EncodeToString(ih[:])
}

// requestFreed asks for name until the node is no longer busy, for at
// most 30 s, and fails the test if the slot stays taken.
func (lab *limitsLab) requestFreed(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := lab.request(t, ctx, name)
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), bridge.ErrBusy.Error()) || time.Now().After(deadline) {
			t.Fatalf("request for %s after the slot should be free: %v", name, err)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitLeeching waits until the node's client has n torrents.
func (lab *limitsLab) waitLeeching(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	for len(lab.client.Torrents()) != n {
		select {
		case <-ctx.Done():
			t.Fatalf("the node leeches %d torrents, want %d", len(lab.client.Torrents()), n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestNodeMetadataDeadline asks a node of one slot for an info-hash no one
// seeds: the requester gets ErrNoMetadata's text once MetadataTimeout
// passed, and the slot serves the next request.
func TestNodeMetadataDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	lab := startLimitsLab(t, ctx, map[string]int64{"real.bin": 512<<10 + 3},
		Config{Leech: bridge.Config{MaxTorrents: 1}, MetadataTimeout: 2 * time.Second})
	for _, stream := range []bool{false, true} {
		rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
		var err error
		if stream {
			var s *Stream
			if s, err = OpenStream(rctx, lab.user, lab.node.Address(), randomMagnet(t)); err == nil {
				s.Close()
			}
		} else {
			_, err = Request(rctx, lab.user, lab.node.Address(), randomMagnet(t), nil)
		}
		rcancel()
		if err == nil || !strings.Contains(err.Error(), ErrNoMetadata.Error()) {
			t.Fatalf("request (stream %v) for an info-hash no one seeds: %v, want %q", stream, err, ErrNoMetadata)
		}
	}
	lab.requestFreed(t, ctx, "real.bin")
}

// TestNodeRequesterLeaves has a requester ask a node of one slot for an
// info-hash no one seeds and go away before any link: the leech stops and
// the next request is served, for a link request and a stream alike.
func TestNodeRequesterLeaves(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lab := startLimitsLab(t, ctx, map[string]int64{"a.bin": 512<<10 + 5, "b.bin": 512<<10 + 7},
		Config{Leech: bridge.Config{MaxTorrents: 1}})
	for _, tc := range []struct {
		name   string
		stream bool
		next   string
	}{
		{"request", false, "a.bin"},
		{"stream", true, "b.bin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rctx, leave := context.WithCancel(ctx)
			gone := make(chan error, 1)
			go func() {
				var err error
				if tc.stream {
					_, err = OpenStream(rctx, lab.user, lab.node.Address(), randomMagnet(t))
				} else {
					_, err = Request(rctx, lab.user, lab.node.Address(), randomMagnet(t), nil)
				}
				gone <- err
			}()
			lab.waitLeeching(t, ctx, 1)
			leave()
			if err := <-gone; err == nil {
				t.Fatal("a request for an info-hash no one seeds was answered")
			}
			lab.requestFreed(t, ctx, tc.next)
		})
	}
}

// TestNodeStalledStreamReader opens a stream from a node of one slot and
// reads nothing after the metadata: the node's write times out
// (WriteTimeout), the stream's hold on the torrent ends, and the slot
// serves the next request.
func TestNodeStalledStreamReader(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lab := startLimitsLab(t, ctx, map[string]int64{"film.bin": 3<<20 + 9, "next.bin": 512<<10 + 1},
		Config{Leech: bridge.Config{MaxTorrents: 1}, WriteTimeout: time.Second})
	s, err := OpenStream(ctx, lab.user, lab.node.Address(), lab.magnets["film.bin"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The stream now holds film.bin on the node; nothing more is read.
	lab.waitFetched(t, ctx, "film.bin")
	lab.requestFreed(t, ctx, "next.bin")
}
