package bridge

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/int160"
	"github.com/anacrolix/dht/v2/krpc"
	alog "github.com/anacrolix/log"
	"golang.org/x/time/rate"
)

// Look-up parameters, close to what common clients use.
const (
	lookupK       = 8   // closest nodes that must have answered before stopping
	lookupAlpha   = 4   // queries in flight
	lookupBudget  = 256 // most queries one look-up sends
	queryTimeout  = 3 * time.Second
	queryResend   = 1500 * time.Millisecond
	lookupRateMax = 50 // packets per second per look-up
)

// foundPeer is a peer address one node returned for a target.
type foundPeer struct {
	addr netip.AddrPort
	from netip.AddrPort // node that returned it
}

// lookupResult is what one get_peers walk learnt.
type lookupResult struct {
	peers      []foundPeer                         // in arrival order
	responders []netip.AddrPort                    // nodes that answered, by distance
	referrer   map[netip.AddrPort]netip.AddrPort   // node -> the node that told us of it
	valuesFrom map[netip.AddrPort][]netip.AddrPort // node -> peers it returned
	ids        map[netip.AddrPort][20]byte         // node IDs as they answered
	queried    int
}

type candidate struct {
	addr    netip.AddrPort
	id      *[20]byte
	queried bool
	failed  bool
}

// lookup walks the DHT toward target with get_peers queries only, from a
// fresh UDP socket and a fresh random node ID that live for this walk alone.
// Nodes for which skip returns true are neither queried nor followed.
// onPeer, if not nil, is called with each new peer as soon as it arrives.
func (c *Client) lookup(ctx context.Context, target [20]byte, start []netip.AddrPort, skip func(netip.AddrPort) bool, onPeer func(foundPeer)) (*lookupResult, error) {
	pc, err := c.dhtSocket(start)
	if err != nil {
		return nil, err
	}
	conn := &dhtConn{PacketConn: &socketCount{PacketConn: pc, st: &c.dht}, st: &c.dht, bl: c.bl}
	s, err := dht.NewServer(&dht.ServerConfig{
		NodeId:           dht.RandomNodeID(),
		Conn:             conn,
		Passive:          true,
		NoSecurity:       true,
		StartingNodes:    func() ([]dht.Addr, error) { return nil, nil },
		OnQuery:          func(*krpc.Msg, net.Addr) bool { return false },
		QueryResendDelay: func() time.Duration { return queryResend },
		DefaultWant:      []krpc.Want{krpc.WantNodes},
		SendLimiter:      rate.NewLimiter(lookupRateMax, lookupAlpha*2),
		Logger:           alog.NewLogger("bridge-dht").WithFilterLevel(alog.Disabled),
	})
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("start dht look-up: %w", err)
	}
	defer func() {
		s.Close()
		pc.Close()
	}()

	res := &lookupResult{
		referrer:   map[netip.AddrPort]netip.AddrPort{},
		valuesFrom: map[netip.AddrPort][]netip.AddrPort{},
		ids:        map[netip.AddrPort][20]byte{},
	}
	tgt := int160.FromByteArray(target)
	cands := map[netip.AddrPort]*candidate{}
	for _, a := range start {
		if !skip(a) {
			cands[a] = &candidate{addr: a}
		}
	}
	dist := func(cd *candidate) int160.T {
		if cd.id == nil {
			return int160.T{} // starting nodes first
		}
		return int160.Distance(tgt, int160.FromByteArray(*cd.id))
	}
	seenPeer := map[netip.AddrPort]bool{}
	type reply struct {
		cd *candidate
		r  *krpc.Return
	}
	replies := make(chan reply)
	inflight := 0
	var wg sync.WaitGroup
	defer wg.Wait()
	qctx, cancelQueries := context.WithCancel(ctx)
	defer cancelQueries()
	// next returns the closest candidate not yet queried among the K
	// closest that have not failed, or nil.
	next := func() *candidate {
		live := make([]*candidate, 0, len(cands))
		for _, cd := range cands {
			if !cd.failed {
				live = append(live, cd)
			}
		}
		slices.SortFunc(live, func(a, b *candidate) int { return dist(a).Cmp(dist(b)) })
		for _, cd := range live[:min(lookupK, len(live))] {
			if !cd.queried {
				return cd
			}
		}
		return nil
	}
	for {
		for inflight < lookupAlpha && res.queried < lookupBudget {
			cd := next()
			if cd == nil {
				break
			}
			cd.queried = true
			res.queried++
			inflight++
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(qctx, queryTimeout)
				defer cancel()
				addr := dht.NewAddr(net.UDPAddrFromAddrPort(cd.addr))
				qr := s.GetPeers(ctx, addr, tgt, false, dht.QueryRateLimiting{})
				rp := reply{cd: cd}
				if qr.Err == nil && qr.Reply.R != nil {
					rp.r = qr.Reply.R
				}
				select {
				case replies <- rp:
				case <-qctx.Done():
				}
			}()
		}
		if inflight == 0 {
			break
		}
		var rp reply
		select {
		case rp = <-replies:
			inflight--
		case <-ctx.Done():
			return res, ctx.Err()
		}
		if rp.r == nil {
			rp.cd.failed = true
			continue
		}
		from := rp.cd.addr
		id := [20]byte(rp.r.ID)
		rp.cd.id = &id
		res.ids[from] = id
		res.responders = append(res.responders, from)
		for _, v := range rp.r.Values {
			pa, ok := nodeAddrPort(v)
			if !ok {
				continue
			}
			res.valuesFrom[from] = append(res.valuesFrom[from], pa)
			if !seenPeer[pa] {
				seenPeer[pa] = true
				fp := foundPeer{addr: pa, from: from}
				res.peers = append(res.peers, fp)
				if onPeer != nil {
					onPeer(fp)
				}
			}
		}
		for _, ni := range rp.r.Nodes {
			na, ok := nodeAddrPort(ni.Addr)
			if !ok || skip(na) || c.bl.Blocked(na.Addr()) {
				continue
			}
			if _, known := cands[na]; known {
				continue
			}
			nid := [20]byte(ni.ID)
			cands[na] = &candidate{addr: na, id: &nid}
			res.referrer[na] = from
		}
	}
	slices.SortFunc(res.responders, func(a, b netip.AddrPort) int {
		da := int160.Distance(tgt, int160.FromByteArray(res.ids[a]))
		db := int160.Distance(tgt, int160.FromByteArray(res.ids[b]))
		return da.Cmp(db)
	})
	return res, nil
}

func nodeAddrPort(na krpc.NodeAddr) (netip.AddrPort, bool) {
	ip, ok := netip.AddrFromSlice(na.IP)
	if !ok || na.Port <= 0 || na.Port > 65535 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(na.Port)), true
}
