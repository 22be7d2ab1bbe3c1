package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hydre-p2p/hydre/onion/testnet"
)

func runTestnetUp(ctx context.Context, g *globals, fs flags, args []string) error {
	relays := fs.Int("relays", 0, fmt.Sprintf("plain relays besides the 3 authorities (default %d, or %d with --limit-middles-only)", testnet.DefaultRelays, testnet.DefaultMiddleRelays))
	bw := fs.String("bandwidth", "0", "rate-limit relays to `RATE` bytes/s (suffixes KB, MB, KiB, MiB; 0: unlimited)")
	middles := fs.Bool("limit-middles-only", false, "limit only the plain relays, used as middles; the authorities serve as fast guards")
	vanguards := fs.Int("vanguards", 0, "with --limit-middles-only, give each tor `N` plain relays of its own for the second hop of its onion circuits, as tor's vanguards-lite keeps 4 (default: all of them)")
	latency := fs.Duration("latency", 0, fmt.Sprintf("delay every connection between tors by `D` each way (e.g. %v, close to the real network; 0: none)", testnet.DefaultLatency))
	jitter := fs.Duration("jitter", 0, "with --latency, vary each delay by up to `J` either way")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *latency < 0 || *jitter < 0 || *jitter > *latency {
		return usageError{"want 0 <= --jitter <= --latency"}
	}
	var delays []string
	if *latency > 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the hydre program for the delay proxies: %w", err)
		}
		delays = []string{exe, "testnet", "delays"}
	}
	rate, err := parseRate(*bw)
	if err != nil {
		return usageError{err.Error()}
	}
	if *relays < 0 {
		return usageError{"--relays must not be negative"}
	}
	if *vanguards < 0 || *vanguards > 0 && !*middles {
		return usageError{"--vanguards takes a positive number, with --limit-middles-only"}
	}
	nw, err := testnet.Start(ctx, testnet.Options{Dir: fs.Arg(0), Relays: *relays, RelayBandwidth: rate,
		LimitMiddlesOnly: *middles, Vanguards: *vanguards, Latency: *latency, Jitter: *jitter, DelayCommand: delays,
		Detach: true, Logger: g.Logger})
	if err != nil {
		return err
	}
	if g.JSON {
		b, _ := json.Marshal(struct {
			Dir     string  `json:"dir"`
			Seconds float64 `json:"usableAfterSeconds"`
		}{nw.Dir(), nw.UsableAfter().Seconds()})
		fmt.Fprintf(g.Stdout, "%s\n", b)
		return nil
	}
	fmt.Fprintf(g.Stdout, "private tor network up in %s (usable after %.1fs)\nuse it with: hydre --testnet %s <command>\nstop it with: hydre testnet down %s\n",
		nw.Dir(), nw.UsableAfter().Seconds(), nw.Dir(), nw.Dir())
	return nil
}

// runTestnetDelays serves the delay proxies of a network that "testnet up
// --latency" starts; "testnet down" ends it.
func runTestnetDelays(ctx context.Context, g *globals, fs flags, args []string) error {
	if err := fs.parse(args); err != nil {
		return err
	}
	return testnet.ServeDelays(ctx, fs.Arg(0))
}

func runTestnetDown(_ context.Context, g *globals, fs flags, args []string) error {
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := testnet.Stop(fs.Arg(0)); err != nil {
		return err
	}
	if !g.JSON {
		fmt.Fprintf(g.Stdout, "private tor network in %s stopped\n", fs.Arg(0))
	}
	return nil
}

func runTestnetStatus(_ context.Context, g *globals, fs flags, args []string) error {
	if err := fs.parse(args); err != nil {
		return err
	}
	nw, err := testnet.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer nw.Close()
	if g.JSON {
		fmt.Fprintf(g.Stdout, "{\"dir\":%q,\"running\":true}\n", nw.Dir())
		return nil
	}
	fmt.Fprintf(g.Stdout, "private tor network in %s is running (was usable after %.1fs)\n", nw.Dir(), nw.UsableAfter().Seconds())
	return nil
}

// parseRate parses a byte rate: "1048576", "500KB", "1MB", "1MiB".
func parseRate(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad rate %q", s)
	}
	return int64(n * float64(mult)), nil
}
