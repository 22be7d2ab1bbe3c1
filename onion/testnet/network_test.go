package testnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStartOpenClose(t *testing.T) {
	skipWithoutTor(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	nw, err := Start(ctx, Options{Dir: dir, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	t.Logf("usable after %v", nw.UsableAfter())

	if _, err := Start(ctx, Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second Start in the same dir: %v, want 'already running'", err)
	}
	other, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	cfg := other.TorConfig(t.TempDir())
	var auths int
	for _, l := range cfg.Torrc {
		if strings.HasPrefix(l, "DirAuthority ") {
			auths++
			if !strings.Contains(l, " 127.0.0.1:") {
				t.Errorf("DirAuthority not on loopback: %s", l)
			}
		}
	}
	if auths != 3 {
		t.Fatalf("TorConfig has %d DirAuthority lines, want 3", auths)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatalf("Close of an opened handle stopped the network: %v", err)
	}
	// The identity keys made in Go are the ones tor uses.
	for _, n := range nw.st.Nodes {
		b, err := os.ReadFile(filepath.Join(n.dir(nw.dir), "fingerprint"))
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(string(b)); len(f) != 2 || f[1] != n.Fingerprint {
			t.Fatalf("%s: tor's fingerprint %q, recorded %s", n.Name, b, n.Fingerprint)
		}
	}
	pids := livePIDs(t, nw)
	if len(pids) != 3+DefaultRelays {
		t.Fatalf("%d live nodes, want %d", len(pids), 3+DefaultRelays)
	}
	if err := nw.Close(); err != nil {
		t.Fatal(err)
	}
	if left := livePIDs(t, nw); len(left) > 0 {
		t.Fatalf("nodes still running after Close: %v", left)
	}
	if _, err := Open(dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Open after Close: %v, want ErrNotRunning", err)
	}
}

func livePIDs(t *testing.T, nw *Network) []int {
	t.Helper()
	var out []int
	for _, n := range nw.st.Nodes {
		if pid, alive := nodePID(nw.dir, n); alive && !isZombie(pid) {
			out = append(out, pid)
		}
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestNodeTorrc(t *testing.T) {
	auths := []*node{
		{Name: "auth0", Authority: true, ORPort: 1, DirPort: 2, Fingerprint: strings.Repeat("A", 40), V3Ident: strings.Repeat("B", 40)},
	}
	relay := &node{Name: "relay0", ORPort: 3, Limited: true, Fingerprint: strings.Repeat("C", 40)}
	tests := []struct {
		name      string
		n         *node
		bandwidth int64
		owner     int
		want      []string
		notWant   []string
		guards    bool // authorityGuards
	}{
		{"authority", auths[0], 0, 0,
			[]string{"AuthoritativeDirectory 1", "V3AuthoritativeDirectory 1", "DirPort 127.0.0.1:2", "TestingTorNetwork 1",
				"AuthDirVoteStableGuaranteeMinUptime 0", "AuthDirVoteStableGuaranteeMTBF 0", "V3AuthVotingInterval 60", "TestingDirAuthVoteGuard *",
				"UseDefaultFallbackDirs 0", "ExitPolicy reject *:*", "Address 127.0.0.1",
				"DirAuthority auth0 orport=1 no-v2 v3ident=" + strings.Repeat("B", 40) + " 127.0.0.1:2 " + strings.Repeat("A", 40)},
			[]string{"RelayBandwidthRate", "__OwningControllerProcess", "V3BandwidthsFile", "TestingDirAuthVoteGuardIsStrict"}, false},
		{"authority of a limited network", auths[0], 1 << 20, 0,
			[]string{"V3BandwidthsFile /root/bandwidths"}, []string{"RelayBandwidthRate"}, false},
		{"authority of a limited-middles network", auths[0], 1 << 20, 0,
			[]string{"TestingDirAuthVoteGuard $" + strings.Repeat("A", 40), "TestingDirAuthVoteGuardIsStrict 1"}, []string{"TestingDirAuthVoteGuard *"}, true},
		{"limited relay", relay, 1 << 20, 77,
			[]string{"RelayBandwidthRate 1048576 bytes", "RelayBandwidthBurst 1048576 bytes", "ORPort 127.0.0.1:3", "__OwningControllerProcess 77"},
			[]string{"AuthoritativeDirectory", "DirPort"}, false},
		{"unlimited relay", &node{Name: "relay1", ORPort: 4}, 1 << 20, 0, []string{"ORPort 127.0.0.1:4"}, []string{"RelayBandwidthRate"}, false},
		{"relay of a network where every node listens", &node{Name: "relay3", ORPort: 7}, 0, 0,
			[]string{"ContactInfo hydre private test network (every node up)"}, nil, false},
		{"relay behind a delay proxy", &node{Name: "relay2", ORPort: 5, ListenPort: 6}, 0, 0,
			[]string{"ORPort 127.0.0.1:5 NoListen", "ORPort 127.0.0.1:6 NoAdvertise"}, []string{"ORPort 127.0.0.1:5\n"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nodeTorrc(tt.n, nodeSettings{root: "/root", auths: auths, bandwidth: tt.bandwidth, ownerPID: tt.owner,
				votingInterval: steadyVotingInterval, authorityGuards: tt.guards, republished: tt.n.Name == "relay3"})
			lines := strings.Split(got, "\n")
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("torrc lacks %q:\n%s", w, got)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(got, nw) {
					t.Errorf("torrc has %q:\n%s", nw, got)
				}
			}
			// Nothing may listen beyond loopback.
			for _, l := range lines {
				if strings.HasPrefix(l, "ORPort ") || strings.HasPrefix(l, "DirPort ") {
					if !strings.HasPrefix(strings.Fields(l)[1], "127.0.0.1:") {
						t.Errorf("listener not on loopback: %s", l)
					}
				}
			}
		})
	}
}

func TestWriteBandwidths(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bw")
	nodes := []*node{{Name: "auth0", Fingerprint: "A0"}, {Name: "relay0", Fingerprint: "R0"}}
	if err := writeBandwidths(path, nodes, 1<<20, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "1700000000\nnode_id=$A0 bw=1048 nick=auth0\nnode_id=$R0 bw=1048 nick=relay0\n"
	if string(got) != want {
		t.Errorf("bandwidth file:\n%s\nwant:\n%s", got, want)
	}
}

// TestTorConfigLimitMiddlesOnly checks that each tor gets the plain relays
// as middles and one authority as its guard, the authorities in turn.
func TestTorConfigLimitMiddlesOnly(t *testing.T) {
	nw := &Network{st: state{LimitMiddlesOnly: true, TorPath: "/usr/bin/tor", Nodes: []*node{
		{Name: "auth0", Authority: true, Fingerprint: "A0"}, {Name: "auth1", Authority: true, Fingerprint: "A1"},
		{Name: "relay0", Fingerprint: "R0", Limited: true}, {Name: "relay1", Fingerprint: "R1", Limited: true},
	}}}
	for i, guard := range []string{"A0", "A1", "A0"} {
		cfg := nw.TorConfig("/data")
		want := map[string]bool{"EntryNodes " + guard: false, "MiddleNodes R0,R1": false, "HSLayer2Nodes R0,R1": false}
		entries := 0
		for _, l := range cfg.Torrc {
			if _, ok := want[l]; ok {
				want[l] = true
			}
			if strings.HasPrefix(l, "EntryNodes ") {
				entries++
			}
		}
		for l, ok := range want {
			if !ok {
				t.Errorf("call %d: TorConfig lacks %q: %q", i, l, cfg.Torrc)
			}
		}
		if entries != 1 {
			t.Errorf("call %d: %d EntryNodes lines, want 1: %q", i, entries, cfg.Torrc)
		}
		if cfg.DataDir != "/data" || cfg.TorPath != "/usr/bin/tor" {
			t.Errorf("TorConfig = %+v", cfg)
		}
	}
}

// TestTorConfigVanguards checks that with Options.Vanguards each tor gets
// its own random layer-2 relays, that many, all plain relays.
func TestTorConfigVanguards(t *testing.T) {
	nodes := []*node{{Name: "auth0", Authority: true, Fingerprint: "A0"}}
	for i := range 6 {
		nodes = append(nodes, &node{Name: fmt.Sprintf("relay%d", i), Fingerprint: fmt.Sprintf("R%d", i), Limited: true})
	}
	nw := &Network{st: state{LimitMiddlesOnly: true, Vanguards: 2, TorPath: "/usr/bin/tor", Nodes: nodes}}
	seen := map[string]bool{}
	for range 20 {
		var layer2 []string
		for _, l := range nw.TorConfig("/data").Torrc {
			if v, ok := strings.CutPrefix(l, "HSLayer2Nodes "); ok {
				layer2 = strings.Split(v, ",")
			}
			if v, ok := strings.CutPrefix(l, "MiddleNodes "); ok && len(strings.Split(v, ",")) != 6 {
				t.Errorf("MiddleNodes %s, want the 6 relays", v)
			}
		}
		if len(layer2) != 2 || layer2[0] == layer2[1] || !strings.HasPrefix(layer2[0], "R") || !strings.HasPrefix(layer2[1], "R") {
			t.Fatalf("HSLayer2Nodes %q, want 2 distinct plain relays", layer2)
		}
		slices.Sort(layer2)
		seen[strings.Join(layer2, ",")] = true
	}
	if len(seen) < 2 {
		t.Errorf("20 tors all got the layer-2 relays %v; want each its own draw", seen)
	}
}

func TestConsensusInterval(t *testing.T) {
	tests := []struct {
		name      string
		consensus string
		want      time.Duration
	}{
		{"a minute", "network-status-version 3 microdesc\nvalid-after 2026-12-07 20:24:00\nfresh-until 2026-12-07 20:25:00\nvalid-until 2026-12-07 20:27:00\n", time.Minute},
		{"10 s", "x\nvalid-after 2026-12-07 20:24:00\nfresh-until 2026-12-07 20:24:10\n", 10 * time.Second},
		{"no fresh-until", "x\nvalid-after 2026-12-07 20:24:00\n", 0},
		{"garbled", "x\nvalid-after yesterday\nfresh-until 2026-12-07 20:24:10\n", 0},
		{"empty", "", 0},
	}
	for _, tt := range tests {
		if got := consensusInterval([]byte(tt.consensus)); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestUsableNodes(t *testing.T) {
	consensus := []byte(`network-status-version 3 microdesc
r auth0 89Zxzhue3Ne7fdIsAMgSC3Bmbpk 2038-01-01 00:00:00 127.0.0.1 44287 35727
m sha256=abc
s Authority Exit Fast Guard HSDir Running Stable V2Dir Valid
r relay0 gBvLnrB7LPmJMbj9jXZNWWOpAro 2038-01-01 00:00:00 127.0.0.1 38427 0
s Fast Guard Running Valid
r relay1 YZqVG/Wc/y7bOJg00ryqf3Qp2NQ 2038-01-01 00:00:00 127.0.0.1 39725 0
s Fast Guard HSDir Running Stable V2Dir Valid
r relay2 YZqVG/Wc/y7bOJg00ryqf3Qp2NQ 2038-01-01 00:00:00 127.0.0.1 39725 0
s Fast Guard HSDir Stable V2Dir Valid
`)
	got := usableNodes(consensus)
	want := map[string]bool{"auth0": true, "relay1": true}
	if len(got) != len(want) || !got["auth0"] || !got["relay1"] {
		t.Fatalf("usableNodes = %v, want %v", got, want)
	}
	if len(usableNodes(nil)) != 0 {
		t.Fatal("usableNodes of nothing is not empty")
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := freePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	low := ephemeralLow()
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d given twice", p)
		}
		seen[p] = true
		if low > 11000 && p >= low {
			t.Errorf("port %d is in the ephemeral range (from %d)", p, low)
		}
	}
}

func TestRetryStart(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a node died", fmt.Errorf("%w: relay0: bind failed", errNodeExited), true},
		{"the probe failed on live nodes", fmt.Errorf("%w: tor did not bootstrap (authority said: x)", errProbeFailed), false},
		{"tor-gencert failed", errors.New("gencert: exit status 1"), false},
		{"no free ports", fmt.Errorf("free ports: %w", errors.New("too many open files")), false},
	}
	for _, tt := range tests {
		if got := retryStart(tt.err); got != tt.want {
			t.Errorf("%s: retryStart = %v, want %v", tt.name, got, tt.want)
		}
	}
}
