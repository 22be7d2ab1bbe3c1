package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hydre-p2p/hydre/swarm"
)

// statusView prints engine statuses: a one-line bar on a terminal, a plain
// line every few seconds (and on every state change) otherwise, or one JSON
// object per event with --json.
type statusView struct {
	line      *liveLine
	json      bool
	lastLine  time.Time
	lastState map[string]swarm.State
}

func newStatusView(w io.Writer, asJSON bool) *statusView {
	return &statusView{line: newLiveLine(w), json: asJSON, lastState: map[string]swarm.State{}}
}

// jsonStatus is the --json form of a status; the link is included only when
// withLink (it is a secret).
type jsonStatus struct {
	Event    string  `json:"event"`
	ID       string  `json:"id"`
	Kind     string  `json:"kind"`
	State    string  `json:"state"`
	Name     string  `json:"name,omitempty"`
	Path     string  `json:"path,omitempty"`
	Size     int64   `json:"size"`
	Verified int64   `json:"verified"`
	Uploaded int64   `json:"uploaded"`
	DownRate float64 `json:"downRate"`
	UpRate   float64 `json:"upRate"`
	Peers    int     `json:"peers"`
	ETA      float64 `json:"etaSeconds,omitempty"`
	Reshare  bool    `json:"reshare"`
	Link     string  `json:"link,omitempty"`
	Error    string  `json:"error,omitempty"`
	Growing  bool    `json:"growing,omitempty"` // a live share whose data is still arriving
	// Reachable: its onion service is published, so the link works.
	Reachable bool `json:"reachable"`
	// Waiting: why a download has no peer (its last dial's failure).
	Waiting string `json:"waiting,omitempty"`
	// Found: the open connections by how the peer was found.
	Found jsonFound `json:"found"`
	// Discovery: what rendezvous discovery is doing (docs/protocol.md, Part III).
	Discovery jsonDiscovery `json:"discovery"`
}

type jsonFound struct {
	Hint       int `json:"hint"`
	Rendezvous int `json:"rendezvous"`
	PEX        int `json:"pex"`
	Accepted   int `json:"accepted"`
}

type jsonDiscovery struct {
	Slots      int `json:"slots"`
	Asked      int `json:"asked"`
	Answered   int `json:"answered"`
	Holders    int `json:"holders"`
	Registered int `json:"registered"`
	Hosting    int `json:"hosting"`
	Records    int `json:"records"`
}

func toJSON(event string, s swarm.Status, withLink bool) []byte {
	j := jsonStatus{Event: event, ID: s.ID.String(), Kind: s.Kind.String(), State: s.State.String(), Name: s.Name,
		Path: s.Path, Size: s.Size, Verified: s.Verified, Uploaded: s.Uploaded, DownRate: s.DownRate,
		UpRate: s.UpRate, Peers: s.Peers, ETA: s.ETA.Seconds(), Reshare: s.Reshare, Error: s.Err, Growing: s.Growing,
		Reachable: s.Reachable, Waiting: s.Waiting,
		Found: jsonFound{Hint: s.Found.Hint, Rendezvous: s.Found.Rendezvous, PEX: s.Found.PEX, Accepted: s.Found.Accepted},
		Discovery: jsonDiscovery{Slots: s.Discovery.Slots, Asked: s.Discovery.Asked, Answered: s.Discovery.Answered,
			Holders: s.Discovery.Holders, Registered: s.Discovery.Registered, Hosting: s.Discovery.Hosting,
			Records: s.Discovery.Records}}
	if withLink {
		j.Link = s.Link
	}
	b, _ := json.Marshal(j)
	return b
}

func (v *statusView) show(s swarm.Status) {
	id := s.ID.String()
	changed := v.lastState[id] != s.State
	v.lastState[id] = s.State
	switch {
	case v.json:
		fmt.Fprintf(v.line.w, "%s\n", toJSON("status", s, false))
	case v.line.tty:
		v.line.set(progressLine(s, true))
	default:
		if changed || time.Since(v.lastLine) >= 5*time.Second {
			v.lastLine = time.Now()
			v.line.set(progressLine(s, false))
		}
	}
}

func (v *statusView) done() { v.line.done() }

func progressLine(s swarm.Status, withBar bool) string {
	pct := 0.0
	if s.Size > 0 {
		pct = float64(s.Verified) * 100 / float64(s.Size)
	}
	name := s.Name
	if name == "" {
		name = short(s.ID.String())
	}
	var b strings.Builder
	if withBar {
		b.WriteString(bar(pct, 24) + " ")
	}
	fmt.Fprintf(&b, "%s %s %5.1f%% %s/%s %s/s %d peers", name, s.State, pct, swarm.FormatSize(s.Verified), swarm.FormatSize(s.Size), swarm.FormatSize(int64(s.DownRate)), s.Peers)
	if f := foundText(s.Found); f != "" {
		fmt.Fprintf(&b, " (%s)", f)
	}
	if s.ETA > 0 {
		fmt.Fprintf(&b, " ETA %s", s.ETA)
	}
	if s.Uploaded > 0 {
		fmt.Fprintf(&b, " up %s", swarm.FormatSize(s.Uploaded))
	}
	if s.Waiting != "" {
		fmt.Fprintf(&b, " (%s)", s.Waiting)
	}
	if s.Err != "" {
		fmt.Fprintf(&b, " error: %s", s.Err)
	}
	return b.String()
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// foundText says how the open connections were found: "hint 1, rendezvous
// 2", the zero counts left out.
func foundText(f swarm.PeerSources) string {
	var parts []string
	for _, p := range []struct {
		n    int
		name string
	}{{f.Hint, "hint"}, {f.Rendezvous, "rendezvous"}, {f.PEX, "pex"}, {f.Accepted, "in"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", p.name, p.n))
		}
	}
	return strings.Join(parts, ", ")
}
