package main

import (
	"flag"
	"fmt"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// stopFlags are 'hydre share --once' and '--stop-after': sharing that
// stops on its own, as OnionShare's does.
type stopFlags struct {
	once  bool
	after time.Duration
}

func (f *stopFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.once, "once", false, "stop sharing each file after its first complete download")
	fs.Var(durationFlag{&f.after}, "stop-after", "stop sharing after `D` (e.g. 30m, 2h)")
}

// durationFlag is a positive duration.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("bad duration %q (want e.g. 30m or 2h)", v)
	}
	*f.d = d
	return nil
}

// options adds the flags' choices to o.
func (f *stopFlags) options(o swarm.ShareOptions) swarm.ShareOptions {
	o.Once, o.StopAfter = f.once, f.after
	return o
}

// shareAgain resumes a share that had stopped on its own (Status.Ended),
// shared again by the same command.
func shareAgain(e *swarm.Engine, st swarm.Status) (swarm.Status, error) {
	if st.Ended == "" {
		return st, nil
	}
	if err := e.Resume(st.ID); err != nil {
		return st, err
	}
	return e.Status(st.ID)
}

// done returns serveUntilDone's test for a share command: with --once or
// --stop-after, it says each share that stopped on its own and ends the
// command once all n have; nil otherwise (serve until interrupted).
func (f *stopFlags) done(g *globals, n int) func(swarm.Status) (bool, error) {
	if !f.once && f.after == 0 {
		return nil
	}
	ended := map[hcrypto.ContentID]bool{}
	return func(st swarm.Status) (bool, error) {
		if st.Ended != "" && !ended[st.ID] {
			ended[st.ID] = true
			if !g.JSON {
				fmt.Fprintf(g.Stderr, "%s: %s\n", st.Name, st.Ended)
			}
		}
		return len(ended) == n, nil
	}
}
