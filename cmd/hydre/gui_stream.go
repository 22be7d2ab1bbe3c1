package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
	"github.com/hydre-p2p/hydre/swarm/stream"
)

// guiPlayer backs the app's Play button with the server of 'hydre stream':
// one stream.Server on 127.0.0.1 (random port) for the app's current engine,
// started on the first Play and replaced when the app restarts its engine
// (new connection settings). Its addresses hold a random token and it
// refuses foreign Host headers, like the command line's.
type guiPlayer struct {
	ctx context.Context // bounds every server
	log *slog.Logger

	mu     sync.Mutex
	e      *swarm.Engine
	srv    *stream.Server
	closed bool
	wg     sync.WaitGroup
}

func newGUIPlayer(ctx context.Context, log *slog.Logger) *guiPlayer {
	return &guiPlayer{ctx: ctx, log: log}
}

// URL is the app's gui.StreamFunc: the local address where id of e plays.
// It waits for the content's first bytes and refuses a playlist or another
// reference format (stream.ErrNotMedia), which a player would follow
// outside Tor.
func (p *guiPlayer) URL(ctx context.Context, e *swarm.Engine, id hcrypto.ContentID) (string, error) {
	srv, err := p.server(e)
	if err != nil {
		return "", err
	}
	u, err := srv.URL(id)
	if err != nil {
		return "", err
	}
	if err := srv.Check(ctx, u); err != nil {
		return "", err
	}
	return u, nil
}

// server returns the server for e, starting it (and stopping the one of
// an earlier engine) if need be.
func (p *guiPlayer) server(e *swarm.Engine) (*stream.Server, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("the player server is closed")
	}
	if p.srv != nil && p.e != e {
		p.srv.Close()
		p.srv, p.e = nil, nil
	}
	if p.srv == nil {
		srv, err := stream.New(e, stream.Options{Logger: p.log})
		if err != nil {
			return nil, err
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			if err := srv.Serve(p.ctx); err != nil {
				p.log.Warn("player server stopped", "err", err)
			}
		}()
		p.srv, p.e = srv, e
	}
	return p.srv, nil
}

// Close stops the server and waits for it.
func (p *guiPlayer) Close() error {
	p.mu.Lock()
	p.closed = true
	var err error
	if p.srv != nil {
		err = p.srv.Close()
		p.srv, p.e = nil, nil
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}
