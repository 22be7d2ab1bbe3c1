package swarm

import "fmt"

// distinctPeers counts the nodes behind a content's open connections: a
// peer with four circuits is one peer. Connections are told apart by the
// onion address dialed, or announced by an accepted peer (its PEX); an
// accepted connection with no address is a peer of its own unless it said
// (Hello.Extra) that its node has another connection to us already.
func (s *swarm) distinctPeers() int {
	addrs := map[string]bool{}
	n := 0
	for p := range s.peers {
		switch {
		case p.addr != "":
			if !addrs[p.addr] {
				addrs[p.addr] = true
				n++
			}
		case !p.extra:
			n++
		}
	}
	if n == 0 && len(s.peers) > 0 { // only extras: their first connection closed
		n = 1
	}
	return n
}

// FormatPeers writes a content's peers and connections for people, as the
// command line and the desktop app show them: "2 peers · 6 connections",
// "1 peer · 1 connection", "no peers".
func FormatPeers(peers, conns int) string {
	if conns == 0 {
		return "no peers"
	}
	return plural(peers, "peer") + " · " + plural(conns, "connection")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
