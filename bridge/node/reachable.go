package node

import (
	"context"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// reachableWait bounds how long a fresh content's links are held back
// while its onion service is published. Tor publishes a new service within
// a few seconds (1.7 to 3.3 s on the private network without latency);
// past this bound something is wrong with the upload (every directory
// refused it, say: the engine adds the service again after 2 min) and the
// links go out anyway, the user's engine dialing until the service answers.
const reachableWait = 30 * time.Second

// awaitReachable waits until every content of cl is reachable (its onion
// descriptor uploaded), at most reachableWait, or until ctx ends. A link
// given out before its descriptor is up fails at the user's first dials,
// each failure putting off the next (1 s, 2 s, 4 s, ...): on the private
// network with 35 ms per link the user then read his first 2 MiB 18 to
// 23 s after asking, where the node's stream mode took 10 s.
func (n *Node) awaitReachable(ctx context.Context, cl cachedLink) {
	ctx, cancel := context.WithTimeout(ctx, reachableWait)
	defer cancel()
	events, unsubscribe := n.cfg.Engine.Subscribe() // before the first look: no change is missed
	defer unsubscribe()
	waiting := map[hcrypto.ContentID]bool{}
	for _, f := range cl.Files {
		id, err := hcrypto.ParseContentID(f.ID)
		if err != nil {
			continue
		}
		if st, err := n.cfg.Engine.Status(id); err == nil && !st.Reachable {
			waiting[id] = true
		}
	}
	start := time.Now()
	for len(waiting) > 0 {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Status.Reachable {
				delete(waiting, ev.Status.ID)
			}
		case <-ctx.Done():
			if len(waiting) > 0 {
				n.log.Warn("bridge links given out before their onion service is published", "waited", time.Since(start).Round(time.Millisecond))
			}
			return
		}
	}
	n.log.Info("bridge content reachable", "waited", time.Since(start).Round(time.Millisecond))
}
