package swarm

import (
	"context"
	"fmt"
	"net/textproto"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cretz/bine/control"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
)

// The load part's shortened intervals, and the real ones they stand for.
const (
	loadRegister  = time.Minute // a holder registers with each slot this often, instead of an hour
	loadWindow    = 3 * time.Minute
	loadDirtiness = 10 // tor's MaxCircuitDirtiness, seconds: below loadRegister, as 10 min is below an hour
)

// loadDiscovery is discovery for the load part: Tor's schedule and margin,
// registrations every loadRegister.
func loadDiscovery(c *Config) {
	c.Rendezvous = RendezvousConfig{Register: loadRegister, Jitter: loadRegister / 6, HostDelay: 5 * time.Second}
}

// torCounter counts what a tor does for the rendezvous slots it knows,
// from its control port's events: descriptor uploads (HS_DESC UPLOAD) and
// circuits built (CIRC BUILT), each put to a slot when the event, or a
// later purpose change of the circuit, names a slot's address.
type torCounter struct {
	mu      sync.Mutex
	slots   map[string]bool // slot onion names without ".onion"
	circ    map[string]string
	uploads map[string]int // "slot", "other"
	built   map[string]int // "slot", "other", by circuit: see classify
}

func watchTor(t *testing.T, tor *onion.Tor) *torCounter {
	t.Helper()
	tc := &torCounter{slots: map[string]bool{}, circ: map[string]string{}, uploads: map[string]int{}, built: map[string]int{}}
	conn, err := textproto.Dial("tcp", tor.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	c := control.NewConn(conn)
	t.Cleanup(func() { c.Close() })
	if err := c.Authenticate(""); err != nil {
		t.Fatal(err)
	}
	ch := make(chan control.Event, 4096)
	if err := c.AddEventListener(ch, control.EventCodeCircuit, control.EventCodeCircuitMinor, control.EventCodeHSDesc); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.HandleEvents(ctx)
	go func() {
		for {
			select {
			case ev := <-ch:
				tc.event(ev)
			case <-ctx.Done():
				return
			}
		}
	}()
	return tc
}

func (tc *torCounter) event(ev control.Event) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	switch e := ev.(type) {
	case *control.HSDescEvent:
		if e.Action == "UPLOAD" {
			tc.uploads[tc.kind(e.Address)]++
		}
	case *control.CircuitEvent:
		if e.Status == "BUILT" {
			tc.circ[e.CircuitID] = tc.kind(e.RendQuery)
			tc.built[tc.circ[e.CircuitID]]++
		}
	case *control.CircuitMinorEvent:
		// A circuit built for general use and taken for an onion service
		// (cannibalized) names the service only now.
		if k, ok := tc.circ[e.CircuitID]; ok && k == "other" && tc.kind(e.RendQuery) == "slot" {
			tc.circ[e.CircuitID] = "slot"
			tc.built["other"]--
			tc.built["slot"]++
		}
	}
}

func (tc *torCounter) kind(addr string) string {
	if tc.slots[strings.TrimSuffix(addr, ".onion")] {
		return "slot"
	}
	return "other"
}

func (tc *torCounter) addSlots(slots []hcrypto.Slot) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	for _, sl := range slots {
		host, _, _ := strings.Cut(sl.Address(hcrypto.SlotPort), ".onion")
		tc.slots[host] = true
	}
}

// snapshot returns the counts so far: uploads and circuits, for the slots
// and for the rest.
func (tc *torCounter) snapshot() (upSlot, upOther, circSlot, circOther int) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.uploads["slot"], tc.uploads["other"], tc.built["slot"], tc.built["other"]
}

// heapInUse returns the Go heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// loadRow is what one holder measured.
type loadRow struct {
	contents, hosting, slots       int
	setup                          time.Duration
	upSetup, upOtherSetup, upSlotW int
	circSlotW, circOtherW          int
	heap                           uint64
	torRSS                         int64
}

// benchRendezvousLoad measures a lone holder of 1 and of 50 contents: the
// descriptors its tor uploads and the circuits it builds for the slots, and
// its memory.
func benchRendezvousLoad(t *testing.T, md *strings.Builder) {
	nw := startNetwork(t, testnet.Options{})
	var rows []loadRow
	for _, n := range []int{1, 50} {
		rows = append(rows, loadHolder(t, nw, n))
		t.Logf("load %+v", rows[len(rows)-1])
	}
	// A count in loadWindow with registrations every loadRegister, per hour
	// of the real schedule (registrations every hour).
	perHour := func(count int) float64 {
		return float64(count) * float64(time.Hour) / float64(loadWindow) * float64(loadRegister) / float64(time.Hour)
	}
	fmt.Fprintf(md, "### Load on Tor of a holder\n\n")
	fmt.Fprintf(md, "One holder alone (the worst case of docs/protocol.md R8: it hosts one slot per content and finds the "+
		"others vacant), on its own tor, Tor's schedule (24-hour periods), registrations every %v instead of every "+
		"hour and tor's MaxCircuitDirtiness at %d s instead of 10 minutes (so that, as with hourly registrations, "+
		"every registration needs new circuits; the slots' descriptors stay cached, as they would for an hour). "+
		"Counted from the tor's control-port events once every content hosts its slot, over %v: circuits built "+
		"(CIRC BUILT, put to a slot when it or a later purpose change names one) and descriptor uploads (HS_DESC "+
		"UPLOAD). Scaled to an hour of the real schedule: × (60 min / %v) × (%v / 60 min), per content. "+
		"Descriptor uploads are tor's own: one round when a slot is published (counted during the set-up, per "+
		"content) and again every 60–120 minutes (not in the window; on the real network a round is 16 uploads, "+
		"here fewer HSDirs). Memory: the Go heap in use after a collection, the engine open with its contents "+
		"against before it opened, and the tor's resident set.\n\n",
		loadRegister, loadDirtiness, loadWindow, loadWindow, loadRegister)
	fmt.Fprintf(md, "| contents | slots hosted | set-up | uploads per slot published (per content onion) | slot uploads in the window | "+
		"slot circuits per hour: holder (per content) | other circuits per hour: holder | heap | tor RSS |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(md, "| %d (%d slots each) | %d | %v | %.1f (%.1f) | %d | %.0f (%.1f) | %.0f | %.1f MiB | %.0f MiB |\n",
			r.contents, r.slots, r.hosting, r.setup.Round(time.Second), float64(r.upSetup)/float64(max(1, r.hosting)),
			float64(r.upOtherSetup)/float64(r.contents), r.upSlotW, perHour(r.circSlotW), perHour(r.circSlotW)/float64(r.contents),
			perHour(r.circOtherW), float64(r.heap)/mib, float64(r.torRSS)/mib)
	}
	fmt.Fprintf(md, "\n")
}

// loadHolder shares n contents on a fresh engine and tor, waits until each
// hosts a slot, and counts over loadWindow.
func loadHolder(t *testing.T, nw *testnet.Network, n int) loadRow {
	tor := torForWith(t, nw, []string{fmt.Sprintf("MaxCircuitDirtiness %d", loadDirtiness)})
	defer tor.Close()
	tc := watchTor(t, tor)
	base := heapInUse()
	h := torNodeWith(t, tor, fmt.Sprintf("holder-%d", n), loadDiscovery)
	defer h.close()
	dir := t.TempDir()
	start := time.Now()
	var ids []hcrypto.ContentID
	var slots int
	for i := range n {
		path, _ := writeFile(t, dir, fmt.Sprintf("c%d.bin", i), 64<<10+i) // a size each: a content each
		st := h.share(path, 0)
		_, sl := slotsOf(t, st.Link, h.cfg, time.Now())
		slots = len(sl)
		tc.addSlots(sl)
		ids = append(ids, st.ID)
	}
	hosting := 0
	for _, id := range ids {
		s := h.waitFor(id, 10*time.Minute, "hosting a slot", func(s Status) bool { return s.Discovery.Hosting >= 1 })
		hosting += s.Discovery.Hosting
	}
	setup := time.Since(start)
	upSlot0, upOther0, circSlot0, circOther0 := tc.snapshot()
	timer := time.NewTimer(loadWindow) // the measurement's window
	<-timer.C
	upSlot1, _, circSlot1, circOther1 := tc.snapshot()
	return loadRow{contents: n, hosting: hosting, slots: slots, setup: setup,
		upSetup: upSlot0, upOtherSetup: upOther0, upSlotW: upSlot1 - upSlot0,
		circSlotW: circSlot1 - circSlot0, circOtherW: circOther1 - circOther0,
		heap: max(heapInUse(), base) - base, torRSS: rssOf(tor.PID())}
}

// rssOf returns the resident set (VmRSS) of pid in bytes.
func rssOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
