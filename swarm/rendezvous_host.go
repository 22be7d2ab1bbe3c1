package swarm

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
)

// What a slot host keeps and gives (docs/protocol.md, R6).
const (
	// maxSlotRecords bounds the records a slot's host keeps, one per holder.
	maxSlotRecords = 256
	// maxSlotStreams bounds the streams a slot's host serves at once; more
	// are closed at once.
	maxSlotStreams = 16
	// slotStreamTimeout bounds one stream to a slot: its message and the
	// Answer.
	slotStreamTimeout = 20 * time.Second
)

// holderKey signs this node's holder records for one content.
type holderKey struct {
	key    ed25519.PrivateKey
	port   int
	id     hcrypto.ContentID
	secret hcrypto.SwarmSecret
}

// record signs a fresh record expiring RecordLifetime after now.
func (h *holderKey) record(now time.Time) (hcrypto.HolderRecord, error) {
	return hcrypto.NewHolderRecord(h.key, h.port, now.Add(hcrypto.RecordLifetime), h.id, h.secret)
}

func (h *holderKey) public() [32]byte { return [32]byte(h.key.Public().(ed25519.PublicKey)) }

// slotHost answers for one slot this node publishes: it keeps the records
// that holders register, verified, and answers Asks and Registers with
// them. Its table is its own, behind its mutex; the swarm goroutine only
// starts and closes it.
type slotHost struct {
	slot hcrypto.Slot
	l    onion.Listener
	own  *holderKey
	log  *slog.Logger
	sem  chan struct{}

	mu   sync.Mutex
	recs map[[32]byte]hcrypto.HolderRecord
}

func newSlotHost(sl hcrypto.Slot, l onion.Listener, own *holderKey, log *slog.Logger) *slotHost {
	return &slotHost{slot: sl, l: l, own: own, log: log, sem: make(chan struct{}, maxSlotStreams),
		recs: map[[32]byte]hcrypto.HolderRecord{}}
}

// serve accepts streams until the listener closes; wg counts its
// goroutines, which end with ctx.
func (h *slotHost) serve(ctx context.Context, wg *sync.WaitGroup) {
	for {
		conn, err := h.l.Accept()
		if err != nil {
			return
		}
		select {
		case h.sem <- struct{}{}:
		default:
			conn.Close() // too many at once: whoever floods the slot waits
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-h.sem }()
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			defer stop()
			h.stream(conn)
		}()
	}
}

// stream takes one message and answers it (R5): a Register is verified
// and kept, then answered like an Ask.
func (h *slotHost) stream(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(slotStreamTimeout))
	b, err := hcrypto.ReadMessage(conn)
	if err != nil {
		h.log.Debug("rendezvous stream", "err", err)
		return
	}
	now := time.Now()
	var registered *hcrypto.HolderRecord
	typ, _ := hcrypto.MessageType(b)
	switch typ {
	case hcrypto.TypeRegister:
		r, err := hcrypto.DecodeRegister(b)
		if err == nil {
			err = r.Verify(h.own.id, h.own.secret, now)
		}
		if err != nil {
			h.log.Debug("rendezvous register refused", "err", err)
			return
		}
		h.keep(r, now)
		registered = &r
	case hcrypto.TypeAsk:
		if hcrypto.DecodeAsk(b) != nil {
			return
		}
	default:
		return
	}
	msg, err := hcrypto.EncodeAnswer(h.answer(now, registered))
	if err != nil {
		h.log.Warn("rendezvous answer", "err", err)
		return
	}
	conn.Write(msg)
}

// keep stores a verified record: one per holder (the latest expiry), at
// most maxSlotRecords, expired ones dropped. A newcomer to a full table
// takes the place of a record picked at random, so that whoever filled it
// first cannot keep every later holder out.
func (h *slotHost) keep(r hcrypto.HolderRecord, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweep(now)
	if old, ok := h.recs[r.Holder]; ok {
		if r.Expires > old.Expires {
			h.recs[r.Holder] = r
		}
		return
	}
	if len(h.recs) >= maxSlotRecords {
		victim := rand.IntN(len(h.recs))
		for k := range h.recs {
			if victim == 0 {
				delete(h.recs, k)
				break
			}
			victim--
		}
	}
	h.recs[r.Holder] = r
}

func (h *slotHost) sweep(now time.Time) {
	for k, r := range h.recs {
		if r.Expires <= now.Unix() {
			delete(h.recs, k)
		}
	}
}

// answer picks the records of an Answer: the host's own first, then the
// one just registered, then others at random, MaxAnswerRecords at most.
func (h *slotHost) answer(now time.Time, registered *hcrypto.HolderRecord) []hcrypto.HolderRecord {
	out := make([]hcrypto.HolderRecord, 0, hcrypto.MaxAnswerRecords)
	seen := map[[32]byte]bool{}
	if own, err := h.own.record(now); err == nil {
		out = append(out, own)
		seen[own.Holder] = true
	}
	if registered != nil && !seen[registered.Holder] {
		out = append(out, *registered)
		seen[registered.Holder] = true
	}
	h.mu.Lock()
	h.sweep(now)
	others := make([]hcrypto.HolderRecord, 0, len(h.recs))
	for k, r := range h.recs {
		if !seen[k] {
			others = append(others, r)
		}
	}
	h.mu.Unlock()
	rand.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	for _, r := range others {
		if len(out) >= hcrypto.MaxAnswerRecords {
			break
		}
		out = append(out, r)
	}
	return out
}

// count returns how many records the host keeps.
func (h *slotHost) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.recs)
}

// hostSlot publishes slot sl in a goroutine of the swarm; the listener (or
// why there is none) comes back as an rdvHosted event.
func (s *swarm) hostSlot(ctx context.Context, sl hcrypto.Slot) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		l, err := s.cfg.transport.Listen(ctx, onion.ServiceConfig{Key: sl.PrivateKey(), Port: hcrypto.SlotPort, MaxStreams: 2})
		select {
		case s.events <- rdvHosted{slot: sl, l: l, err: err}:
		case <-ctx.Done():
			if l != nil {
				l.Close()
			}
		}
	}()
}

// rdvHosted tells the swarm goroutine how publishing a slot went.
type rdvHosted struct {
	slot hcrypto.Slot
	l    onion.Listener
	err  error
}
