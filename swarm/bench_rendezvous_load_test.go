package swarm

import (
	"fmt"
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

// torCounter counts what a tor does, from its control port's events:
// descriptor uploads (HS_DESC UPLOAD) and fetches (HS_DESC REQUESTED),
// circuits built (CIRC BUILT) and streams opened (STREAM NEW), each put to
// the rendezvous slots ("slot") when the event, or a later purpose change
// of the circuit, names a slot's address or a rendezvous isolation tag,
// else to "other".
type torCounter struct {
	mu      sync.Mutex
	slots   map[string]bool // slot onion names without ".onion"
	circ    map[string]string
	uploads map[string]int
	fetches map[string]int
	built   map[string]int
	streams map[string]int
}

func watchTor(t *testing.T, tor *onion.Tor) *torCounter {
	t.Helper()
	tc := &torCounter{slots: map[string]bool{}, circ: map[string]string{}, uploads: map[string]int{},
		fetches: map[string]int{}, built: map[string]int{}, streams: map[string]int{}}
	watchEvents(t, tor, tc.event, control.EventCodeCircuit, control.EventCodeCircuitMinor, control.EventCodeHSDesc, control.EventCodeStream)
	return tc
}

func (tc *torCounter) event(ev control.Event) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	switch e := ev.(type) {
	case *control.HSDescEvent:
		switch e.Action {
		case "UPLOAD":
			tc.uploads[tc.kind(e.Address, "")]++
		case "REQUESTED":
			tc.fetches[tc.kind(e.Address, "")]++
		}
	case *control.CircuitEvent:
		if e.Status == "BUILT" {
			tc.circ[e.CircuitID] = tc.kind(e.RendQuery, e.SocksUsername)
			tc.built[tc.circ[e.CircuitID]]++
		}
	case *control.CircuitMinorEvent:
		// A circuit built for general use and taken for an onion service
		// (cannibalized) names the service only now.
		if k, ok := tc.circ[e.CircuitID]; ok && k == "other" && tc.kind(e.RendQuery, e.Raw) == "slot" {
			tc.circ[e.CircuitID] = "slot"
			tc.built["other"]--
			tc.built["slot"]++
		}
	case *control.StreamEvent:
		if e.Status == "NEW" {
			tc.streams[tc.kind(e.TargetAddress, e.Raw)]++
		}
	}
}

// kind puts an event to the slots if addr is one's onion name or text
// (the SOCKS username, or the raw event) holds a rendezvous isolation tag.
func (tc *torCounter) kind(addr, text string) string {
	if tc.slots[strings.TrimSuffix(addr, ".onion")] || strings.Contains(text, "hydre-rdv-") {
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

// torCounts is what a torCounter counted, for the slots and the rest.
type torCounts struct {
	upSlot, upOther, fetchSlot, circSlot, circOther, streamSlot int
}

func (c torCounts) minus(d torCounts) torCounts {
	return torCounts{c.upSlot - d.upSlot, c.upOther - d.upOther, c.fetchSlot - d.fetchSlot,
		c.circSlot - d.circSlot, c.circOther - d.circOther, c.streamSlot - d.streamSlot}
}

// snapshot returns the counts so far.
func (tc *torCounter) snapshot() torCounts {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return torCounts{tc.uploads["slot"], tc.uploads["other"], tc.fetches["slot"], tc.built["slot"], tc.built["other"],
		tc.streams["slot"]}
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
	contents, hosting, slots int
	setup                    time.Duration
	idle, atSetup, window    torCounts // the tor alone, the set-up, the window (each loadWindow but the set-up)
	heap                     uint64
	torRSS                   int64
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
	fmt.Fprintf(md, "One holder alone (the worst case of docs/protocol.md R8: it hosts one slot per content and finds "+
		"the others vacant), on its own tor, Tor's schedule (24-hour periods), registrations every %.0f min instead of "+
		"every hour and tor's MaxCircuitDirtiness at %d s instead of 10 minutes (so that, as with hourly "+
		"registrations, every registration needs new circuits; the slots' descriptors stay cached, as they would "+
		"for an hour). Counted from the tor's control-port events (HS_DESC UPLOAD and REQUESTED, CIRC BUILT, STREAM "+
		"NEW), put to the slots when the event or a later purpose change of its circuit names a slot or a "+
		"rendezvous isolation tag; *all circuits* is every circuit the tor built, less what the same tor built "+
		"alone over as long before the engine opened. Over %.0f min once every content hosts its slot, scaled to an "+
		"hour of the real schedule: × (60 min / %.0f min) × (%.0f min / 60 min). The contents are shared one at a "+
		"time, each once the previous one's onion is published (the set-up column). Descriptor uploads are tor's own: one round "+
		"when a slot is published (counted during the set-up) and again every 60–120 minutes, not in the window "+
		"(on the real network a round is 16 uploads; this network has fewer HSDirs). Memory: the Go heap in use "+
		"after a collection, the engine open with its contents against before it opened, and the tor's resident "+
		"set.\n\n", loadRegister.Minutes(), loadDirtiness, loadWindow.Minutes(), loadWindow.Minutes(), loadRegister.Minutes())
	fmt.Fprintf(md, "| contents | slots hosted | set-up | uploads per slot published (per content onion) | "+
		"per hour: exchanges with slots | slot descriptor fetches | circuits for the slots | all circuits | "+
		"per content per hour: all circuits | heap | tor RSS |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		w := r.window
		all := w.circSlot + w.circOther - r.idle.circSlot - r.idle.circOther
		fmt.Fprintf(md, "| %d (%d slots each) | %d | %v | %.1f (%.1f) | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f MiB | %.0f MiB |\n",
			r.contents, r.slots, r.hosting, r.setup.Round(time.Second),
			float64(r.atSetup.upSlot)/float64(max(1, r.hosting)), float64(r.atSetup.upOther)/float64(r.contents),
			perHour(w.streamSlot), perHour(w.fetchSlot), perHour(w.circSlot), perHour(all),
			perHour(all)/float64(r.contents), float64(r.heap)/mib, float64(r.torRSS)/mib)
	}
	fmt.Fprintf(md, "\n")
}

// loadHolder counts a fresh tor alone for loadWindow, then shares n
// contents on a fresh engine over it, waits until each hosts a slot, and
// counts for loadWindow again.
func loadHolder(t *testing.T, nw *testnet.Network, n int) loadRow {
	tor := torForWith(t, nw, []string{fmt.Sprintf("MaxCircuitDirtiness %d", loadDirtiness)})
	defer tor.Close()
	tc := watchTor(t, tor)
	wait := func() { // the measurement's window
		timer := time.NewTimer(loadWindow)
		<-timer.C
	}
	c0 := tc.snapshot()
	wait()
	c1 := tc.snapshot()
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
		// One onion at a time: 50 published at once on this loaded
		// machine left 49 unpublished after 6 minutes.
		h.waitFor(st.ID, 5*time.Minute, "reachable", func(s Status) bool { return s.Reachable })
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
	c2 := tc.snapshot()
	wait()
	c3 := tc.snapshot()
	return loadRow{contents: n, hosting: hosting, slots: slots, setup: setup,
		idle: c1.minus(c0), atSetup: c2.minus(c1), window: c3.minus(c2),
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
