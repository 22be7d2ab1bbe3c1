package swarm

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
)

// Rendezvous discovery, the engine's part (docs/protocol.md, R6): a content
// with a swarm secret registers this node's record with every slot of the
// moment while it serves, hosts a slot it finds vacant, and asks every slot
// for holders while it fetches. The swarm goroutine owns all of it; the
// exchanges and the publishing of a slot run in its goroutines and come
// back as events. The slot hosts' tables are theirs (rendezvous_host.go).

// RendezvousConfig tunes rendezvous discovery. The zero value is the
// protocol's (docs/protocol.md, R2, R6); shorter periods and intervals are
// for tests and private networks. Every node of a swarm must use the same
// Schedule, or they never meet: the schedule is part of each slot's key.
type RendezvousConfig struct {
	// Schedule cuts time into periods; the zero value is Tor's (24 h from
	// 12:00 UTC).
	Schedule hcrypto.Schedule
	// Margin is how long before a period its slots are served and asked,
	// and how long after; 0 means crypto.DefaultSlotMargin, or a quarter
	// of a period shorter than 4 hours.
	Margin time.Duration
	// Register is how often a holder registers with each slot; 0 means an
	// hour. Jitter is the most each registration moves from it, drawn per
	// content and slot; 0 means a sixth of Register.
	Register, Jitter time.Duration
	// HostDelay bounds the random wait before a holder hosts a slot it
	// found vacant; 0 means 10 minutes.
	HostDelay time.Duration
	// Ask is how often a download with no peer asks the slots again, at
	// most: the first asks come sooner (firstAskRetry, doubling); 0 means
	// 5 minutes.
	Ask time.Duration
}

func (c *RendezvousConfig) setDefaults() error {
	if err := c.Schedule.Validate(); err != nil {
		return fmt.Errorf("rendezvous: %w", err)
	}
	length := c.Schedule.Length
	if length == 0 {
		length = hcrypto.TorPeriodLength
	}
	if c.Margin == 0 {
		c.Margin = min(hcrypto.DefaultSlotMargin, length/4)
	}
	if c.Margin < 0 || 2*c.Margin >= length {
		return fmt.Errorf("rendezvous: margin %v is not in [0, half a period)", c.Margin)
	}
	if c.Register <= 0 {
		c.Register = time.Hour
	}
	if c.Jitter <= 0 {
		c.Jitter = c.Register / 6
	}
	if c.HostDelay <= 0 {
		c.HostDelay = 10 * time.Minute
	}
	if c.Ask <= 0 {
		c.Ask = 5 * time.Minute
	}
	return nil
}

// PeerSources counts a content's open connections by how this node learned
// the address it dialed: from the link (Hint), from a rendezvous slot
// (Rendezvous), from a peer (PEX). Accepted counts the peers that dialed
// in.
type PeerSources struct {
	Hint, Rendezvous, PEX, Accepted int
}

// Discovery says what a content's rendezvous discovery is doing: all zero
// for a content without a swarm secret or not running.
type Discovery struct {
	Slots int // the slots of the moment: 3, or 6 near a period's boundary
	// Asked and Answered are the slots of the last ask round and those
	// that answered; Holders the verified holders they named; LastAsk when
	// it began. A download asks while it has no peer.
	Asked, Answered, Holders int
	LastAsk                  time.Time
	// Registered is the slots whose last answer listed this node (a
	// holder); Hosting the slots it publishes, and Records the holders
	// those keep.
	Registered, Hosting, Records int
}

// slotID names a slot in the maps of a swarm.
type slotID struct {
	period uint64
	index  int
}

func idOf(sl hcrypto.Slot) slotID { return slotID{sl.Period, sl.Index} }

// regState is what a holder knows of one slot.
type regState struct {
	next   time.Time // the next registration
	busy   bool      // an exchange is under way
	listed bool      // the last answer listed our record
	hostAt time.Time // when to look again and host it; zero: not planned
	// noHost says publishing it failed: another vacant slot of the period
	// is hosted instead (on the in-memory network, and on a tor that
	// refused the key, trying the same one again would fail again).
	noHost bool
	// tried says a registration with it has come back (answered or not).
	tried bool
}

// rendezvous is a swarm's discovery state; nil for a content without a
// swarm secret.
type rendezvous struct {
	cfg        RendezvousConfig
	secret     hcrypto.SwarmSecret
	slots      []hcrypto.Slot
	slotsUntil time.Time
	reg        map[slotID]*regState
	hosts      map[uint64]*slotHost // by period: one hosted slot per period at most
	pending    map[uint64]bool      // a slot of that period is being published
	holder     *holderKey           // nil until the content's onion service is up
	askAt      time.Time
	rounds     int // ask rounds begun
	asking     int
	round      Discovery // the last ask round's figures
}

func newRendezvous(c *content, cfg RendezvousConfig) *rendezvous {
	if c.secret == nil {
		return nil
	}
	return &rendezvous{cfg: cfg, secret: *c.secret, reg: map[slotID]*regState{},
		hosts: map[uint64]*slotHost{}, pending: map[uint64]bool{}}
}

// current returns the slots of the moment, derived again only when the set
// changes (a margin reaching a period's bound).
func (r *rendezvous) current(now time.Time) []hcrypto.Slot {
	if r.slots != nil && now.Before(r.slotsUntil) {
		return r.slots
	}
	slots, err := hcrypto.SlotsAt(r.secret, r.cfg.Schedule, now, r.cfg.Margin)
	if err != nil { // cannot happen: the schedule and margin were checked at Open
		return nil
	}
	sch := r.cfg.Schedule
	_, endLate := sch.Bounds(sch.Period(now.Add(r.cfg.Margin)))
	_, endEarly := sch.Bounds(sch.Period(now.Add(-r.cfg.Margin)))
	r.slots = slots
	r.slotsUntil = minTime(endLate.Add(-r.cfg.Margin), endEarly.Add(r.cfg.Margin))
	return slots
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// jittered returns d moved by up to j either way.
func jittered(d, j time.Duration) time.Duration {
	return d - j + time.Duration(rand.Int64N(int64(2*j)+1))
}

// wantsSources says whether the swarm still looks for holders.
func (s *swarm) wantsSources() bool {
	return !s.finished && !s.origin && (s.pk == nil || s.pk.left > 0)
}

// rendezvousTick registers, hosts and asks what is due at now.
func (s *swarm) rendezvousTick(ctx context.Context, now time.Time) {
	r := s.rdv
	if r == nil {
		return
	}
	slots := r.current(now)
	s.forgetOldSlots(slots)
	if r.holder == nil && s.listener != nil {
		h, err := s.holderKey()
		if err != nil {
			s.log.Warn("rendezvous: no holder key", "err", err)
			s.rdv = nil
			return
		}
		r.holder = h
	}
	if r.holder != nil {
		for _, sl := range slots {
			st := r.reg[idOf(sl)]
			if st == nil {
				st = &regState{next: now}
				r.reg[idOf(sl)] = st
			}
			switch {
			case st.busy:
			case !st.hostAt.IsZero() && !now.Before(st.hostAt):
				st.hostAt = time.Time{}
				s.register(ctx, sl, st, now, true)
			case !now.Before(st.next):
				s.register(ctx, sl, st, now, false)
			}
		}
	}
	if s.wantsSources() && r.asking == 0 && !now.Before(r.askAt) && (r.askAt.IsZero() || len(s.peers) == 0) {
		r.askAt = now.Add(r.askDelay())
		r.rounds++
		r.asking = len(slots)
		r.round = Discovery{Asked: len(slots), LastAsk: now}
		for _, sl := range slots {
			s.exchange(ctx, sl, purposeAsk, hcrypto.EncodeAsk(), rdvAnswer{})
		}
		if len(s.peers) == 0 && s.fig.waiting == "" {
			s.fig.waiting = fmt.Sprintf("asking %d rendezvous slots for holders", len(slots))
		}
	}
	s.fig.discovery = r.figures(len(slots))
}

// forgetOldSlots drops what it knows of slots no longer of the moment and
// stops hosting them (their period and margin are over).
func (s *swarm) forgetOldSlots(slots []hcrypto.Slot) {
	r := s.rdv
	cur := map[slotID]bool{}
	for _, sl := range slots {
		cur[idOf(sl)] = true
	}
	for id := range r.reg {
		if !cur[id] {
			delete(r.reg, id)
		}
	}
	for p, h := range r.hosts {
		if !cur[idOf(h.slot)] {
			s.log.Info("rendezvous: slot over, no longer hosted", "slot", h.slot)
			h.l.Close()
			delete(r.hosts, p)
		}
	}
}

// holderKey returns the key that signs this node's records: the content's
// onion identity (or the node's single one) and the port it serves on.
func (s *swarm) holderKey() (*holderKey, error) {
	name := s.c.id[:]
	if s.cfg.singleIdentity {
		name = nodeIdentity
	}
	key, err := s.cfg.db.identity(name)
	if err != nil {
		return nil, err
	}
	_, port, err := onion.ParseAddress(s.listener.Address())
	if err != nil {
		return nil, fmt.Errorf("holder address: %w", err)
	}
	return &holderKey{key: key, port: port, id: s.c.id, secret: s.rdv.secret}, nil
}

// register sends a fresh record to slot sl; look says it is the second look
// before hosting the slot.
func (s *swarm) register(ctx context.Context, sl hcrypto.Slot, st *regState, now time.Time, look bool) {
	rec, err := s.rdv.holder.record(now)
	if err != nil {
		s.log.Warn("rendezvous: holder record", "err", err)
		st.next = now.Add(s.rdv.cfg.Register)
		return
	}
	st.busy = true
	s.exchange(ctx, sl, purposeRegister, hcrypto.EncodeRegister(rec), rdvAnswer{sent: rec, look: look})
}

// rdvAnswered books the outcome of an exchange with a slot.
func (s *swarm) rdvAnswered(ctx context.Context, ev rdvAnswer) {
	r := s.rdv
	if r == nil {
		return
	}
	now := time.Now()
	valid, bad := hcrypto.VerifyAnswer(ev.recs, s.c.id, r.secret, now)
	if ev.err != nil {
		s.log.Debug("rendezvous", "slot", ev.slot, "purpose", ev.purpose, "err", ev.err)
	} else if bad > 0 {
		s.log.Info("rendezvous: records that do not verify", "slot", ev.slot, "bad", bad)
	}
	if ev.purpose == purposeAsk {
		r.asking--
		if ev.err == nil {
			r.round.Answered++
		}
	} else {
		s.registered(ctx, ev, valid, now)
	}
	if s.wantsSources() {
		n := s.learnHolders(ev.slot, valid)
		if ev.purpose == purposeAsk {
			r.round.Holders += len(valid)
		}
		if n > 0 {
			s.log.Info("rendezvous: holders found", "slot", ev.slot, "new", n)
			s.dialMore(ctx, now)
		} else if r.asking == 0 && ev.purpose == purposeAsk && len(s.peers) == 0 && len(s.addrs) == 0 {
			s.fig.waiting = fmt.Sprintf("no holder found yet: %d of %d rendezvous slots answered; asking again in %v",
				r.round.Answered, r.round.Asked, r.askAt.Sub(now).Round(time.Second))
		}
	}
	s.fig.discovery = r.figures(len(r.slots))
	s.publish()
}

// registered books a registration: a slot whose answer does not list our
// new record is vacant (or held by a host that drops registrations), and a
// slot we host that answers with another host's record first was taken
// over.
func (s *swarm) registered(ctx context.Context, ev rdvAnswer, valid []hcrypto.HolderRecord, now time.Time) {
	r := s.rdv
	st := r.reg[idOf(ev.slot)]
	if st == nil { // the slot is over
		return
	}
	st.busy, st.tried = false, true
	st.next = now.Add(jittered(r.cfg.Register, r.cfg.Jitter))
	st.listed = false
	for _, rec := range valid {
		if rec.Holder == ev.sent.Holder && rec.Expires >= ev.sent.Expires {
			st.listed = true
		}
	}
	if h := r.hosts[ev.slot.Period]; h != nil && h.slot.Index == ev.slot.Index {
		if ev.err == nil && (len(ev.recs) == 0 || ev.recs[0].Holder != r.holder.public()) {
			s.log.Info("rendezvous: another host answers for our slot; no longer hosting it", "slot", ev.slot)
			h.l.Close()
			delete(r.hosts, ev.slot.Period)
		}
		return
	}
	if st.listed {
		st.hostAt = time.Time{}
		return
	}
	if r.hosts[ev.slot.Period] != nil || r.pending[ev.slot.Period] || st.noHost {
		return // at most one slot per content and period
	}
	switch {
	case ev.look:
		s.log.Info("rendezvous: hosting a vacant slot", "slot", ev.slot)
		r.pending[ev.slot.Period] = true
		s.hostSlot(ctx, ev.slot)
	case st.hostAt.IsZero() && r.alone(ev.slot.Period):
		st.hostAt = now // no swarm to keep from publishing at once: be found now
	case st.hostAt.IsZero():
		st.hostAt = now.Add(time.Duration(rand.Int64N(int64(r.cfg.HostDelay) + 1)))
	}
}

// alone says that every slot of the moment has answered a registration
// (or failed to), none but its own lists this node, and it hosts none of
// period p's: it is most likely the only holder, as the sharer of a new
// content is, and has no swarm to wait for before hosting a slot of p.
func (r *rendezvous) alone(p uint64) bool {
	for _, sl := range r.slots {
		st := r.reg[idOf(sl)]
		if st == nil || !st.tried {
			return false
		}
		if h := r.hosts[sl.Period]; st.listed && (h == nil || idOf(h.slot) != idOf(sl)) {
			return false
		}
	}
	return r.hosts[p] == nil
}

// rdvHosted books a slot's publishing.
func (s *swarm) rdvHosted(ctx context.Context, ev rdvHosted) {
	r := s.rdv
	if r == nil {
		if ev.l != nil {
			ev.l.Close()
		}
		return
	}
	delete(r.pending, ev.slot.Period)
	if ev.err != nil {
		s.log.Warn("rendezvous: cannot host a slot", "slot", ev.slot, "err", ev.err)
		if st := r.reg[idOf(ev.slot)]; st != nil {
			st.noHost = true
		}
		return
	}
	cur := false
	for _, sl := range r.slots {
		cur = cur || idOf(sl) == idOf(ev.slot)
	}
	if !cur || r.hosts[ev.slot.Period] != nil || r.holder == nil {
		ev.l.Close()
		return
	}
	h := newSlotHost(ev.slot, ev.l, r.holder, s.log.With("slot", ev.slot))
	r.hosts[ev.slot.Period] = h
	if st := r.reg[idOf(ev.slot)]; st != nil {
		st.listed, st.hostAt = true, time.Time{}
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); h.serve(ctx, &s.wg) }()
	s.fig.discovery = r.figures(len(r.slots))
	s.publish()
}

// closeRendezvous stops hosting every slot (the swarm is ending).
func (s *swarm) closeRendezvous() {
	if s.rdv == nil {
		return
	}
	for p, h := range s.rdv.hosts {
		h.l.Close()
		delete(s.rdv.hosts, p)
	}
}

// learnHolders puts the holders' addresses in the address book as PEX
// addresses are (one circuit each until one answers), marked as found at a
// rendezvous slot; it returns how many were new. recs is slot sl's answer,
// one source: it adds at most maxAddrsPerSource addresses, as a PEX frame
// does, so that a hostile slot host cannot fill the book. Each address
// remembers whether it came first in an Answer (a slot host lists its own
// record first, R6) and which slots named it: slot hosts, then holders
// registered at several slots, are dialed before addresses only one slot
// names, so that a hostile host's 32 fakes do not hold back the holder an
// honest slot names.
func (s *swarm) learnHolders(sl hcrypto.Slot, recs []hcrypto.HolderRecord) int {
	n, quota := 0, maxAddrsPerSource
	for i, rec := range recs {
		if s.rdv.holder != nil && rec.Holder == s.rdv.holder.public() {
			continue
		}
		a := rec.Address()
		st, known := s.addrs[a]
		if !known {
			s.learn(a, &quota)
			if st = s.addrs[a]; st != nil {
				st.rdv = true
				n++
			}
		}
		if st != nil {
			st.slots |= 1 << (sl.Period%2*3 + uint64(sl.Index)%3)
			st.slotHost = st.slotHost || i == 0
		}
	}
	return n
}

// figures returns the discovery figures for Status.
func (r *rendezvous) figures(slots int) Discovery {
	d := r.round
	d.Slots = slots
	for _, st := range r.reg {
		if st.listed {
			d.Registered++
		}
	}
	d.Hosting = len(r.hosts)
	for _, h := range r.hosts {
		d.Records += h.count()
	}
	return d
}

// peerSources counts the open connections by how their address was found.
func (s *swarm) peerSources() PeerSources {
	var ps PeerSources
	for p := range s.peers {
		st := s.addrs[p.addr]
		switch {
		case !p.dialed:
			ps.Accepted++
		case st != nil && st.hint:
			ps.Hint++
		case st != nil && st.rdv:
			ps.Rendezvous++
		default:
			ps.PEX++
		}
	}
	return ps
}
