package swarm

import (
	"context"
	"fmt"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// midPeriod returns a schedule of 2-hour periods whose current one is half
// over at now: its slots stay the same three for an hour either way, so a
// test that picks slots by index sees no boundary move them.
func midPeriod(now time.Time) hcrypto.Schedule {
	const length = 2 * time.Hour
	l := int64(length / time.Second)
	off := ((now.Unix()-l/2)%l + l) % l
	return hcrypto.Schedule{Length: length, Offset: time.Duration(off) * time.Second}
}

// slotsOf returns the slots of link's swarm at now under cfg's schedule
// and margin.
func slotsOf(t *testing.T, link string, cfg Config, now time.Time) (hcrypto.Link, []hcrypto.Slot) {
	t.Helper()
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	rc := cfg.Rendezvous
	if err := rc.setDefaults(); err != nil {
		t.Fatal(err)
	}
	slots, err := hcrypto.SlotsAt(*l.Secret, rc.Schedule, now, rc.Margin)
	if err != nil {
		t.Fatal(err)
	}
	return l, slots
}

// askSlot asks slot sl for its holders over tr, as a downloader does.
func askSlot(ctx context.Context, tr onion.Transport, sl hcrypto.Slot, tag string) ([]hcrypto.HolderRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, rdvTimeout)
	defer cancel()
	conn, err := tr.Dial(ctx, sl.Address(hcrypto.SlotPort), onion.DialOptions{Isolation: tag})
	if err != nil {
		return nil, fmt.Errorf("ask %v: %w", sl, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.Write(hcrypto.EncodeAsk()); err != nil {
		return nil, fmt.Errorf("ask %v: %w", sl, err)
	}
	b, err := hcrypto.ReadMessage(conn)
	if err != nil {
		return nil, fmt.Errorf("ask %v: %w", sl, err)
	}
	return hcrypto.DecodeAnswer(b)
}

// TestTorRendezvousHijacked is issue 25's attack on the private Tor
// network: an adversary holding the link publishes the two slots of the
// moment that the sharer does not host, one answering an empty list and
// one answering 32 made-up holders (validly signed: it holds the link). A
// download from a link that names no peer still completes through the
// sharer's slot; the time is logged.
func TestTorRendezvousHijacked(t *testing.T) {
	nw := testkit.Shared(t, testnet.Options{})
	tor1, tor2 := torFor(t, nw), torFor(t, nw)
	sch := midPeriod(time.Now())
	tweak := func(c *Config) { fastRendezvous(c); c.Rendezvous.Schedule = sch }
	a := torNodeWith(t, tor1, "a", tweak)
	path, data := writeFile(t, t.TempDir(), "hijack.bin", 4<<20)
	st := a.share(path, 0)
	a.waitFor(st.ID, 3*time.Minute, "hosting a slot", func(s Status) bool { return s.Discovery.Hosting >= 1 })

	// The adversary (on tor2) finds the slot a answers for and takes the
	// other two. a hosts one slot per period only, so it leaves them be.
	l, slots := slotsOf(t, st.Link, a.cfg, time.Now())
	if len(slots) != 3 {
		t.Fatalf("%d slots of the moment mid-period, want 3", len(slots))
	}
	aAddr := linkPeers(t, st.Link)[0]
	own := -1
	for i, sl := range slots {
		recs, err := askSlot(context.Background(), tor2, sl, fmt.Sprintf("adversary-%d", i))
		if err == nil && len(recs) > 0 && recs[0].Address() == aAddr {
			own = i
		}
		t.Logf("slot %d: %d records, err %v", sl.Index, len(recs), err)
	}
	if own < 0 {
		t.Fatal("no slot answers with a's record first, though a hosts one")
	}
	fakes := fakeRecords(t, hcrypto.MaxAnswerRecords, st.ID, *l.Secret)
	var hijacked []hcrypto.Slot
	for i, sl := range slots {
		if i != own {
			hijacked = append(hijacked, sl)
		}
	}
	start := time.Now()
	hijackSlot(t, tor2, hijacked[0], nil)
	hijackSlot(t, tor2, hijacked[1], fakes)
	t.Logf("adversary publishes slots %d (empty) and %d (32 fakes) in %v; a hosts slot %d",
		hijacked[0].Index, hijacked[1].Index, time.Since(start).Round(time.Millisecond), slots[own].Index)

	b := torNodeWith(t, tor2, "b", tweak)
	start = time.Now()
	b.get(linkWith(t, st.Link))
	first := b.waitFor(st.ID, 4*time.Minute, "a verified chunk", func(s Status) bool { return s.Verified > 0 })
	toFirst := time.Since(start)
	done := b.waitDone(st.ID, 4*time.Minute)
	checkFile(t, done.Path, data)
	t.Logf("b completed past 2 hijacked slots of 3 in %v (first verified chunk after %v); discovery at the first chunk %+v, at the end %+v",
		time.Since(start).Round(time.Millisecond), toFirst.Round(time.Millisecond), first.Discovery, done.Discovery)
}
