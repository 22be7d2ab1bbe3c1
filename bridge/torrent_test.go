package bridge

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestAddSameTorrentConcurrently adds one magnet from several goroutines at
// once, as a node's fetch and a user's stream do: they must share one
// Torrent, so that the first to drop it does not close the library's torrent
// under the others.
func TestAddSameTorrentConcurrently(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"
	const adds = 8
	got := make([]*Torrent, adds)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range adds {
		wg.Go(func() {
			<-start
			bt, err := c.Add(ctx, magnet)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = bt
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, bt := range got[1:] {
		if bt != got[0] {
			t.Fatalf("Add %d returned another Torrent than Add 0", i+1)
		}
	}
	for _, bt := range got[1:] {
		bt.Drop()
	}
	select {
	case <-got[0].t.Closed():
		t.Fatal("the library's torrent was closed while one Add still holds it")
	default:
	}
	c.mu.Lock()
	n := len(c.torrents)
	c.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d torrents in the client, want 1", n)
	}
	got[0].Drop()
	select {
	case <-got[0].t.Closed():
	case <-ctx.Done():
		t.Fatal("the last Drop did not close the torrent")
	}
}
