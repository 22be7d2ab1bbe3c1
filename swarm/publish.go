package swarm

import (
	"context"
	"fmt"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// listenRetry is the wait after a failure to publish the onion service.
const listenRetry = 10 * time.Second

// listening tells the swarm goroutine how publishing its onion service went.
type listening struct {
	l   onion.Listener
	err error
}

func (s *swarm) listened(ev listening) {
	if ev.err != nil {
		s.listenAt = time.Now().Add(listenRetry)
		s.log.Warn("publish onion service", "err", ev.err)
		s.fig.publishErr = fmt.Sprintf("onion service not published: %v; trying again in %v", ev.err, listenRetry)
		s.publish()
		return
	}
	s.listener = ev.l
	addr := ev.l.Address()
	s.own[addr] = true
	delete(s.addrs, addr)
	s.fig.listenAddr, s.fig.reachable, s.fig.publishErr = addr, true, ""
	if _, shared := ev.l.(nopListener); !shared {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.cfg.accept(ev.l, s.c) }()
	}
	for p := range s.peers { // announce ourselves to the peers we already met
		p.send(wire.PEX{Addrs: []string{addr}})
	}
	s.publish()
}

// ensureListener publishes the content's onion service when it should serve.
func (s *swarm) ensureListener(ctx context.Context, now time.Time) {
	if s.listener != nil || s.desc == nil || now.Before(s.listenAt) || !s.serving || s.cfg.singleIdentity && s.cfg.single == nil {
		return
	}
	if s.cfg.singleIdentity {
		s.listener = nopListener{s.cfg.single}
		s.listened(listening{l: s.listener})
		return
	}
	if s.cfg.spares != nil {
		if l := s.cfg.spares.take(s.c.id); l != nil { // published ahead of time
			s.listened(listening{l: l})
			return
		}
	}
	s.listenAt = now.Add(time.Hour) // one attempt at a time
	key, err := s.cfg.db.identity(s.c.id[:])
	if err != nil {
		s.failure = err
		return
	}
	cfg := onion.ServiceConfig{Key: key}
	if s.clientKey != nil {
		cfg.ClientAuth = []onion.ClientPublicKey{s.clientKey.Public()}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// Listen gives up after onion.DefaultPublishTimeout and removes
		// the service; it is added again listenRetry later.
		l, err := s.cfg.transport.Listen(ctx, cfg)
		select {
		case s.events <- listening{l: l, err: err}:
		case <-ctx.Done():
			if l != nil {
				l.Close()
			}
		}
	}()
}

// nopListener shares the engine's single listener: closing it is a no-op.
type nopListener struct{ onion.Listener }

func (nopListener) Close() error { return nil }
