package testnet

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// waitConsensus waits until every node holds a consensus that lists every
// node as Running, Valid and HSDir, and the microdescriptors of all; with
// interval not 0, a consensus of that voting interval. The
// first consensus often lacks the plain relays (their descriptors arrive
// after the first vote); a client that bootstraps on it picks its guards and
// layer-2 vanguards among the three authorities alone and then cannot build
// onion-service circuits for minutes. And a client asks its guard, often a
// plain relay, for microdescriptors: if that relay has not fetched them yet,
// the client waits 10 s before asking again. So nothing may use the network
// before every node is up to date.
func (nw *Network) waitConsensus(ctx context.Context, interval time.Duration) error {
	want := map[string]bool{}
	for _, n := range nw.st.Nodes {
		want[n.Name] = true
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var missing []string
	for {
		missing = missing[:0]
		for _, a := range nw.st.Nodes {
			b, _ := os.ReadFile(filepath.Join(a.dir(nw.dir), "cached-microdesc-consensus"))
			have := usableNodes(b)
			if got := consensusInterval(b); interval != 0 && got != interval {
				missing = append(missing, fmt.Sprintf("%s has a consensus of interval %v", a.Name, got))
			}
			for name := range want {
				if !have[name] {
					missing = append(missing, a.Name+" lacks "+name)
				}
			}
			if n := countMicrodescs(a.dir(nw.dir)); n < len(want) {
				missing = append(missing, fmt.Sprintf("%s has %d microdescriptors", a.Name, n))
			}
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no consensus with every node (%s): %w", strings.Join(missing, ", "), ctx.Err())
		case <-tick.C:
		}
	}
}

// consensusInterval returns the voting interval of a consensus: from its
// valid-after time to its fresh-until time.
func consensusInterval(consensus []byte) time.Duration {
	var times [2]time.Time
	for i, key := range []string{"\nvalid-after ", "\nfresh-until "} {
		_, rest, ok := bytes.Cut(consensus, []byte(key))
		if !ok {
			return 0
		}
		line, _, _ := bytes.Cut(rest, []byte("\n"))
		t, err := time.Parse(time.DateTime, string(line))
		if err != nil {
			return 0
		}
		times[i] = t
	}
	return times[1].Sub(times[0])
}

// usableNodes returns the nicknames a consensus lists as Running, Valid and
// HSDir.
func usableNodes(consensus []byte) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(consensus))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	name := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "r "):
			f := strings.Fields(line)
			if len(f) > 1 {
				name = f[1]
			}
		case strings.HasPrefix(line, "s ") && name != "":
			flags := " " + line[2:] + " "
			if strings.Contains(flags, " Running ") && strings.Contains(flags, " Valid ") && strings.Contains(flags, " HSDir ") {
				out[name] = true
			}
			name = ""
		}
	}
	return out
}

// countMicrodescs counts the microdescriptors a node has stored.
func countMicrodescs(dir string) int {
	n := 0
	for _, f := range []string{"cached-microdescs", "cached-microdescs.new"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		n += bytes.Count(b, []byte("\nonion-key"))
		if bytes.HasPrefix(b, []byte("onion-key")) {
			n++
		}
	}
	return n
}
