package swarm

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
)

// rdvTimeout bounds one exchange with a slot: the dial, the message and
// the Answer.
const rdvTimeout = time.Minute

// firstAskRetry is the wait before a download with no peer asks the slots
// a second time; it doubles at every round up to RendezvousConfig.Ask. A
// link handed out just before its holder hosted a slot (the sharer of a
// new content does within seconds) then waits seconds, not the whole Ask.
const firstAskRetry = 15 * time.Second

// askDelay is the wait after the ask round about to begin.
func (r *rendezvous) askDelay() time.Duration {
	d := firstAskRetry << min(r.rounds, 8)
	return min(d, r.cfg.Ask)
}

// Purposes of a rendezvous stream, in its isolation tag.
const (
	purposeAsk      = "ask"
	purposeRegister = "register"
)

// rdvAnswer tells the swarm goroutine how one exchange with a slot went:
// the records of its Answer (decoded, not yet verified), or why there was
// none. sent is the record a Register carried.
type rdvAnswer struct {
	slot    hcrypto.Slot
	purpose string
	sent    hcrypto.HolderRecord
	look    bool // the second look before hosting the slot
	recs    []hcrypto.HolderRecord
	err     error
}

// rdvTag is the isolation tag of one rendezvous stream: its own circuit per
// content, swarm run, slot and purpose, never shared with another content
// (docs/protocol.md, R6).
func (s *swarm) rdvTag(sl hcrypto.Slot, purpose string) string {
	return fmt.Sprintf("hydre-rdv-%s-%s-%d-%d-%s", hex.EncodeToString(s.c.id[:8]), s.session, sl.Period, sl.Index, purpose)
}

// exchange sends msg to slot sl and reads its Answer, in a goroutine of
// the swarm; the result comes back as an rdvAnswer event.
func (s *swarm) exchange(ctx context.Context, sl hcrypto.Slot, purpose string, msg []byte, ev rdvAnswer) {
	ev.slot, ev.purpose = sl, purpose
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ev.recs, ev.err = s.roundTrip(ctx, sl, purpose, msg)
		select {
		case s.events <- ev:
		case <-ctx.Done():
		}
	}()
}

func (s *swarm) roundTrip(ctx context.Context, sl hcrypto.Slot, purpose string, msg []byte) ([]hcrypto.HolderRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, rdvTimeout)
	defer cancel()
	conn, err := s.cfg.transport.Dial(ctx, sl.Address(hcrypto.SlotPort), onion.DialOptions{Isolation: s.rdvTag(sl, purpose)})
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w", purpose, sl, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.Write(msg); err != nil {
		return nil, fmt.Errorf("%s %v: %w", purpose, sl, err)
	}
	b, err := hcrypto.ReadMessage(conn)
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w", purpose, sl, err)
	}
	recs, err := hcrypto.DecodeAnswer(b)
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w", purpose, sl, err)
	}
	return recs, nil
}
