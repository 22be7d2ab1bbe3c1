package swarm

import (
	"fmt"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/memnet"
)

// TestPeersApartFromConnections: a seeder fetched from by two nodes, one
// over four circuits and one over two, counts 2 peers and 6 connections;
// the first downloader 1 peer and 4 connections.
func TestPeersApartFromConnections(t *testing.T) {
	n := memnet.New()
	// Slow enough that the downloads last while the test looks.
	seeder := newNode(t, n, "seeder", func(c *Config) { c.Limits.Up = MinRate })
	path, _ := writeFile(t, t.TempDir(), "film.mkv", 4<<20)
	st := seeder.share(path, 16<<10)
	b := newNode(t, n, "b", func(c *Config) { c.Reshare, c.CircuitsPerPeer = false, 4 })
	c := newNode(t, n, "c", func(c *Config) { c.Reshare, c.CircuitsPerPeer = false, 2 })
	b.get(st.Link)
	c.get(st.Link)
	counts := func(want string) func(Status) bool {
		return func(s Status) bool { return fmt.Sprintf("%d peers, %d connections", s.Peers, s.Connections) == want }
	}
	b.waitFor(st.ID, 20*time.Second, "1 peer, 4 connections", counts("1 peers, 4 connections"))
	c.waitFor(st.ID, 20*time.Second, "1 peer, 2 connections", counts("1 peers, 2 connections"))
	seeder.waitFor(st.ID, 20*time.Second, "2 peers, 6 connections", counts("2 peers, 6 connections"))
}
