package gui

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
)

// players are the media players tried, in order, for Play; the desktop's
// default handler for the URL is the last resort.
var players = []struct {
	name string
	args []string
}{
	{"mpv", []string{"--force-window=immediate", "--cache=yes"}},
	{"vlc", []string{"--play-and-exit"}},
	{"celluloid", nil},
	{"totem", nil},
}

// launchPlayer starts a player on the stream URL and returns a function that
// waits for it to exit. With no known player installed, it asks the desktop
// to open the URL (fallback) and returns a nil wait.
func launchPlayer(ctx context.Context, rawURL string, fallback func(*url.URL) error) (wait func() error, err error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("play: the stream address is not a web address")
	}
	for _, p := range players {
		path, err := exec.LookPath(p.name)
		if err != nil {
			continue
		}
		cmd := exec.CommandContext(ctx, path, append(append([]string(nil), p.args...), rawURL)...)
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", p.name, err)
		}
		return cmd.Wait, nil
	}
	if err := fallback(u); err != nil {
		return nil, fmt.Errorf("open the stream: no media player found (install mpv or vlc): %w", err)
	}
	return nil, nil
}
