package bridge

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// SpyConfig tunes the spy finder (docs/bridge.md explains the method and its
// false positives).
type SpyConfig struct {
	// Disabled skips the decoy walks: only the real info-hash is looked up.
	Disabled bool
	// Decoys is the number of decoy info-hashes walked before each look-up
	// of the real one; 0 is 2.
	Decoys int
	// DecoyPrefixBits is how many leading bits a decoy shares with the real
	// info-hash, so the walk ends among the same DHT nodes; 0 is 16.
	DecoyPrefixBits int
	// TrustReferrers keeps the nodes that pointed to a spy node off the
	// blocklist (by default they are blocked too; configured bootstrap
	// nodes never are).
	TrustReferrers bool
	// HoldFirst is how many of the first peers a look-up returns are held
	// back and used only if the look-up finds no other peer; 0 is 2,
	// negative is none.
	HoldFirst int
	// SwarmLimit is how many distinct swarms one IP may show up in before
	// it is taken for a monitor; 0 is 8.
	SwarmLimit int
	// Recheck is how often the spy walk and the look-up are repeated while
	// a download lasts; 0 is 10 minutes.
	Recheck time.Duration
}

func (s SpyConfig) withDefaults() SpyConfig {
	if s.Decoys <= 0 {
		s.Decoys = 2
	}
	if s.DecoyPrefixBits <= 0 || s.DecoyPrefixBits > 150 {
		s.DecoyPrefixBits = 16
	}
	if s.HoldFirst == 0 {
		s.HoldFirst = 2
	}
	if s.SwarmLimit <= 0 {
		s.SwarmLimit = 8
	}
	if s.Recheck <= 0 {
		s.Recheck = 10 * time.Minute
	}
	return s
}

// swarmSeen remembers, per peer IP, the swarms it appeared in.
type swarmSeen struct {
	mu    sync.Mutex
	limit int
	seen  map[netip.Addr]map[[20]byte]struct{}
}

const maxSwarmSeen = 1 << 17

func newSwarmSeen() *swarmSeen {
	return &swarmSeen{seen: map[netip.Addr]map[[20]byte]struct{}{}}
}

// note records ip in the swarm ih and returns in how many swarms it is.
func (s *swarmSeen) note(ip netip.Addr, ih [20]byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.seen[ip]
	if m == nil {
		if len(s.seen) >= maxSwarmSeen {
			for k := range s.seen { // drop an arbitrary entry
				delete(s.seen, k)
				break
			}
		}
		m = map[[20]byte]struct{}{}
		s.seen[ip] = m
	}
	m[ih] = struct{}{}
	return len(m)
}

// spyPeer reports whether ip was seen in more swarms than the limit.
func (s *swarmSeen) spyPeer(ip netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limit > 0 && len(s.seen[ip]) > s.limit
}

// decoyNear returns a random info-hash sharing the first bits of ih.
func decoyNear(ih [20]byte, bits int) ([20]byte, error) {
	var d [20]byte
	for {
		if _, err := rand.Read(d[:]); err != nil {
			return d, fmt.Errorf("make decoy: %w", err)
		}
		for i := 0; i < bits; i++ {
			mask := byte(0x80 >> (i % 8))
			d[i/8] = d[i/8]&^mask | ih[i/8]&mask
		}
		if d != ih {
			return d, nil
		}
	}
}

// startNodes resolves the bootstrap nodes and returns them with the set of
// their IPs, which are never blamed.
func (c *Client) startNodes(ctx context.Context) ([]netip.AddrPort, map[netip.Addr]bool) {
	var out []netip.AddrPort
	ips := map[netip.Addr]bool{}
	var r net.Resolver
	for _, hp := range c.cfg.DHTBootstrap {
		if ap, err := netip.ParseAddrPort(hp); err == nil {
			ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			out = append(out, ap)
			ips[ap.Addr()] = true
			continue
		}
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			continue
		}
		addrs, err := r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			c.log.Debug("resolve dht bootstrap node", "node", hp, "err", err)
			continue
		}
		var pn uint16
		if _, err := fmt.Sscan(port, &pn); err != nil {
			continue
		}
		for _, a := range addrs {
			ap := netip.AddrPortFrom(a.Unmap(), pn)
			out = append(out, ap)
			ips[ap.Addr()] = true
		}
	}
	return out, ips
}

// markSpy blocks ip unless it is a bootstrap node's.
func (c *Client) markSpy(ip netip.Addr, reason string, exempt map[netip.Addr]bool) {
	if exempt[ip] {
		return
	}
	added, err := c.bl.Add(ip, reason)
	if err != nil {
		c.log.Warn("save spy to blocklist", "err", err)
	}
	if added {
		c.spiesFound.Add(1)
		c.log.Info("spy found", "addr", ip, "why", reason)
	}
}

// discover runs the spy walk (unless disabled) then the look-up of t's
// info-hash, and offers the peers that pass. It returns how many it offered.
func (c *Client) discover(ctx context.Context, t *Torrent) (int, error) {
	start, exempt := c.startNodes(ctx)
	if len(start) == 0 {
		return 0, fmt.Errorf("no dht bootstrap node resolved")
	}
	skip := func(ap netip.AddrPort) bool { return c.bl.Blocked(ap.Addr()) && !exempt[ap.Addr()] }
	c.swarm.mu.Lock()
	c.swarm.limit = c.cfg.Spy.SwarmLimit
	c.swarm.mu.Unlock()
	if !c.cfg.Spy.Disabled {
		// The decoy walks run side by side, each on its own socket and node
		// ID; the real walk starts only once they are all done.
		results := make([]*lookupResult, c.cfg.Spy.Decoys)
		errs := make([]error, c.cfg.Spy.Decoys)
		var wg sync.WaitGroup
		for i := range c.cfg.Spy.Decoys {
			decoy, err := decoyNear(t.ih, c.cfg.Spy.DecoyPrefixBits)
			if err != nil {
				return 0, err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = c.lookup(ctx, decoy, start, skip, nil)
			}()
		}
		wg.Wait()
		for i, res := range results {
			if errs[i] != nil {
				return 0, fmt.Errorf("decoy look-up: %w", errs[i])
			}
			c.blameDecoy(res, exempt)
		}
	}
	// Peers are offered as they arrive, except the first HoldFirst, which
	// wait for the end of the walk and are used only if nothing else came.
	var held []netip.AddrPort
	offered := 0
	onPeer := func(p foundPeer) {
		if c.bl.Blocked(p.addr.Addr()) || c.bl.Blocked(p.from.Addr()) && !exempt[p.from.Addr()] {
			return
		}
		if !c.dhtPeerAllowed(p.addr.Addr()) {
			c.log.Debug("dropping a local address handed out by the dht", "peer", p.addr, "from", p.from)
			return
		}
		if n := c.swarm.note(p.addr.Addr(), t.ih); n > c.cfg.Spy.SwarmLimit {
			c.markSpy(p.addr.Addr(), fmt.Sprintf("peer in %d swarms", n), exempt)
			return
		}
		if !c.cfg.Spy.Disabled && len(held) < c.cfg.Spy.HoldFirst && !t.knows(p.addr) {
			held = append(held, p.addr)
			return
		}
		t.offer([]netip.AddrPort{p.addr})
		offered++
	}
	began := time.Now()
	res, err := c.lookup(ctx, t.ih, start, skip, onPeer)
	if err != nil {
		return offered, fmt.Errorf("look-up: %w", err)
	}
	c.log.Info("dht look-up done", "took", time.Since(began).Round(time.Millisecond), "queried", res.queried,
		"answered", len(res.responders), "peers", len(res.peers), "offered", offered, "held", len(held))
	if offered == 0 && !t.hasPeers() {
		t.offer(held) // nothing else: better the first peers than none
		offered = len(held)
	}
	return offered, nil
}

// blameDecoy blocks every node that returned peers for a decoy, the peers
// it returned, and (unless TrustReferrers) the chain of nodes that led to it.
func (c *Client) blameDecoy(res *lookupResult, exempt map[netip.Addr]bool) {
	for node, vals := range res.valuesFrom {
		if len(vals) == 0 {
			continue
		}
		c.markSpy(node.Addr(), "dht node with peers for a decoy", exempt)
		for _, v := range vals {
			c.markSpy(v.Addr(), "peer in a decoy swarm", exempt)
		}
		if c.cfg.Spy.TrustReferrers {
			continue
		}
		seen := map[netip.AddrPort]bool{node: true}
		for r, ok := res.referrer[node]; ok && !seen[r]; r, ok = res.referrer[r] {
			seen[r] = true
			c.markSpy(r.Addr(), "dht node that led to a spy", exempt)
		}
	}
}

func (t *Torrent) knows(ap netip.AddrPort) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.peers[ap]
	return ok
}

func (t *Torrent) hasPeers() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.peers) > 0
}
