package swarm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

func TestEventsPauseResumeRemove(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil, memnet.WithBandwidth(512<<10))
	events, cancel := b.e.Subscribe()
	defer cancel()
	seenc := make(chan map[State]bool, 1)
	go func() {
		seen := map[State]bool{}
		for ev := range events {
			seen[ev.Status.State] = true
		}
		seenc <- seen
	}()
	path, data := writeFile(t, t.TempDir(), "e.bin", 1<<20)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	b.waitFor(st.ID, 10*time.Second, "20%", func(s Status) bool { return s.Verified > int64(len(data))/5 })
	if err := b.e.Pause(st.ID); err != nil {
		t.Fatal(err)
	}
	paused, _ := b.e.Status(st.ID)
	if paused.State != StatePaused || paused.Peers != 0 {
		t.Fatalf("after pause: %+v", paused)
	}
	// Paused survives a restart.
	b.close()
	b.open()
	if s, _ := b.e.Status(st.ID); s.State != StatePaused {
		t.Fatalf("after restart: state %v", s.State)
	}
	if err := b.e.Resume(st.ID); err != nil {
		t.Fatal(err)
	}
	done := b.waitDone(st.ID, 20*time.Second)
	checkFile(t, done.Path, data)

	// The first engine's subscription saw fetching and paused, and Close
	// closed it.
	var seen map[State]bool
	select {
	case seen = <-seenc:
	case <-time.After(5 * time.Second):
		t.Fatal("subscription not closed by Close")
	}
	for _, s := range []State{StateFetching, StatePaused} {
		if !seen[s] {
			t.Errorf("no %v event (saw %v)", s, seen)
		}
	}

	if err := b.e.Remove(st.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(done.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("data not deleted: %v", err)
	}
	if _, err := b.e.Status(st.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("status after remove: %v", err)
	}
	// Removing a share keeps the user's file.
	if err := a.e.Remove(st.ID, true); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, data)
}

func TestGetRejects(t *testing.T) {
	n := memnet.New()
	b := newNode(t, n, "b", nil)
	for _, link := range []string{"", "hydre:garbage", "https://example.com"} {
		if _, err := b.e.Get(context.Background(), link, ""); err == nil {
			t.Errorf("Get(%q) accepted", link)
		}
	}
	path, _ := writeFile(t, t.TempDir(), "x", 10)
	st := b.share(path, 0)
	if _, err := b.e.Get(context.Background(), linkWith(t, st.Link), ""); err != nil {
		t.Errorf("Get of a content already held: %v", err)
	}
	a := newNode(t, n, "a", nil)
	if _, err := a.e.Get(context.Background(), linkWithout(t, st.Link), ""); !errors.Is(err, ErrNoPeers) {
		t.Errorf("Get without peers or swarm secret: %v", err)
	}
}

func TestSingleIdentity(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", func(c *Config) { c.SingleIdentity = true })
	b := newNode(t, n, "b", nil)
	p1, d1 := writeFile(t, t.TempDir(), "one", 100<<10)
	p2, d2 := writeFile(t, t.TempDir(), "two", 120<<10)
	s1, s2 := a.share(p1, 0), a.share(p2, 0)
	if linkPeers(t, s1.Link)[0] != linkPeers(t, s2.Link)[0] {
		t.Fatal("single identity serves from two addresses")
	}
	b.get(s1.Link)
	b.get(s2.Link)
	checkFile(t, b.waitDone(s1.ID, 10*time.Second).Path, d1)
	checkFile(t, b.waitDone(s2.ID, 10*time.Second).Path, d2)
}

func TestUnlinkableIdentities(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	p1, _ := writeFile(t, t.TempDir(), "one", 1000)
	p2, _ := writeFile(t, t.TempDir(), "two", 2000)
	s1, s2 := a.share(p1, 0), a.share(p2, 0)
	if linkPeers(t, s1.Link)[0] == linkPeers(t, s2.Link)[0] {
		t.Fatal("two contents share an onion address")
	}
	// Asking one identity for the other content gets nothing.
	b := newNode(t, n, "b", nil)
	if _, err := b.e.Get(context.Background(), linkWith(t, s2.Link, linkPeers(t, s1.Link)...), ""); err != nil {
		t.Fatal(err)
	}
	b.waitFor(s2.ID, 5*time.Second, "starting", func(s Status) bool { return s.State == StateStarting })
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if s, _ := b.e.Status(s2.ID); s.Size != 0 {
			t.Fatal("the identity of one content served another")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReadState(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	path, _ := writeFile(t, t.TempDir(), "listed.txt", 50<<10)
	st := a.share(path, 0)
	if _, err := ReadState(a.dir); !errors.Is(err, ErrBusy) {
		t.Fatalf("ReadState while the engine runs: %v, want busy", err)
	}
	a.close()
	list, err := ReadState(a.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d contents", len(list))
	}
	got := list[0]
	if got.ID != st.ID || got.Name != "listed.txt" || got.Kind != KindShare || got.State != StateSeeding ||
		got.Verified != got.Size || got.Size != 50<<10 || got.Link != st.Link {
		t.Fatalf("offline status %+v, want like %+v", got, st)
	}
	if list, err := ReadState(t.TempDir()); err != nil || len(list) != 0 {
		t.Fatalf("empty dir: %v %v", list, err)
	}
}

// gatedTransport publishes services only once its gate is open, as tor
// takes seconds to publish a new onion service.
type gatedTransport struct {
	*memnet.Node
	gate    chan struct{}
	entered chan struct{} // if not nil, told (without blocking) of each Listen
}

func (g gatedTransport) Listen(ctx context.Context, cfg onion.ServiceConfig) (onion.Listener, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Node.Listen(ctx, cfg)
}

// TestShareReachable checks that a share says when its link starts to work:
// served from the start, reachable once its service is published (an event
// says so at once), and no longer while paused; and that a download started
// before says why it has no peer until then.
func TestShareReachable(t *testing.T) {
	n := memnet.New()
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	a := newNode(t, n, "a", func(c *Config) {
		c.Transport = gatedTransport{Node: c.Transport.(*memnet.Node), gate: gate, entered: entered}
	})
	b := newNode(t, n, "b", nil)
	path, data := writeFile(t, t.TempDir(), "r", 64<<10)
	st := a.share(path, 16<<10)
	a.waitFor(st.ID, 5*time.Second, "seeding", func(s Status) bool { return s.State == StateSeeding })
	select { // the share is publishing its service, which the gate holds
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the share did not publish its service")
	}
	if s, _ := a.e.Status(st.ID); s.Reachable {
		t.Fatalf("reachable before its service is published: %+v", s)
	}
	b.get(st.Link)
	// Asking the rendezvous slots may be shown first: wait for the dial's
	// outcome.
	w := b.waitFor(st.ID, 5*time.Second, "a failed dial", func(s Status) bool { return strings.HasPrefix(s.Waiting, "no peer reachable yet: ") })
	if !strings.Contains(w.Waiting, "no such service") {
		t.Errorf("waiting for %q", w.Waiting)
	}
	events, cancel := a.e.Subscribe()
	defer cancel()
	close(gate)
	for reachable := false; !reachable; {
		select {
		case ev := <-events:
			reachable = ev.Status.ID == st.ID && ev.Status.Reachable
		case <-time.After(5 * time.Second):
			s, _ := a.e.Status(st.ID)
			t.Fatalf("no event said the share is reachable (status %+v)", s)
		}
	}
	done := b.waitDone(st.ID, 10*time.Second)
	checkFile(t, done.Path, data)
	if done.Waiting != "" {
		t.Errorf("still waiting for %q when done", done.Waiting)
	}
	if err := a.e.Pause(st.ID); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.e.Status(st.ID); s.Reachable {
		t.Fatalf("reachable while paused: %+v", s)
	}
	if err := a.e.Resume(st.ID); err != nil {
		t.Fatal(err)
	}
	a.waitFor(st.ID, 5*time.Second, "reachable again", func(s Status) bool { return s.Reachable })
}

// TestBusThrottle checks which changes the event bus lets through within
// publishInterval: progress alone waits, a new state, peer count or
// reachability does not.
func TestBusThrottle(t *testing.T) {
	base := Status{State: StateSeeding, Peers: 1, Verified: 10}
	for _, tt := range []struct {
		name string
		next Status
		want bool
	}{
		{"progress only", Status{State: StateSeeding, Peers: 1, Verified: 20}, false},
		{"state", Status{State: StatePaused, Peers: 1, Verified: 10}, true},
		{"peers", Status{State: StateSeeding, Peers: 2, Verified: 10}, true},
		{"reachable", Status{State: StateSeeding, Peers: 1, Verified: 10, Reachable: true}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBus()
			defer b.close()
			events, cancel := b.subscribe()
			defer cancel()
			b.publish(base, false)
			if ev := <-events; ev.Status != base {
				t.Fatalf("first event %+v", ev.Status)
			}
			b.publish(tt.next, false)
			wait := publishInterval / 2 // nothing more comes for a throttled change
			if tt.want {
				wait = 5 * time.Second
			}
			select {
			case ev := <-events:
				if !tt.want {
					t.Fatalf("throttled change went through: %+v", ev.Status)
				}
				if ev.Status != tt.next {
					t.Fatalf("event %+v, want %+v", ev.Status, tt.next)
				}
			case <-time.After(wait):
				if tt.want {
					t.Fatal("the change was throttled")
				}
			}
		})
	}
}

// flakyListenTransport fails to publish services its first fails times.
type flakyListenTransport struct {
	*memnet.Node
	fails atomic.Int32
}

func (f *flakyListenTransport) Listen(ctx context.Context, cfg onion.ServiceConfig) (onion.Listener, error) {
	if f.fails.Add(-1) >= 0 {
		return nil, errors.New("listen onion: no directory took the descriptor")
	}
	return f.Node.Listen(ctx, cfg)
}

// TestSharePublishFailure checks that a share whose onion service could
// not be published says why, and publishes it on the next attempt.
func TestSharePublishFailure(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", func(c *Config) {
		f := &flakyListenTransport{Node: c.Transport.(*memnet.Node)}
		f.fails.Store(1)
		c.Transport = f
	})
	path, _ := writeFile(t, t.TempDir(), "p", 64<<10)
	st := a.share(path, 16<<10)
	w := a.waitFor(st.ID, 5*time.Second, "a reason", func(s Status) bool { return s.Waiting != "" })
	if w.Reachable || !strings.Contains(w.Waiting, "not published: listen onion: no directory took the descriptor") {
		t.Fatalf("after a failed publication: reachable %v, waiting %q", w.Reachable, w.Waiting)
	}
	r := a.waitFor(st.ID, listenRetry+5*time.Second, "reachable", func(s Status) bool { return s.Reachable })
	if r.Waiting != "" {
		t.Errorf("reachable, still waiting for %q", r.Waiting)
	}
}

// TestPartialFileGone checks a download whose partial file disappeared
// while the engine was stopped: it fails with a reason that says what to
// do; while its folder is missing (a drive not connected) Resume fails and
// creates nothing; once the folder is back, Resume fetches the download
// again from the start and ends with the exact file.
func TestPartialFileGone(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", func(c *Config) { c.Reshare = false }, memnet.WithBandwidth(512<<10))
	b.dl = filepath.Join(t.TempDir(), "drive")
	if err := os.Mkdir(b.dl, 0o700); err != nil {
		t.Fatal(err)
	}
	path, data := writeFile(t, t.TempDir(), "g.bin", 2<<20)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	b.waitFor(st.ID, 10*time.Second, "20%", func(s Status) bool { return s.Verified > int64(len(data))/5 })
	b.close()
	if err := os.RemoveAll(b.dl); err != nil { // the drive is gone
		t.Fatal(err)
	}
	b.open()
	s, err := b.e.Status(st.ID)
	if err != nil || s.State != StateFailed || s.Name != "g.bin" || !strings.Contains(s.Err, "is missing (on a drive that is not connected?)") {
		t.Fatalf("after restart without the folder: %v, state %v, name %q, err %q", err, s.State, s.Name, s.Err)
	}
	if err := b.e.Resume(st.ID); err == nil {
		t.Fatal("resumed into a missing folder")
	}
	if _, err := os.Stat(b.dl); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Resume created the missing folder: %v", err)
	}

	if err := os.Mkdir(b.dl, 0o700); err != nil { // back, without the partial file
		t.Fatal(err)
	}
	before := upload(a, st)
	if err := b.e.Resume(st.ID); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.e.Status(st.ID); s.Verified != 0 {
		t.Fatalf("starting over with %d bytes verified whose file is gone", s.Verified)
	}
	done := b.waitDone(st.ID, 20*time.Second)
	checkFile(t, done.Path, data)
	if sent := upload(a, st) - before; sent < int64(len(data)) {
		t.Errorf("the download started over but fetched only %d of %d bytes", sent, len(data))
	}
	// And it stays loaded across a restart.
	b.close()
	b.open()
	if s, _ := b.e.Status(st.ID); !s.Done() || s.Err != "" {
		t.Fatalf("after a restart: %+v", s)
	}
}

// TestSharedFileGone checks that a share whose file was moved away while
// the engine was stopped says so, and serves again once it is back.
func TestSharedFileGone(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	path, data := writeFile(t, t.TempDir(), "s.bin", 256<<10)
	st := a.share(path, 16<<10)
	a.close()
	away := path + ".moved"
	if err := os.Rename(path, away); err != nil {
		t.Fatal(err)
	}
	a.open()
	s, _ := a.e.Status(st.ID)
	if s.State != StateFailed || s.Name != "s.bin" || !strings.Contains(s.Err, "was deleted or moved: put it back and resume") {
		t.Fatalf("share without its file: state %v, name %q, err %q", s.State, s.Name, s.Err)
	}
	if err := a.e.Resume(st.ID); err == nil {
		t.Fatal("resumed a share whose file is missing")
	}
	if err := os.Rename(away, path); err != nil {
		t.Fatal(err)
	}
	if err := a.e.Resume(st.ID); err != nil {
		t.Fatal(err)
	}
	b.get(st.Link)
	checkFile(t, b.waitDone(st.ID, 10*time.Second).Path, data)
}

// TestFinishedDownloadLeftoverPart checks the state a crash can leave as a
// download finishes (finishFile): the record says complete, and the
// partial name is still a second link to the file. The next start removes
// that link and keeps the file.
func TestFinishedDownloadLeftoverPart(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	path, data := writeFile(t, t.TempDir(), "f.bin", 256<<10)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	done := b.waitDone(st.ID, 10*time.Second)
	c, err := b.e.get(st.ID)
	if err != nil {
		t.Fatal(err)
	}
	part := c.record().PartPath
	if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial name still there after the download finished: %v", err)
	}
	b.close()
	if err := os.Link(done.Path, part); err != nil { // as if the process died before removing it
		t.Fatal(err)
	}
	b.open()
	s, _ := b.e.Status(st.ID)
	if !s.Done() || s.Err != "" {
		t.Fatalf("after restart: %+v", s)
	}
	if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the leftover partial name was not removed: %v", err)
	}
	checkFile(t, done.Path, data)
}

// TestTransportLost checks that the engine tells its front end when its
// transport goes away on its own, and only then.
func TestTransportLost(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"tor exited", errors.New("tor exited (signal: killed)")},
		{"closed on purpose", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newNode(t, memnet.New(), "a", nil)
			if a.e.TransportErr() != nil {
				t.Fatal("transport lost before it ended")
			}
			a.mem.Lose(tt.err)
			select {
			case <-a.e.TransportLost():
				if tt.err == nil {
					t.Fatal("lost after a close on purpose")
				}
				if a.e.TransportErr() != tt.err {
					t.Fatalf("TransportErr %v, want %v", a.e.TransportErr(), tt.err)
				}
			case <-time.After(time.Second):
				if tt.err != nil {
					t.Fatal("TransportLost not closed after the transport ended")
				}
			}
		})
	}
}

// TestRemovedShareSaysSo checks what a downloader is told by a node (one
// address for all its contents) that stopped sharing the link's content.
func TestRemovedShareSaysSo(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", func(c *Config) { c.SingleIdentity = true })
	b := newNode(t, n, "b", nil)
	path, _ := writeFile(t, t.TempDir(), "gone.bin", 64<<10)
	st := a.share(path, 16<<10)
	if err := a.e.Remove(st.ID, false); err != nil {
		t.Fatal(err)
	}
	b.get(st.Link)
	w := b.waitFor(st.ID, 5*time.Second, "a failed dial", func(s Status) bool { return strings.HasPrefix(s.Waiting, "no peer reachable yet: ") })
	if want := "no peer reachable yet: handshake: the peer does not serve this content (Goodbye 1)"; w.Waiting != want {
		t.Fatalf("waiting %q, want %q", w.Waiting, want)
	}
}

// TestPeersWithNothingNew checks that a download whose peers hold none of
// the chunks it lacks (a partial copy whose seeder left) says so.
func TestPeersWithNothingNew(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil, memnet.WithBandwidth(256<<10))
	b := newNode(t, n, "b", nil)
	c := newNode(t, n, "c", nil)
	path, data := writeFile(t, t.TempDir(), "half.bin", 1<<20)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	b.waitFor(st.ID, 20*time.Second, "30%", func(s Status) bool { return s.Verified > int64(len(data))*3/10 })
	a.close() // the seeder leaves: b holds a part, and serves it
	bs := b.waitFor(st.ID, 10*time.Second, "its own address", func(s Status) bool { return s.Reachable })
	c.get(linkWith(t, st.Link, linkPeers(t, bs.Link)[0]))
	w := c.waitFor(st.ID, 20*time.Second, "a reason", func(s Status) bool {
		return strings.Contains(s.Waiting, "no peer connected has any of the missing chunks")
	})
	if w.Peers == 0 || w.Verified == 0 || w.Verified >= int64(len(data)) {
		t.Fatalf("stuck with %d peers and %d of %d bytes", w.Peers, w.Verified, len(data))
	}
	t.Logf("waiting: %s", w.Waiting)
}
