package stream

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Players LaunchPlayer knows, by the name a user picks.
const (
	PlayerAuto = "auto" // mpv, else VLC, else the desktop's default (xdg-open)
	PlayerMPV  = "mpv"
	PlayerVLC  = "vlc"
	PlayerNone = "none" // print the address only
)

// ErrNoPlayer is returned by LaunchPlayer when the chosen player (or, for
// "auto", every candidate) is not installed.
var ErrNoPlayer = errors.New("no media player found")

// Player is a running media player.
type Player struct {
	// Name is the program started ("mpv", "vlc", "xdg-open").
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// candidates are the programs tried for a choice, in order, with the
// arguments that come before the address.
func candidates(choice string) ([][]string, error) {
	mpv := []string{"mpv", "--force-window=immediate", "--really-quiet", "--"}
	vlc := []string{"vlc", "--play-and-exit"}
	switch strings.ToLower(choice) {
	case PlayerAuto, "":
		return [][]string{mpv, vlc, {"cvlc", "--play-and-exit"}, {"xdg-open"}}, nil
	case PlayerMPV:
		return [][]string{mpv}, nil
	case PlayerVLC:
		return [][]string{vlc}, nil
	case PlayerNone:
		return nil, nil
	}
	return nil, fmt.Errorf("unknown player %q (want auto, mpv, vlc or none)", choice)
}

// LaunchPlayer starts a media player on url: "mpv", "vlc", "auto" (mpv, VLC,
// then xdg-open, the first found on PATH) or "none" (returns nil, nil). The
// player runs until it exits or ctx ends (it is then killed); call Wait to
// reap it.
func LaunchPlayer(ctx context.Context, url, choice string) (*Player, error) {
	cands, err := candidates(choice)
	if err != nil || cands == nil {
		return nil, err
	}
	for _, c := range cands {
		prog, err := exec.LookPath(c[0])
		if err != nil {
			continue
		}
		args := append(c[1:len(c):len(c)], url)
		cmd := exec.CommandContext(ctx, prog, args...)
		// The player gets no terminal: its output would mix with ours.
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", c[0], err)
		}
		p := &Player{Name: c[0], cmd: cmd, done: make(chan struct{})}
		go func() {
			p.err = cmd.Wait()
			close(p.done)
		}()
		return p, nil
	}
	return nil, fmt.Errorf("player %s: %w", choice, ErrNoPlayer)
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
