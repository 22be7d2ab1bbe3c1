package stream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
)

// Players LaunchPlayer knows, by the name a user picks.
const (
	PlayerAuto   = "auto" // mpv, else ffplay
	PlayerMPV    = "mpv"
	PlayerFFplay = "ffplay"
	PlayerNone   = "none" // print the address only
	// PlayerVLC is refused: see ErrNotConfinable.
	PlayerVLC = "vlc"
)

// PlayerChoices lists the players a user may pick, for usage texts.
const PlayerChoices = "auto, mpv, ffplay or none"

// ErrNoPlayer is returned by LaunchPlayer when the chosen player (or, for
// "auto", every candidate) is not installed.
var ErrNoPlayer = errors.New("no media player found (install mpv or ffplay)")

// ErrNotConfinable is returned by LaunchPlayer for a player hydre knows but
// cannot keep from reaching addresses other than the local stream server:
// VLC asks a helper (libproxy) which proxy to use, and a desktop set to
// "no proxy" sends its requests past the one hydre gives; it also opens
// many protocols (rtsp, mms, ftp, smb, sftp, udp) that no option of it
// turns off.
var ErrNotConfinable = errors.New("VLC cannot be kept from connecting outside Tor: use mpv or ffplay, " +
	"or --player none and open the address in a player you trust")

// Player is a running media player.
type Player struct {
	// Name is the program started ("mpv", "ffplay").
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// confined is how to start one player so that it reaches nothing but the
// stream server at proxy ("http://127.0.0.1:PORT").
type confined struct {
	name string
	args func(proxy string) []string // the arguments before the address
}

// mpvArgs keeps mpv to the stream server: no configuration, scripts or
// youtube-dl of the user's (which could fetch), no references a media file
// or playlist makes to other files (--access-references, which also stops
// HLS and DASH segments), no network protocol but HTTP (through the proxy,
// the stream server, which serves its own addresses only) for the address
// and for everything the demuxers open, and no subtitles, audio or cover
// art looked up beside the file.
func mpvArgs(proxy string) []string {
	return []string{
		"--no-config", "--load-scripts=no", "--ytdl=no",
		"--load-unsafe-playlists=no", "--access-references=no",
		"--http-proxy=" + proxy,
		"--stream-lavf-o-append=protocol_whitelist=http,tcp",
		"--demuxer-lavf-o-append=protocol_whitelist=http,tcp",
		"--sub-auto=no", "--audio-file-auto=no", "--cover-art-auto=no",
		"--force-window=immediate", "--really-quiet", "--",
	}
}

// ffplayArgs keeps ffplay to the stream server: no protocol but HTTP,
// through the proxy (the environment's, see playerEnv), for the address and
// for everything its demuxers open (HLS segments, say); RTP and UDP of a
// session description are refused by the same list.
func ffplayArgs(string) []string {
	return []string{"-hide_banner", "-loglevel", "error", "-autoexit", "-protocol_whitelist", "http,tcp"}
}

// candidates are the players tried for a choice, in order.
func candidates(choice string) ([]confined, error) {
	mpv := confined{"mpv", mpvArgs}
	ffplay := confined{"ffplay", ffplayArgs}
	switch strings.ToLower(choice) {
	case PlayerAuto, "":
		return []confined{mpv, ffplay}, nil
	case PlayerMPV:
		return []confined{mpv}, nil
	case PlayerFFplay:
		return []confined{ffplay}, nil
	case PlayerVLC, "cvlc":
		return nil, ErrNotConfinable
	case PlayerNone:
		return nil, nil
	}
	return nil, fmt.Errorf("unknown player %q (want %s)", choice, PlayerChoices)
}

// CheckPlayer returns an error for a player choice LaunchPlayer refuses.
func CheckPlayer(choice string) error {
	_, err := candidates(choice)
	return err
}

// LaunchPlayer starts a media player on rawURL, an address of a stream
// server on this machine: "mpv", "ffplay", "auto" (the first of them found
// on PATH) or "none" (returns nil, nil). The player is confined to the
// stream server: its only route is an HTTP proxy at the server's address
// (which answers for its own addresses only), it may use no protocol but
// HTTP, and it follows no playlist, reference or script to another
// address; a player that cannot be confined so is not started (VLC:
// ErrNotConfinable). The player runs until it exits or ctx ends (it is
// then killed); call Wait to reap it.
func LaunchPlayer(ctx context.Context, rawURL, choice string) (*Player, error) {
	cands, err := candidates(choice)
	if err != nil || cands == nil {
		return nil, err
	}
	proxy, err := proxyFor(rawURL)
	if err != nil {
		return nil, err
	}
	for _, c := range cands {
		prog, err := exec.LookPath(c.name)
		if err != nil {
			continue
		}
		cmd := exec.CommandContext(ctx, prog, append(c.args(proxy), rawURL)...)
		cmd.Env = playerEnv(os.Environ(), proxy)
		// The player gets no terminal: its output would mix with ours.
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", c.name, err)
		}
		p := &Player{Name: c.name, cmd: cmd, done: make(chan struct{})}
		go func() {
			p.err = cmd.Wait()
			close(p.done)
		}()
		return p, nil
	}
	return nil, fmt.Errorf("player %s: %w", choice, ErrNoPlayer)
}

// proxyFor returns the proxy a player of rawURL is given: the stream
// server itself, which must be an http address on a loopback IP.
func proxyFor(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.User != nil {
		return "", errors.New("play: not an address of a local stream server")
	}
	host, port, err := net.SplitHostPort(u.Host)
	if ip := net.ParseIP(host); err != nil || port == "" || ip == nil || !ip.IsLoopback() {
		return "", errors.New("play: not an address of a local stream server")
	}
	return "http://" + u.Host, nil
}

// proxyVars are the environment variables programs read a proxy from.
var proxyVars = []string{"http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "rsync_proxy"}

// playerEnv returns env with every proxy variable set to proxy and every
// exception list removed, so that whatever a player's libraries read, their
// only route is the stream server.
func playerEnv(env []string, proxy string) []string {
	drop := map[string]bool{"no_proxy": true}
	for _, v := range proxyVars {
		drop[v] = true
	}
	out := make([]string, 0, len(env)+2*len(proxyVars))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[strings.ToLower(k)] {
			out = append(out, kv)
		}
	}
	for _, v := range proxyVars {
		out = append(out, v+"="+proxy, strings.ToUpper(v)+"="+proxy)
	}
	return out
}

// Done is closed when the player has exited.
func (p *Player) Done() <-chan struct{} { return p.done }

// Wait waits for the player to exit and returns its exit error, if any.
func (p *Player) Wait() error {
	<-p.done
	if p.err != nil {
		return fmt.Errorf("%s: %w", p.Name, p.err)
	}
	return nil
}

// Stop ends the player and waits for it.
func (p *Player) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}
