package swarm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
)

// crowdEarly is how many downloaders come first in the crowd part; with
// DefaultCircuitsPerPeer circuits each they take all the seeder's upload
// slots (MaxUploadsPerContent's default, 16).
const crowdEarly = 4

// crowdTimes is what one run of the crowd part measured.
type crowdTimes struct {
	lateFirst, lateDone time.Duration   // the late downloader, from its start
	earlyDone           []time.Duration // each early one, from its start
}

// benchCrowd measures a flash crowd on one seeder: four downloaders take
// its slots, then a fifth comes. It times the fifth's first data and whole
// file, for hydre and for OnionShare, on the unlimited network.
func benchCrowd(t *testing.T, md *strings.Builder, runs int) {
	nw := startNetwork(t, testnet.Options{})
	seedTor := torFor(t, nw)
	dir := t.TempDir()
	path, data := writeFile(t, dir, "crowd.bin", 32*mib)
	seed := torNode(t, seedTor, "seeder")
	st := seed.share(path, 0)
	osURL := startOnionShare(t, seedTor.ControlAddr(), path)
	var tors []*onion.Tor
	var socks []string
	for range crowdEarly + 1 {
		tor := torFor(t, nw)
		s, err := tor.SocksAddr()
		if err != nil {
			t.Fatal(err)
		}
		warmUp(t, tor, append(linkPeers(t, st.Link), osURL)...)
		tors, socks = append(tors, tor), append(socks, s)
	}
	var hy, osh []crowdTimes
	for r := range runs {
		hy = append(hy, crowdHydre(t, tors, st.Link, data))
		osh = append(osh, crowdCurl(t, socks, osURL, int64(len(data)), r))
		t.Logf("crowd run %d: hydre %+v, onionshare %+v", r, hy[r], osh[r])
	}
	fmt.Fprintf(md, "### A crowd on one seeder (32 MiB)\n\n")
	fmt.Fprintf(md, "The unlimited network; one seeder, %d downloaders, each on its own tor. %d start at once and, once they "+
		"are all transferring (for hydre: %d circuits each, the seeder's %d upload slots all taken), a last one starts. "+
		"The downloaders do not re-share, so the seeder is the only source for hydre as for OnionShare (curl through each "+
		"downloader's tor, one circuit per download). \"First data\" is the late downloader's first verified chunk "+
		"(256 KiB) for hydre and curl's first byte (time_starttransfer) for OnionShare, both from its start; each "+
		"whole-file time is from that downloader's own start. %d interleaved runs, fresh downloaders each run; medians, "+
		"runs in brackets.\n\n", crowdEarly+1, crowdEarly, DefaultCircuitsPerPeer, crowdEarly*DefaultCircuitsPerPeer, runs)
	fmt.Fprintf(md, "| server | late downloader: first data | late downloader: whole file | first %d: whole file |\n|---|---|---|---|\n", crowdEarly)
	for _, row := range []struct {
		name string
		ts   []crowdTimes
	}{{"hydre", hy}, {"onionshare-cli 2.6 + curl", osh}} {
		var first, late, early []time.Duration
		for _, c := range row.ts {
			first, late = append(first, c.lateFirst), append(late, c.lateDone)
			early = append(early, c.earlyDone...)
		}
		fmt.Fprintf(md, "| %s | %s %s | %s %s | %s |\n", row.name, medianDur(first), fmtDurs(first),
			medianDur(late), fmtDurs(late), medianDur(early))
	}
	fmt.Fprintf(md, "\n")
}

func medianDur(ds []time.Duration) string {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = d.Seconds()
	}
	return fmt.Sprintf("%.1f s", median(xs))
}

func fmtDurs(ds []time.Duration) string {
	var p []string
	for _, d := range ds {
		p = append(p, fmt.Sprintf("%.1f", d.Seconds()))
	}
	return "[" + strings.Join(p, " ") + "]"
}

// crowdHydre runs the crowd with fresh hydre downloaders, one on each tor,
// the last of them late.
func crowdHydre(t *testing.T, tors []*onion.Tor, link string, want []byte) crowdTimes {
	t.Helper()
	var nds []*node
	for i, tor := range tors {
		nd := torNode(t, tor, fmt.Sprintf("crowd%d", i))
		nd.close()
		nd.cfg.Reshare = false
		nd.open0()
		nds = append(nds, nd)
	}
	starts := make([]time.Time, len(nds))
	var id [32]byte
	for i, nd := range nds[:crowdEarly] {
		starts[i] = time.Now()
		id = nd.get(link).ID
	}
	for _, nd := range nds[:crowdEarly] {
		nd.waitFor(id, 3*time.Minute, "all circuits", func(s Status) bool { return s.Connections >= DefaultCircuitsPerPeer })
	}
	late := len(nds) - 1
	starts[late] = time.Now()
	nds[late].get(link)
	var ct crowdTimes
	done := make([]time.Duration, len(nds))
	for deadline := time.Now().Add(10 * time.Minute); slices.Contains(done, 0); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("crowd: not all done in 10 minutes: %v", done)
		}
		for i, nd := range nds {
			s, err := nd.e.Status(id)
			if err != nil {
				t.Fatal(err)
			}
			if i == late && ct.lateFirst == 0 && s.Verified > 0 {
				ct.lateFirst = time.Since(starts[i])
			}
			if done[i] == 0 && s.Done() {
				done[i] = time.Since(starts[i])
				checkFile(t, s.Path, want)
			}
		}
	}
	for _, nd := range nds {
		nd.close()
		os.RemoveAll(nd.dl)
	}
	ct.lateDone, ct.earlyDone = done[late], done[:late]
	return ct
}

// crowdCurl runs the crowd with curl downloading url through each tor's
// SOCKS port (socks), the last of them late.
func crowdCurl(t *testing.T, socks []string, url string, size int64, run int) crowdTimes {
	t.Helper()
	dir := t.TempDir()
	type result struct {
		i           int
		first, took time.Duration
		err         error
	}
	res := make(chan result, len(socks))
	get := func(i int) {
		out := filepath.Join(dir, fmt.Sprint(i))
		cmd := exec.Command("curl", "-sS", "--fail", "--max-time", "1800", "--socks5-hostname", socks[i],
			"--proxy-user", fmt.Sprintf("crowd%d-%d:x", run, i), "-o", out, "-w", "%{size_download} %{time_starttransfer} %{time_total}", url)
		b, err := cmd.Output()
		var n int64
		var first, total float64
		if err == nil {
			fmt.Sscanf(string(b), "%d %f %f", &n, &first, &total)
			if n != size {
				err = fmt.Errorf("curl %d got %d bytes, want %d", i, n, size)
			}
		}
		res <- result{i, time.Duration(first * float64(time.Second)), time.Duration(total * float64(time.Second)), err}
	}
	for i := range crowdEarly {
		go get(i)
	}
	// The late one starts once the early ones are all receiving.
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		receiving := 0
		for i := range crowdEarly {
			if fi, err := os.Stat(filepath.Join(dir, fmt.Sprint(i))); err == nil && fi.Size() > 0 {
				receiving++
			}
		}
		if receiving == crowdEarly {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("crowd: the early curls received nothing in 3 minutes")
		}
	}
	go get(crowdEarly)
	var ct crowdTimes
	for range socks {
		r := <-res
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.i == crowdEarly {
			ct.lateFirst, ct.lateDone = r.first, r.took
		} else {
			ct.earlyDone = append(ct.earlyDone, r.took)
		}
	}
	return ct
}
