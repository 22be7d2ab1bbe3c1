package gui

import (
	"context"
	"errors"
	"fmt"

	"github.com/hydre-p2p/hydre/swarm/stream"
)

// launchPlayer starts a media player on the stream URL, through the one
// launcher of the command line (stream.LaunchPlayer: mpv, else ffplay,
// each kept to the local stream server), and returns a function that waits
// for it to exit. The desktop's default handler is never used: hydre
// could not keep it from following a playlist outside Tor.
func launchPlayer(ctx context.Context, rawURL string) (wait func() error, err error) {
	p, err := stream.LaunchPlayer(ctx, rawURL, stream.PlayerAuto)
	switch {
	case errors.Is(err, stream.ErrNoPlayer):
		return nil, errors.New("play: no media player found: install mpv or ffplay (VLC is not used: it cannot be kept from connecting outside Tor)")
	case err != nil:
		return nil, fmt.Errorf("play: %w", err)
	}
	return p.Wait, nil
}
