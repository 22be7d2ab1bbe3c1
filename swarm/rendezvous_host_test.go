package swarm

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// testSlotHost publishes a slot host on a memnet node and returns it with
// a node to dial it from.
func testSlotHost(t *testing.T) (*slotHost, *memnet.Node, hcrypto.ContentID, hcrypto.SwarmSecret) {
	t.Helper()
	n := memnet.New()
	secret, err := hcrypto.NewSwarmSecret()
	if err != nil {
		t.Fatal(err)
	}
	id := hcrypto.ContentID{1, 2, 3}
	sl, err := hcrypto.DeriveSlot(secret, hcrypto.Schedule{}, 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	l, err := n.Node("host").Listen(context.Background(), onion.ServiceConfig{Key: sl.PrivateKey(), Port: hcrypto.SlotPort})
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	h := newSlotHost(sl, l, &holderKey{key: key, port: 7446, id: id, secret: secret}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); h.serve(ctx, &wg) }()
	t.Cleanup(func() { cancel(); l.Close(); wg.Wait() })
	return h, n.Node("client"), id, secret
}

// send writes msg to the host's slot and returns the Answer's records.
func send(t *testing.T, from *memnet.Node, h *slotHost, msg []byte) ([]hcrypto.HolderRecord, error) {
	t.Helper()
	conn, err := from.Dial(context.Background(), h.slot.Address(hcrypto.SlotPort), onion.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(msg); err != nil {
		return nil, err
	}
	b, err := hcrypto.ReadMessage(conn)
	if err != nil {
		return nil, err
	}
	return hcrypto.DecodeAnswer(b)
}

func holderRecord(t *testing.T, id hcrypto.ContentID, secret hcrypto.SwarmSecret, expires time.Time) hcrypto.HolderRecord {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	r, err := hcrypto.NewHolderRecord(key, 7446, expires, id, secret)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSlotHost checks a slot host against R6: a Register is verified
// before it is kept, one record per holder, at most 256 kept and 32
// answered, its own record first and then the one just registered.
func TestSlotHost(t *testing.T) {
	h, cl, id, secret := testSlotHost(t)
	now := time.Now()
	own := h.own.public()

	recs, err := send(t, cl, h, hcrypto.EncodeAsk())
	if err != nil || len(recs) != 1 || recs[0].Holder != own {
		t.Fatalf("an empty slot answered %d records (err %v), want its own only", len(recs), err)
	}

	other, _ := hcrypto.NewSwarmSecret()
	for name, r := range map[string]hcrypto.HolderRecord{
		"another swarm":   holderRecord(t, id, other, now.Add(time.Hour)),
		"another content": holderRecord(t, hcrypto.ContentID{9}, secret, now.Add(time.Hour)),
		"too far ahead":   holderRecord(t, id, secret, now.Add(4*time.Hour)),
	} {
		if _, err := send(t, cl, h, hcrypto.EncodeRegister(r)); err == nil {
			t.Errorf("%s: the host answered a Register it should refuse", name)
		}
	}
	if h.count() != 0 {
		t.Fatalf("the host keeps %d records that do not verify", h.count())
	}

	first := holderRecord(t, id, secret, now.Add(time.Hour))
	for range maxSlotRecords + 40 {
		r := holderRecord(t, id, secret, now.Add(time.Hour))
		if r.Holder == first.Holder {
			continue
		}
		h.keep(r, now)
	}
	if h.count() != maxSlotRecords {
		t.Fatalf("the host keeps %d records, want %d", h.count(), maxSlotRecords)
	}
	recs, err = send(t, cl, h, hcrypto.EncodeRegister(first))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != hcrypto.MaxAnswerRecords || recs[0].Holder != own || recs[1] != first {
		t.Fatalf("answer of %d records, own first %v, registered second %v", len(recs), recs[0].Holder == own, recs[1] == first)
	}
	if valid, bad := hcrypto.VerifyAnswer(recs, id, secret, time.Now()); bad != 0 || len(valid) != len(recs) {
		t.Fatalf("%d records of the answer do not verify", bad)
	}
	if h.count() != maxSlotRecords {
		t.Fatalf("the host keeps %d records after a newcomer, want %d", h.count(), maxSlotRecords)
	}
	// One record per holder: a newer one replaces it, an older one does not.
	later := first
	later.Expires++
	h.keep(later, now) // its signature no longer holds, but keep is after Verify: only the expiry matters here
	h.mu.Lock()
	got := h.recs[first.Holder].Expires
	h.mu.Unlock()
	if got != later.Expires {
		t.Errorf("a holder's newer record did not replace its older one")
	}
	h.keep(first, now)
	h.mu.Lock()
	got = h.recs[first.Holder].Expires
	h.mu.Unlock()
	if got != later.Expires {
		t.Errorf("a holder's older record replaced its newer one")
	}
	// Expired records are dropped.
	h.keep(holderRecord(t, id, secret, now.Add(time.Hour)), now.Add(2*time.Hour))
	if h.count() != 1 {
		t.Errorf("%d records kept after every other expired, want 1", h.count())
	}
}

// TestRendezvousIsolation checks that every rendezvous stream of a node has
// its own isolation tag per content, slot and purpose, never one of
// another content's.
func TestRendezvousIsolation(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", fastRendezvous)
	p1, _ := writeFile(t, t.TempDir(), "one", 40<<10)
	p2, _ := writeFile(t, t.TempDir(), "two", 41<<10)
	s1, s2 := a.share(p1, 0), a.share(p2, 0)
	// a registers with the slot it hosts for each content, through its own
	// dials: wait for both contents' tags.
	deadline := time.Now().Add(20 * time.Second)
	for {
		seen := map[string]int{}
		for _, tag := range a.mem.IsolationTags() {
			if !isRendezvousTag(tag) {
				continue
			}
			n := 0
			for _, st := range []Status{s1, s2} {
				if strings.Contains(tag, hex.EncodeToString(st.ID[:8])) {
					seen[st.ID.String()]++
					n++
				}
			}
			if n != 1 || !strings.HasSuffix(tag, "-"+purposeRegister) {
				t.Fatalf("tag %q names %d contents, or no purpose", tag, n)
			}
		}
		if len(seen) == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rendezvous tags of %d contents, want 2: %v", len(seen), a.mem.IsolationTags())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
