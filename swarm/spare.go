package swarm

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
)

// Spare identities (docs/protocol.md, W1): onion services published ahead of
// time, each with a fresh key, and handed to new contents one each. Tor
// takes seconds to publish a new service (4 to 6 s on the private network
// with 35 ms per link), and a link given out before its descriptor is up
// fails at the first dials; a content given a spare is reachable the moment
// it exists. A spare is never shared by two contents and its key is stored
// for the content only when it is handed over, so contents stay as
// unlinkable by their addresses as with identities made for them.

// spares is an engine's pool of spare identities.
type spares struct {
	tr  onion.Transport
	db  *db
	log *slog.Logger
	ctx context.Context

	mu         sync.Mutex
	want       int
	publishing int
	ready      []spare                              // published, not handed out
	handed     map[hcrypto.ContentID]onion.Listener // handed to a content whose swarm has not taken it yet
	closed     bool
	wg         sync.WaitGroup
}

// spare is a published spare identity.
type spare struct {
	l   onion.Listener
	key ed25519.PrivateKey
}

func newSpares(ctx context.Context, tr onion.Transport, d *db, log *slog.Logger) *spares {
	return &spares{tr: tr, db: d, log: log, ctx: ctx, handed: map[hcrypto.ContentID]onion.Listener{}}
}

// KeepSpareIdentities makes the engine keep n onion services published
// ahead of time, each with a fresh identity, and give one to each new
// content it serves (a share, a live share, a download it re-shares)
// instead of publishing the content's own service only once the content
// exists: a link given out at once is then reachable at once. Each spare
// costs what a content's onion service costs (introduction circuits,
// descriptor uploads). A private share (client authorization) and an
// engine with Config.SingleIdentity never use spares. A smaller n removes
// the spares ready beyond it; 0 removes them all and makes no more.
func (e *Engine) KeepSpareIdentities(n int) {
	if e.cfg.SingleIdentity {
		return
	}
	e.spares.keep(max(n, 0))
}

func (p *spares) keep(n int) {
	p.mu.Lock()
	p.want = n
	p.fill()
	var extra []spare
	if len(p.ready) > n { // fewer wanted: remove the newest
		extra = slices.Clone(p.ready[n:])
		p.ready = p.ready[:n]
	}
	p.mu.Unlock()
	for _, sp := range extra {
		sp.l.Close()
	}
}

// fill starts publishing spares up to want; under p.mu.
func (p *spares) fill() {
	for !p.closed && len(p.ready)+p.publishing < p.want {
		p.publishing++
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.publish()
		}()
	}
}

// publish publishes one spare, trying again after listenRetry while the
// engine runs.
func (p *spares) publish() {
	for {
		sp, err := p.listen()
		p.mu.Lock()
		if err == nil && !p.closed && len(p.ready) < p.want {
			p.publishing--
			p.ready = append(p.ready, sp)
			p.mu.Unlock()
			return
		}
		if err == nil || p.closed || p.ctx.Err() != nil { // not wanted any more, or the engine is closing
			p.publishing--
			p.mu.Unlock()
			if err == nil {
				sp.l.Close()
			}
			return
		}
		p.mu.Unlock()
		p.log.Warn("publish a spare onion identity", "err", err)
		select {
		case <-p.ctx.Done():
		case <-time.After(listenRetry):
		}
	}
}

func (p *spares) listen() (spare, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return spare{}, fmt.Errorf("spare identity: %w", err)
	}
	l, err := p.tr.Listen(p.ctx, onion.ServiceConfig{Key: key})
	if err != nil {
		return spare{}, fmt.Errorf("spare identity: %w", err)
	}
	return spare{l: l, key: key}, nil
}

// assign hands a ready spare to the new content id, storing its key as
// id's identity, and returns its address; ok is false when none is ready,
// when rec is a private share (its service needs client authorization) or
// does not serve, or when id has an identity already.
func (p *spares) assign(id hcrypto.ContentID, rec *record) (addr string, ok bool) {
	if !rec.Reshare || rec.ClientKey != nil {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.ready) == 0 {
		return "", false
	}
	sp := p.ready[0]
	if err := p.db.putIdentity(id[:], sp.key); err != nil {
		return "", false
	}
	p.ready = p.ready[1:]
	p.handed[id] = sp.l
	p.fill()
	return sp.l.Address(), true
}

// take returns the spare handed to id, nil if none waits: the swarm serves
// it as the content's onion service.
func (p *spares) take(id hcrypto.ContentID) onion.Listener {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.handed[id]
	delete(p.handed, id)
	return l
}

// close removes every spare not taken by a swarm and waits for those being
// published.
func (p *spares) close() {
	p.mu.Lock()
	p.closed = true
	var ls []onion.Listener
	for _, sp := range p.ready {
		ls = append(ls, sp.l)
	}
	for _, l := range p.handed {
		ls = append(ls, l)
	}
	p.ready, p.handed = nil, nil
	p.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	p.wg.Wait()
}

// putIdentity stores key as the onion identity of name unless name has
// one: a spare handed to a new content.
func (d *db) putIdentity(name []byte, key ed25519.PrivateKey) error {
	err := d.b.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdentities)
		if b.Get(name) != nil {
			return fmt.Errorf("%x has an identity already", name)
		}
		return b.Put(name, key.Seed())
	})
	if err != nil {
		return fmt.Errorf("onion identity: %w", err)
	}
	return nil
}
