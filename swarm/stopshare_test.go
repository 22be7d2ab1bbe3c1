package swarm

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/memnet"
)

// refusedShare waits until nd's download of id has failed to reach any peer
// (its dials' failure in Waiting) and checks that it got nothing.
func refusedShare(t *testing.T, nd *node, st Status) {
	t.Helper()
	// Other waits come and go first (asking the rendezvous slots, under
	// load): wait for the refusal itself, or for what would disprove it.
	got := nd.waitFor(st.ID, 30*time.Second, "a refused dial", func(s Status) bool {
		return s.Verified != 0 || s.Peers != 0 || strings.Contains(s.Waiting, "no such service")
	})
	if got.Verified != 0 || got.Peers != 0 || !strings.Contains(got.Waiting, "no such service") {
		t.Errorf("%s was not refused: %d bytes, %d connections, waiting %q", nd.name, got.Verified, got.Peers, got.Waiting)
	}
}

// TestShareOnce: a share made with Once stops after the first complete
// download (paused, with the reason, across a restart): a second
// downloader is refused; Resume shares it again.
func TestShareOnce(t *testing.T) {
	n := memnet.New(memnet.WithLatency(time.Millisecond))
	seeder := newNode(t, n, "seeder", nil)
	path, data := writeFile(t, t.TempDir(), "report.pdf", 600<<10)
	st, err := seeder.e.Share(context.Background(), path, ShareOptions{ChunkSize: 16 << 10, Once: true})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Once {
		t.Fatal("the status of a once share does not say Once")
	}
	noReshare := func(c *Config) { c.Reshare = false }
	b := newNode(t, n, "b", noReshare)
	b.get(st.Link)
	done := b.waitDone(st.ID, 30*time.Second)
	checkFile(t, done.Path, data)
	ended := seeder.waitFor(st.ID, 10*time.Second, "stopped", func(s Status) bool { return s.Ended != "" })
	if ended.State != StatePaused || ended.Ended != EndedOnce || ended.Reachable {
		t.Errorf("after the first download the share is %s, ended %q, reachable %v", ended.State, ended.Ended, ended.Reachable)
	}
	c := newNode(t, n, "c", noReshare)
	c.get(st.Link)
	refusedShare(t, c, st)

	seeder.close()
	seeder.open()
	if again, _ := seeder.e.Status(st.ID); again.State != StatePaused || again.Ended != EndedOnce {
		t.Errorf("after a restart the share is %s, ended %q", again.State, again.Ended)
	}
	if err := seeder.e.Resume(st.ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := seeder.e.Status(st.ID); again.Ended != "" || !again.Once {
		t.Errorf("resumed: ended %q, once %v", again.Ended, again.Once)
	}
	checkFile(t, c.waitDone(st.ID, 60*time.Second).Path, data)
	seeder.waitFor(st.ID, 10*time.Second, "stopped again", func(s Status) bool { return s.Ended == EndedOnce })
}

// TestShareStopAfter: a share's timer stops it (paused, the reason said);
// a downloader coming after is refused; Resume shares it with no timer.
func TestShareStopAfter(t *testing.T) {
	n := memnet.New()
	seeder := newNode(t, n, "seeder", nil)
	path, data := writeFile(t, t.TempDir(), "notes.txt", 100<<10)
	st, err := seeder.e.Share(context.Background(), path, ShareOptions{StopAfter: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if st.StopAt.IsZero() || time.Until(st.StopAt) > 300*time.Millisecond {
		t.Errorf("StopAt = %v", st.StopAt)
	}
	ended := seeder.waitFor(st.ID, 10*time.Second, "stopped", func(s Status) bool { return s.Ended != "" })
	if ended.State != StatePaused || ended.Ended != EndedTimer {
		t.Errorf("after its time the share is %s, ended %q", ended.State, ended.Ended)
	}
	b := newNode(t, n, "b", nil)
	b.get(st.Link)
	refusedShare(t, b, st)
	if err := seeder.e.Resume(st.ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := seeder.e.Status(st.ID); again.Ended != "" || !again.StopAt.IsZero() || again.State == StatePaused {
		t.Errorf("resumed: %s, ended %q, stop at %v", again.State, again.Ended, again.StopAt)
	}
	checkFile(t, b.waitDone(st.ID, 60*time.Second).Path, data)
}
