package stream

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
	"github.com/hydre-p2p/hydre/swarm"
)

// timedSource records when the first byte was read from any content.
type timedSource struct {
	*swarm.Engine
	mu    sync.Mutex
	first time.Time
}

func (s *timedSource) Open(ctx context.Context, id hcrypto.ContentID) (swarm.File, error) {
	f, err := s.Engine.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	return &timedFile{File: f, s: s}, nil
}

type timedFile struct {
	swarm.File
	s *timedSource
}

func (f *timedFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	if n > 0 {
		f.s.mu.Lock()
		if f.s.first.IsZero() {
			f.s.first = time.Now()
		}
		f.s.mu.Unlock()
	}
	return n, err
}

// streamRun is one measurement of streaming a content, from Get.
type streamRun struct {
	firstByte, firstFrame, seek, exactSeek, lateSeek, whole time.Duration
	seekVerified, lateVerified                              float64 // % verified when the seek's (the late seek's) frame was decoded
}

// TestBenchStream measures, on the private Tor network with middle relays
// at 1 MiB/s, the time from Get to the first byte served, to ffmpeg's first
// decoded frame and for a seek to 75% of the video, against the time to
// download the whole file, for a 50 MiB and a 200 MiB video
// (HYDRE_BENCH=1; writes $HYDRE_BENCH_OUT/stream.md). For experiments,
// HYDRE_BENCH_STREAM_MIB picks one video size and
// HYDRE_BENCH_STREAM_CHUNK_KIB the seeder's chunk size (default: the
// format's), HYDRE_BENCH_STREAM_CIRCUITS the streaming downloader's circuits
// per peer (default: the engine's); HYDRE_BENCH_RUNS the number of
// streaming runs (7; the whole download runs in the first three of them).
func TestBenchStream(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("whole-system benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	needPrograms(t, "ffmpeg", "ffprobe")
	runs := 7
	if n, err := strconv.Atoi(os.Getenv("HYDRE_BENCH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	benchStream(t, limitedNet(t), streamBench{section: "Stream", file: "stream.md", sizes: []int{50, 200}, runs: runs})
}

// TestBenchStreamLatency is TestBenchStream's 50 MiB video on the same
// network with testnet.DefaultLatency on every link between tors
// (HYDRE_BENCH_LATENCY overrides it), 5 streaming runs (HYDRE_BENCH_RUNS);
// writes $HYDRE_BENCH_OUT/stream-latency.md.
func TestBenchStreamLatency(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("whole-system benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	needPrograms(t, "ffmpeg", "ffprobe")
	testkit.SkipWithoutTor(t)
	runs := 5
	if n, err := strconv.Atoi(os.Getenv("HYDRE_BENCH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	lat := testnet.DefaultLatency
	if d, err := time.ParseDuration(os.Getenv("HYDRE_BENCH_LATENCY")); err == nil && d > 0 {
		lat = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	nw, err := testnet.Start(ctx, testnet.Options{Dir: t.TempDir(), RelayBandwidth: 1 << 20, LimitMiddlesOnly: true, Latency: lat})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	// One whole download (84 s here): make bench stays near 90 minutes.
	benchStream(t, nw, streamBench{section: fmt.Sprintf("Stream, latency %v", lat), file: "stream-latency.md", sizes: []int{50}, runs: runs, wholes: 1,
		intro: fmt.Sprintf("The first table of the Stream section again, on the same network where every link between two tors "+
			"carries %v each way (testnet Latency; see the Latency section); the zero-latency figures are in the Stream section.\n\n", lat)})
}

// streamBench is one streaming section of BENCHMARKS.md.
type streamBench struct {
	section, file, intro string
	note                 string // after the table, instead of the zero-latency one
	wholes               int    // whole downloads timed per size; 0: wholeRunsFor
	sizes                []int  // MiB; HYDRE_BENCH_STREAM_MIB picks one
	runs                 int
}

// benchStream measures streaming on nw and writes sb's section.
func benchStream(t *testing.T, nw *testnet.Network, sb streamBench) {
	runs := sb.runs
	seeder := openEngine(t, testkit.StartTor(t, nw), "seeder")
	leechTor := testkit.StartTor(t, nw)
	var md strings.Builder
	fmt.Fprintf(&md, "## %s\n\n%s", sb.section, sb.intro)
	fmt.Fprintf(&md, "Private Tor network (3 authorities as fast guards, %d middle relays at 1 MiB/s with equal consensus\n", 4)
	fmt.Fprintf(&md, "weights: the bottleneck is the middle hops, as on the real network), one seeder, one downloader (%s), H.264\n", circuitsText())
	fmt.Fprintf(&md, "720p at 8 Mbit/s with faststart. Times from `Engine.Get` (tor already bootstrapped, for both):\n")
	fmt.Fprintf(&md, "first byte served by the stream server, first frame decoded by `ffmpeg -i URL -frames:v 1`;\n")
	fmt.Fprintf(&md, "then, each timed alone, a seek to 75%% as a player's fast seek shows it (the keyframe at or\n")
	fmt.Fprintf(&md, "before it, one every 2 s here, as mpv's arrow keys and seek-bar drags show it: `ffmpeg\n")
	fmt.Fprintf(&md, "-noaccurate_seek -ss … -fps_mode passthrough`) and an exact seek to 55%% (`ffmpeg -ss`, as mpv's\n")
	fmt.Fprintf(&md, "`--start`: decodes from that keyframe to the exact frame, so it needs up to a GOP more, up to\n")
	fmt.Fprintf(&md, "2 MB); both start right after the first frame, while circuits are still opening. Then, %.0f s\n", lateSeekAfter.Seconds())
	fmt.Fprintf(&md, "later (a viewer who watched a little), a keyframe seek to 90%%. Bytes a player reads before it\n")
	fmt.Fprintf(&md, "shows the frame (a local server at 1 MiB/s, 50 MiB video, seek to 75%%): ffmpeg 0.21 MB for the\n")
	fmt.Fprintf(&md, "first frame, 0.15 + 0.16 MB for the keyframe seek (the header again, then the keyframe), 0.15 +\n")
	fmt.Fprintf(&md, "1.13 MB for an exact seek; mpv 0.34, 0.08 + 0.30 and 0.08 + 1.29 MB. \"Whole\" is a\n")
	fmt.Fprintf(&md, "fresh downloader fetching the whole file in the same run (what an OnionShare user waits for).\n")
	sizes := sb.sizes
	if n, err := strconv.Atoi(os.Getenv("HYDRE_BENCH_STREAM_MIB")); err == nil && n > 0 {
		sizes = []int{n}
	}
	var whole []string
	for _, mib := range sizes {
		whole = append(whole, fmt.Sprintf("%d for %d MiB", min(runs, sb.wholesFor(mib)), mib))
	}
	fmt.Fprintf(&md, "Medians of %d streaming runs (the whole download: %s, interleaved with the first ones);\n", runs, strings.Join(whole, ", "))
	fmt.Fprintf(&md, "the times vary more from run to run than between the two sizes, so each run's ratio is given too.\n\n")
	fmt.Fprintf(&md, "| video | first byte | first frame | seek to 75%% | exact seek to 55%% | seek to 90%% after %.0f s | whole download | first frame / whole | seek / first frame | exact seek / first frame | later seek / first frame | seek / first frame, each run |\n", lateSeekAfter.Seconds())
	fmt.Fprintf(&md, "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	chunk, _ := strconv.Atoi(os.Getenv("HYDRE_BENCH_STREAM_CHUNK_KIB")) // 0: the default
	for _, mib := range sizes {
		m := media{Seconds: mib * 1048576 / 1000000, Mbps: 8, FastStart: true}
		path := makeMedia(t, m)
		st, err := seeder.Share(context.Background(), path, swarm.ShareOptions{ChunkSize: chunk << 10})
		if err != nil {
			t.Fatal(err)
		}
		var rs []streamRun
		for r := range runs {
			sr := benchStreamOnce(t, leechTor, st.Link, float64(m.Seconds))
			if r < sb.wholesFor(mib) {
				sr.whole = benchWholeOnce(t, leechTor, st.Link)
			}
			t.Logf("%d MiB run %d: first byte %v, first frame %v, seek %v (%.1f%% verified), exact seek %v, seek after %v %v (%.1f%% verified), whole %v",
				mib, r+1, sr.firstByte, sr.firstFrame, sr.seek, sr.seekVerified, sr.exactSeek, lateSeekAfter, sr.lateSeek, sr.lateVerified, sr.whole)
			rs = append(rs, sr)
		}
		med := func(f func(streamRun) time.Duration) time.Duration {
			var xs []time.Duration
			for _, r := range rs {
				if x := f(r); x > 0 {
					xs = append(xs, x)
				}
			}
			slices.Sort(xs)
			if len(xs)%2 == 1 {
				return xs[len(xs)/2]
			}
			return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
		}
		fb := med(func(r streamRun) time.Duration { return r.firstByte })
		ff := med(func(r streamRun) time.Duration { return r.firstFrame })
		sk := med(func(r streamRun) time.Duration { return r.seek })
		ex := med(func(r streamRun) time.Duration { return r.exactSeek })
		ls := med(func(r streamRun) time.Duration { return r.lateSeek })
		wh := med(func(r streamRun) time.Duration { return r.whole })
		var each []string
		for _, r := range rs {
			each = append(each, fmt.Sprintf("%.2f", r.seek.Seconds()/r.firstFrame.Seconds()))
		}
		fi, _ := os.Stat(path)
		fmt.Fprintf(&md, "| %.0f MiB, %d s | %.2f s | %.2f s | %.2f s | %.2f s | %.2f s | %.1f s | %.1f%% | %.2f× | %.2f× | %.2f× | %s |\n",
			float64(fi.Size())/(1<<20), m.Seconds, fb.Seconds(), ff.Seconds(), sk.Seconds(), ex.Seconds(), ls.Seconds(), wh.Seconds(),
			100*ff.Seconds()/wh.Seconds(), sk.Seconds()/ff.Seconds(), ex.Seconds()/ff.Seconds(), ls.Seconds()/ff.Seconds(), strings.Join(each, ", "))
		if err := seeder.Remove(st.ID, false); err != nil {
			t.Error(err)
		}
	}
	fmt.Fprintf(&md, "\nTargets: first frame < 10%% of the whole download; seek and exact seek each <= 2× the first frame.\n")
	if sb.intro != "" {
		md.WriteString(sb.note)
	} else {
		streamNote(&md)
	}
	t.Log("\n" + md.String())
	if dir := os.Getenv("HYDRE_BENCH_OUT"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sb.file), []byte(md.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// streamNote explains the zero-latency figures.
func streamNote(md *strings.Builder) {
	fmt.Fprintf(md, "The seek starts right after the first frame, while the download ramps up. What a seeder has\n")
	fmt.Fprintf(md, "written is inside tor, where no Cancel reaches it, so while a content plays the engine keeps each\n")
	fmt.Fprintf(md, "circuit's requests to about a second of its rate (two for a new circuit); when a reader opens or\n")
	fmt.Fprintf(md, "seeks it asks every circuit for the chunk at the new place and each circuit, fastest first, for one\n")
	fmt.Fprintf(md, "of the chunks after it, and for five seconds asks a second circuit for any of the first four that\n")
	fmt.Fprintf(md, "another still owes; the first copy wins (docs/protocol.md, W8). Asking every circuit for the\n")
	fmt.Fprintf(md, "first two chunks instead (200 MiB, 10 and 9 interleaved runs, medians): seek 1.92 s against 0.82 s, exact seek\n")
	fmt.Fprintf(md, "6.40 s against 4.84 s.\n")
}

// streamCircuits is HYDRE_BENCH_STREAM_CIRCUITS: the streaming
// downloader's circuits per peer, 0 for the engine's default.
func streamCircuits() int {
	n, _ := strconv.Atoi(os.Getenv("HYDRE_BENCH_STREAM_CIRCUITS"))
	return max(n, 0)
}

// circuitsText says how many circuits the streaming downloader opens.
func circuitsText() string {
	if n := streamCircuits(); n > 0 {
		return fmt.Sprintf("%d circuits, set by HYDRE_BENCH_STREAM_CIRCUITS", n)
	}
	return fmt.Sprintf("%d circuits", swarm.DefaultCircuitsPerPeer)
}

// benchStreamOnce streams link with a fresh engine on tor.
func benchStreamOnce(t *testing.T, tor onion.Transport, link string, seconds float64) streamRun {
	t.Helper()
	e, closeEngine := newEngineWith(t, tor, "stream", streamCircuits())
	defer closeEngine()
	src := &timedSource{Engine: e}
	s, err := New(src, Options{Logger: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	defer func() { cancel(); <-served }()
	start := time.Now()
	st, err := e.Get(ctx, link, "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.URL(st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeFrame(ctx, u, 0); err != nil {
		t.Fatal(err)
	}
	var r streamRun
	r.firstFrame = time.Since(start)
	src.mu.Lock()
	r.firstByte = src.first.Sub(start)
	src.mu.Unlock()
	t0 := time.Now()
	if _, err := decodeKeyframe(ctx, u, 0.75*seconds); err != nil {
		t.Fatal(err)
	}
	r.seek = time.Since(t0)
	v, size := verified(t, e, st.ID)
	r.seekVerified = pct(v, size)
	t0 = time.Now()
	if _, err := decodeFrame(ctx, u, 0.55*seconds); err != nil {
		t.Fatal(err)
	}
	r.exactSeek = time.Since(t0)
	time.Sleep(lateSeekAfter)
	t0 = time.Now()
	if _, err := decodeKeyframe(ctx, u, 0.9*seconds); err != nil {
		t.Fatal(err)
	}
	r.lateSeek = time.Since(t0)
	v, size = verified(t, e, st.ID)
	r.lateVerified = pct(v, size)
	if err := e.Remove(st.ID, true); err != nil {
		t.Error(err)
	}
	return r
}

// wholeRuns is how many of the runs also time a whole download (five
// minutes each for the large video; its time varies far less than a
// seek's).
const wholeRuns = 3

// wholesFor is how many whole downloads sb times for a video of mib MiB.
func (sb streamBench) wholesFor(mib int) int { return cmp.Or(sb.wholes, wholeRunsFor(mib)) }

// wholeRunsFor is wholeRuns for a video of mib MiB: one whole download
// of the large video (five minutes each; three of them took a fifth of
// make bench, which the latency sections needed to stay near 90 minutes).
func wholeRunsFor(mib int) int {
	if mib > 100 {
		return 1
	}
	return wholeRuns
}

// lateSeekAfter is how long after the exact seek the last seek comes.
const lateSeekAfter = 10 * time.Second

// benchWholeOnce downloads link with a fresh engine on tor.
func benchWholeOnce(t *testing.T, tor onion.Transport, link string) time.Duration {
	t.Helper()
	e, closeEngine := newEngine(t, tor, "whole")
	defer closeEngine()
	start := time.Now()
	st, err := e.Get(context.Background(), link, "")
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, e, st.ID, 30*time.Minute)
	el := time.Since(start)
	if err := e.Remove(st.ID, true); err != nil {
		t.Error(err)
	}
	return el
}
