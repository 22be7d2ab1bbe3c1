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
		s.c.mu.Lock()
		s.c.publishErr = fmt.Sprintf("onion service not published: %v; trying again in %v", ev.err, listenRetry)
		s.c.mu.Unlock()
		s.e.publish(s.c)
		return
	}
	s.listener = ev.l
	addr := ev.l.Address()
	s.own[addr] = true
	delete(s.addrs, addr)
	s.c.mu.Lock()
	s.c.listenAddr, s.c.reachable, s.c.publishErr = addr, true, ""
	s.c.mu.Unlock()
	if _, shared := ev.l.(nopListener); !shared {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.e.acceptLoop(ev.l, s.c) }()
	}
	for p := range s.peers { // announce ourselves to the peers we already met
		p.send(wire.PEX{Addrs: []string{addr}})
	}
	s.e.publish(s.c)
}

// ensureListener publishes the content's onion service when it should serve.
func (s *swarm) ensureListener(ctx context.Context, now time.Time) {
	if s.listener != nil || s.desc == nil || now.Before(s.listenAt) || !s.c.serving() || s.e.cfg.SingleIdentity && s.e.single == nil {
		return
	}
	if s.e.cfg.SingleIdentity {
		s.listener = nopListener{s.e.single}
		s.listened(listening{l: s.listener})
		return
	}
	s.listenAt = now.Add(time.Hour) // one attempt at a time
	key, err := s.e.db.identity(s.c.id[:])
	if err != nil {
		s.failure = err
		return
	}
	cfg := onion.ServiceConfig{Key: key}
	if ck := s.c.clientKey(); ck != nil {
		cfg.ClientAuth = []onion.ClientPublicKey{ck.Public()}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		l, err := s.e.cfg.Transport.Listen(ctx, cfg)
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
