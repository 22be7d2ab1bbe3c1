package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/hydre-p2p/hydre/onion"
)

func runTorStatus(ctx context.Context, g *globals, fs flags, args []string) error {
	src := g.cliTorSource()
	var bridges stringsFlag
	fs.StringVar(&src.ControlAddr, "control", src.ControlAddr, "attach to tor's ControlPort at `ADDR` (host:port) ($HYDRE_TOR_CONTROL)")
	fs.StringVar(&src.ControlCookie, "cookie", src.ControlCookie, "control-port cookie `FILE` when attaching ($HYDRE_TOR_COOKIE)")
	fs.Var(&bridges, "bridge", "bridge `LINE` for a managed tor, e.g. \"obfs4 IP:PORT FP cert=... iat-mode=0\" (repeatable)")
	fs.DurationVar(&src.Timeout, "timeout", onion.DefaultBootstrapTimeout, "give up bootstrapping after `D`")
	var stuckAfter time.Duration
	fs.DurationVar(&stuckAfter, "stuck-after", defaultStuckAfter, "say that tor cannot reach the network when its bootstrap stands still for `D`")
	if err := fs.parse(args); err != nil {
		return err
	}
	src.Bridges = bridges
	if stuckAfter <= 0 {
		return usageError{"--stuck-after must be positive"}
	}
	cfg, err := g.torConfig(src)
	if err != nil {
		return err
	}
	start := time.Now()
	v := g.newBootstrapView(g.Stdout, src)
	v.after = stuckAfter
	n, err := startNodeViewed(ctx, g, nodeSpec{Tor: cfg}, v)
	if err != nil {
		return err
	}
	defer n.Close()
	version, _ := n.Tor.GetInfo("version")
	mode := "managed"
	if !n.Tor.Managed() {
		mode = "attached"
	}
	if g.JSON {
		b, _ := json.Marshal(struct {
			Event      string  `json:"event"`
			TorVersion string  `json:"torVersion"`
			Mode       string  `json:"mode"`
			Seconds    float64 `json:"seconds"`
		}{"bootstrapped", version, mode, math.Round(time.Since(start).Seconds()*10) / 10})
		fmt.Fprintf(g.Stdout, "%s\n", b)
		return nil
	}
	fmt.Fprintf(g.Stdout, "bootstrapped (tor %s, %s, %.1fs)\n", version, mode, time.Since(start).Seconds())
	return nil
}
