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

// waitConsensus waits until every authority has published a consensus that
// lists every node as Running, Valid and HSDir. The first consensus often
// lacks the plain relays (their descriptors arrive after the first vote); a
// client that bootstraps on it picks its guards and layer-2 vanguards among
// the three authorities alone and then cannot build onion-service circuits
// for minutes, so nothing may use the network before this.
func (nw *Network) waitConsensus(ctx context.Context) error {
	want := map[string]bool{}
	for _, n := range nw.st.Nodes {
		want[n.Name] = true
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var missing []string
	for {
		missing = missing[:0]
		for _, a := range nw.st.authorities() {
			b, _ := os.ReadFile(filepath.Join(a.dir(nw.dir), "cached-microdesc-consensus"))
			have := usableNodes(b)
			for name := range want {
				if !have[name] {
					missing = append(missing, a.Name+" lacks "+name)
				}
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
