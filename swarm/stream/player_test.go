package stream

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakePlayers puts scripts named after players on PATH (and only them);
// each writes its name, arguments and proxy environment to the file "ran"
// in dir when run.
func fakePlayers(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		script := "#!/bin/sh\necho \"" + n + " $* | $http_proxy $HTTPS_PROXY $ALL_PROXY [$no_proxy$NO_PROXY]\" > \"" +
			filepath.Join(dir, "ran") + "\"\n"
		if err := os.WriteFile(filepath.Join(dir, n), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Only the fakes: the real players may be installed.
	t.Setenv("PATH", dir)
	return dir
}

func TestLaunchPlayer(t *testing.T) {
	const u = "http://127.0.0.1:1/tok/v.mp4"
	const proxy = "http://127.0.0.1:1"
	// A proxy of the user's, and exceptions, are replaced.
	t.Setenv("http_proxy", "http://192.0.2.1:8080")
	t.Setenv("no_proxy", "*")
	t.Setenv("NO_PROXY", "127.0.0.1")
	env := " | " + proxy + " " + proxy + " " + proxy + " []"
	mpv := "mpv " + strings.Join(mpvArgs(proxy), " ") + " " + u + env
	ffplay := "ffplay " + strings.Join(ffplayArgs(proxy), " ") + " " + u + env
	for _, tc := range []struct {
		name      string
		installed []string
		choice    string
		want      string // program run; "" none
		err       error
	}{
		{"auto prefers mpv", []string{"mpv", "ffplay", "vlc", "xdg-open"}, "auto", mpv, nil},
		{"auto falls back to ffplay", []string{"ffplay", "vlc", "xdg-open"}, "auto", ffplay, nil},
		{"auto never starts vlc or the desktop's", []string{"vlc", "cvlc", "xdg-open", "celluloid", "totem"}, "auto", "", ErrNoPlayer},
		{"ffplay asked", []string{"mpv", "ffplay"}, "ffplay", ffplay, nil},
		{"vlc asked", []string{"mpv", "vlc"}, "vlc", "", ErrNotConfinable},
		{"mpv missing", []string{"ffplay"}, "mpv", "", ErrNoPlayer},
		{"none", []string{"mpv"}, "none", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakePlayers(t, tc.installed...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p, err := LaunchPlayer(ctx, u, tc.choice)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if tc.want == "" {
				if p != nil {
					p.Stop()
					t.Fatalf("started %s", p.Name)
				}
				return
			}
			if err := p.Wait(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, "ran"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(got)) != tc.want {
				t.Errorf("ran %q\nwant %q", strings.TrimSpace(string(got)), tc.want)
			}
		})
	}
	if _, err := LaunchPlayer(context.Background(), u, "winamp"); err == nil {
		t.Error("unknown player accepted")
	}
}
