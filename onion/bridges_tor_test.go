package onion_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestTorAcceptsBuiltinBridges starts a real tor with each set of built-in
// bridge lines and their transport program, and reads back from tor that
// it took them. The lines point at public addresses, so tor runs with
// DisableNetwork 1: it parses and keeps its configuration, opens its
// control port, and makes no outbound connection at all (it does not even
// start the transport programs, which it launches only once the network is
// enabled).
func TestTorAcceptsBuiltinBridges(t *testing.T) {
	testkit.SkipWithoutTor(t)
	for _, choice := range onion.BridgeChoices {
		t.Run(choice, func(t *testing.T) {
			lines, err := onion.BuiltinBridges(choice)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			tor, err := onion.Start(ctx, onion.Config{DataDir: t.TempDir(), Bridges: lines,
				Torrc: []string{"DisableNetwork 1"}, Logger: testkit.Logger(t)})
			if err != nil {
				t.Fatalf("tor refused the built-in %s bridges: %v", choice, err)
			}
			defer tor.Close()
			conf, err := tor.GetInfo("config-text")
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(conf, "\n")
			want := []string{"DisableNetwork 1", "UseBridges 1"}
			for _, l := range lines {
				want = append(want, "Bridge "+l)
			}
			for _, w := range want {
				if !hasLine(got, w) {
					t.Errorf("tor's configuration lacks %q", w)
				}
			}
			if !strings.Contains(conf, "ClientTransportPlugin "+choice) && !strings.Contains(conf, ","+choice+",") {
				t.Errorf("tor's configuration has no transport plugin for %s:\n%s", choice, conf)
			}
			phase, err := tor.GetInfo("status/bootstrap-phase")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(phase, "PROGRESS=0 ") {
				t.Errorf("tor with DisableNetwork went past 0%%: %s", phase)
			}
		})
	}
}

func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}
