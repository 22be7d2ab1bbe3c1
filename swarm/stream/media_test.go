package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// media describes a test video made with ffmpeg: a 720p test pattern with a
// sine tone, H.264 at a constant bitrate (filler included, so the size is
// bitrate × duration) and AAC, a keyframe every 2 s.
type media struct {
	Seconds   int
	Mbps      int
	FastStart bool // moov before mdat; otherwise at the end
}

func (m media) name() string {
	fs := "moov-end"
	if m.FastStart {
		fs = "faststart"
	}
	return fmt.Sprintf("testsrc2-720p30-%ds-%dMbps-%s.mp4", m.Seconds, m.Mbps, fs)
}

// makeMedia returns the path of m, generating it on first use into
// os.UserCacheDir()/hydre-test (kept across runs, keyed by the parameters).
func makeMedia(t testing.TB, m media) string {
	t.Helper()
	for _, p := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed (apt-get install ffmpeg)", p)
		}
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "hydre-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, m.name())
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp, err := os.CreateTemp(dir, "gen-*.mp4")
	if err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	rate := fmt.Sprintf("%dM", m.Mbps)
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(m.Seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "60",
		"-b:v", rate, "-minrate", rate, "-maxrate", rate, "-bufsize", "2M", "-x264-params", "nal-hrd=cbr",
		"-c:a", "aac", "-b:a", "128k"}
	if m.FastStart {
		args = append(args, "-movflags", "+faststart")
	}
	args = append(args, "-f", "mp4", tmp.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	if out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("generate %s: %v\n%s", m.name(), err, out)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	t.Logf("generated %s (%.1f MiB) in %v", path, float64(st.Size())/(1<<20), time.Since(start).Round(time.Second))
	return path
}

// probe is what ffprobe says of a media.
type probe struct {
	Duration float64
	Codecs   []string
}

// ffprobe reads the duration and codecs of url.
func ffprobe(ctx context.Context, url string) (probe, error) {
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries",
		"format=duration:stream=codec_name", "-of", "json", url).Output()
	if err != nil {
		return probe{}, fmt.Errorf("ffprobe: %w", err)
	}
	var j struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &j); err != nil {
		return probe{}, fmt.Errorf("ffprobe output: %w", err)
	}
	var p probe
	p.Duration, _ = strconv.ParseFloat(j.Format.Duration, 64)
	for _, s := range j.Streams {
		p.Codecs = append(p.Codecs, s.CodecName)
	}
	return p, nil
}

// decodeFrame decodes one video frame of url at second at (0: the first)
// and returns its framemd5 line (stream, timestamps, size and MD5).
func decodeFrame(ctx context.Context, url string, at float64) (string, error) {
	return decode(ctx, url, at, true)
}

// decodeKeyframe decodes the keyframe at or before second at of url, the
// frame a player's fast seek shows (mpv's arrow keys, or --hr-seek=no), and
// returns its framemd5 line. ffmpeg -noaccurate_seek alone is not enough:
// the frames between the keyframe and at get negative output timestamps and
// ffmpeg's frame-rate logic drops them, so it would decode up to at, as an
// exact seek does; -fps_mode passthrough keeps them.
func decodeKeyframe(ctx context.Context, url string, at float64) (string, error) {
	return decode(ctx, url, at, false)
}

func decode(ctx context.Context, url string, at float64, exact bool) (string, error) {
	args := []string{"-hide_banner", "-v", "error", "-xerror"}
	if at > 0 {
		if !exact {
			args = append(args, "-noaccurate_seek")
		}
		args = append(args, "-ss", strconv.FormatFloat(at, 'f', 3, 64))
	}
	args = append(args, "-i", url, "-map", "0:v:0", "-frames:v", "1")
	if !exact {
		args = append(args, "-fps_mode", "passthrough")
	}
	args = append(args, "-f", "framemd5", "-")
	out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ffmpeg decode at %.1fs: %w\n%s", at, err, out)
	}
	// framemd5 prints one line per decoded frame after its comments.
	var frames []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			frames = append(frames, l)
		}
	}
	if len(frames) != 1 {
		return "", fmt.Errorf("ffmpeg decode at %.1fs: %d frames\n%s", at, len(frames), out)
	}
	return frames[0], nil
}

// mpvExitSlack is how close to mpv's exit an error may be and still be put
// down to the exit itself: when --length ends playback while the demuxer
// is in the middle of a packet from a slow stream, mpv cuts the read and its
// decoder complains about that last, truncated packet ("Invalid NAL unit
// size"), even with a server that sends every byte right (seen with a plain
// in-memory source behind a slow link).
const mpvExitSlack = 0.25

// playMPV plays seconds of url in mpv without video or audio output, from
// second start, and fails on any error mpv reports during playback.
func playMPV(ctx context.Context, url string, seconds int, start float64) error {
	args := []string{"--no-config", "--vo=null", "--ao=null", "--msg-time",
		"--msg-level=all=error,cplayer=info", "--length=" + strconv.Itoa(seconds)}
	if start > 0 {
		args = append(args, "--start="+strconv.FormatFloat(start, 'f', 1, 64))
	}
	out, err := exec.CommandContext(ctx, "mpv", append(args, url)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mpv: %w\n%s", err, out)
	}
	// Lines are "[  5.099470] message"; find the exit, then the errors.
	type line struct {
		at  float64
		msg string
	}
	var lines []line
	exit, video := -1.0, false
	for _, l := range strings.Split(string(out), "\n") {
		ts, msg, ok := strings.Cut(strings.TrimPrefix(l, "["), "]")
		at, err := strconv.ParseFloat(strings.TrimSpace(ts), 64)
		if !ok || err != nil {
			continue
		}
		msg = strings.TrimSpace(msg)
		switch {
		case strings.HasPrefix(msg, "Exiting... (End of file)"):
			exit = at
		case strings.HasPrefix(msg, "VO:"):
			video = true
		}
		lines = append(lines, line{at, msg})
	}
	if exit < 0 || !video {
		return fmt.Errorf("mpv did not play to the end (video output %v):\n%s", video, out)
	}
	for _, l := range lines {
		info := l.msg == "" || strings.HasPrefix(l.msg, "(+)") || strings.HasPrefix(l.msg, "AO:") ||
			strings.HasPrefix(l.msg, "VO:") || strings.HasPrefix(l.msg, "Exiting") || strings.HasPrefix(l.msg, "Playing:")
		if !info && l.at < exit-mpvExitSlack {
			return fmt.Errorf("mpv reported errors during playback:\n%s", out)
		}
	}
	return nil
}

// TestDecodeKeyframe checks the benchmark's two kinds of seek on a local
// file: a keyframe seek to 5 s shows the keyframe at 4 s (one every 2 s),
// an exact seek the frame at 5 s.
func TestDecodeKeyframe(t *testing.T) {
	needPrograms(t, "ffmpeg", "ffprobe")
	path := makeMedia(t, media{Seconds: 8, Mbps: 2, FastStart: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	frame := func(f func(context.Context, string, float64) (string, error), at float64) string {
		t.Helper()
		line, err := f(ctx, path, at)
		if err != nil {
			t.Fatal(err)
		}
		fields := strings.Split(line, ",") // framemd5: stream, dts, pts, duration, size, MD5
		return strings.TrimSpace(fields[len(fields)-1])
	}
	key, at4, at5 := frame(decodeKeyframe, 5), frame(decodeFrame, 4), frame(decodeFrame, 5)
	if at4 == at5 {
		t.Fatalf("the frames at 4 s and 5 s are the same (%s): the test pattern does not move", at4)
	}
	if key != at4 {
		t.Errorf("keyframe seek to 5 s shows %s, want the keyframe at 4 s (%s); the frame at 5 s is %s", key, at4, at5)
	}
}
