package stream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
	"github.com/hydre-p2p/hydre/swarm/stream/streamtest"
)

// runPlayer starts player on u through LaunchPlayer and waits for it to
// exit (a player still running after a minute is stopped).
func runPlayer(t *testing.T, u, player string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := LaunchPlayer(ctx, u, player)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		t.Logf("%s still running after a minute: stopped", player)
	}
	p.Stop()
}

// asked reports whether r was asked for path on its own address, whether
// always as a proxy, and whether it was asked for anything on the address
// of other.
func asked(r *streamtest.Recorder, path string, other *streamtest.Recorder) (own, ownAsProxy, proxied bool) {
	ownAsProxy = true
	for _, q := range r.Requests() {
		if strings.HasPrefix(q, "GET "+r.Host()+" "+path+" ") {
			own = true
			ownAsProxy = ownAsProxy && strings.HasSuffix(q, " as a proxy")
		}
		proxied = proxied || strings.Contains(q, " "+other.Host()+" ")
	}
	return own, own && ownAsProxy, proxied
}

// TestPlayerConfined gives each player hydre starts the hostile files
// straight, from a plain server that does not refuse them (the first layer
// alone): the canary they name receives nothing. The plain server is the
// player's only route (its proxy) and sees the requests a player made for
// the canary, so the test shows they were tried and stopped; the same
// player started without hydre's confinement reaches the canary.
func TestPlayerConfined(t *testing.T) {
	streamtest.Headless(t)
	canary := streamtest.Canary(t)
	hostile := streamtest.Hostile(canary.URL())
	for _, player := range []string{PlayerMPV, PlayerFFplay} {
		streamtest.NeedPlayer(t, player)
		for _, f := range hostile {
			t.Run(player+"/"+f.Format, func(t *testing.T) {
				origin := streamtest.Origin(t, "/tok/movie.mp4", f.Data)
				runPlayer(t, origin.URL()+"/tok/movie.mp4", player)
				own, asProxy, proxied := asked(origin, "/tok/movie.mp4", canary)
				if !own {
					t.Fatalf("%s never fetched the file: %q", player, origin.Requests())
				}
				if !asProxy {
					t.Errorf("%s fetched the file, but not (always) through its proxy: %q", player, origin.Requests())
				}
				// ffplay follows HLS (mpv, with --access-references=no,
				// follows nothing): its requests for the canary must
				// have come to the proxy.
				if player == PlayerFFplay && strings.HasPrefix(f.Format, "hls") && !proxied {
					t.Errorf("%s did not try the canary through its proxy: %q", player, origin.Requests())
				}
				if got := canary.Requests(); len(got) > 0 {
					t.Fatalf("the canary received %q", got)
				}
			})
		}
	}

	// The control: mpv as it was started before (no confinement) reaches
	// a canary, so this test sees a leak when there is one.
	t.Run("control", func(t *testing.T) {
		leak := streamtest.Canary(t)
		origin := streamtest.Origin(t, "/tok/movie.mp4", streamtest.Hostile(leak.URL())[0].Data)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "mpv", "--no-config", "--ytdl=no", "--vo=null", "--ao=null",
			"--", origin.URL()+"/tok/movie.mp4").CombinedOutput()
		if len(leak.Requests()) == 0 {
			t.Fatalf("unconfined mpv did not reach the canary (%v): %s", err, out)
		}
	})
}

// TestServerRefusesPlaylists serves each hostile file, named movie.mp4 and
// declared video/mp4, through the stream server: Check and every request
// refuse it with an error that says why, and mpv started on its address
// leaves the canary alone.
func TestServerRefusesPlaylists(t *testing.T) {
	streamtest.Headless(t)
	streamtest.NeedPlayer(t, PlayerMPV)
	canary := streamtest.Canary(t)
	src := fakeSource{}
	hostile := streamtest.Hostile(canary.URL())
	for i, f := range hostile {
		var id hcrypto.ContentID
		id[0] = byte(i + 1)
		src[id] = struct {
			name, mediaType string
			data            []byte
		}{"movie.mp4", "video/mp4", f.Data}
	}
	s, err := New(src, Options{Logger: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Serve(ctx)
	defer s.Close()
	for i, f := range hostile {
		t.Run(f.Format, func(t *testing.T) {
			var id hcrypto.ContentID
			id[0] = byte(i + 1)
			u, err := s.URL(id)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Check(ctx, u); !errors.Is(err, ErrNotMedia) {
				t.Fatalf("Check: %v, want ErrNotMedia", err)
			}
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(string(body), "outside Tor") {
				t.Fatalf("GET: %d %q, want 415 and why", resp.StatusCode, body)
			}
			runPlayer(t, u, PlayerMPV)
			if got := canary.Requests(); len(got) > 0 {
				t.Fatalf("the canary received %q", got)
			}
		})
	}
}

func TestLaunchPlayerRefuses(t *testing.T) {
	for _, c := range []struct{ url, player string }{
		{"http://127.0.0.1:1/tok/v.mp4", PlayerVLC},
		{"http://127.0.0.1:1/tok/v.mp4", "cvlc"},
		{"http://127.0.0.1:1/tok/v.mp4", "winamp"},
		{"http://192.0.2.1:80/tok/v.mp4", PlayerMPV},
		{"http://localhost.example:80/tok/v.mp4", PlayerMPV},
		{"https://127.0.0.1:1/tok/v.mp4", PlayerMPV},
		{"file:///etc/passwd", PlayerMPV},
	} {
		if p, err := LaunchPlayer(context.Background(), c.url, c.player); err == nil {
			p.Stop()
			t.Errorf("LaunchPlayer(%q, %q) started %s", c.url, c.player, p.Name)
		}
	}
	if err := CheckPlayer(PlayerVLC); !errors.Is(err, ErrNotConfinable) {
		t.Errorf("CheckPlayer(vlc): %v, want ErrNotConfinable", err)
	}
}

// TestConfinedPlayersPlay plays a real video (H.264 and AAC, its index at
// the end, so the player seeks) through the stream server in each player
// as LaunchPlayer starts it: confinement leaves playback whole, and every
// request goes through the proxy route.
func TestConfinedPlayersPlay(t *testing.T) {
	streamtest.Headless(t)
	data, err := os.ReadFile(makeMedia(t, media{Seconds: 2, Mbps: 1}))
	if err != nil {
		t.Fatal(err)
	}
	for _, player := range []string{PlayerMPV, PlayerFFplay} {
		t.Run(player, func(t *testing.T) {
			streamtest.NeedPlayer(t, player)
			origin := streamtest.Origin(t, "/tok/movie.mp4", data)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			p, err := LaunchPlayer(ctx, origin.URL()+"/tok/movie.mp4", player)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Wait(); err != nil {
				t.Fatalf("%v; requests %q", err, origin.Requests())
			}
			reqs := origin.Requests()
			if own, asProxy, _ := asked(origin, "/tok/movie.mp4", origin); !own || !asProxy || len(reqs) < 2 {
				t.Errorf("%s played without seeking, or not through its proxy: %q", player, reqs)
			}
		})
	}
}
