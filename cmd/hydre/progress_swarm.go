package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/hydre-p2p/hydre/swarm"
)

// statusView prints engine statuses: a one-line bar on a terminal, a plain
// line every few seconds (and on every state change) otherwise, or one JSON
// object per event with --json.
type statusView struct {
	w         io.Writer
	json      bool
	bar       bool
	lastLine  time.Time
	lastState map[string]swarm.State
	lastLen   int
}

func newStatusView(w io.Writer, asJSON bool) *statusView {
	v := &statusView{w: w, json: asJSON, lastState: map[string]swarm.State{}}
	if f, ok := w.(*os.File); ok && !asJSON {
		v.bar = term.IsTerminal(int(f.Fd()))
	}
	return v
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
}

func toJSON(event string, s swarm.Status, withLink bool) []byte {
	j := jsonStatus{Event: event, ID: s.ID.String(), Kind: s.Kind.String(), State: s.State.String(), Name: s.Name,
		Path: s.Path, Size: s.Size, Verified: s.Verified, Uploaded: s.Uploaded, DownRate: s.DownRate,
		UpRate: s.UpRate, Peers: s.Peers, ETA: s.ETA.Seconds(), Reshare: s.Reshare, Error: s.Err, Growing: s.Growing,
		Reachable: s.Reachable, Waiting: s.Waiting}
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
		fmt.Fprintf(v.w, "%s\n", toJSON("status", s, false))
	case v.bar:
		line := "\r" + progressLine(s, true)
		pad := ""
		if len(line) < v.lastLen {
			pad = strings.Repeat(" ", v.lastLen-len(line))
		}
		v.lastLen = len(line)
		fmt.Fprint(v.w, line+pad)
	default:
		if changed || time.Since(v.lastLine) >= 5*time.Second {
			v.lastLine = time.Now()
			fmt.Fprintln(v.w, progressLine(s, false))
		}
	}
}

func (v *statusView) done() {
	if v.bar && v.lastLen > 0 {
		fmt.Fprintln(v.w)
		v.lastLen = 0
	}
}

func progressLine(s swarm.Status, bar bool) string {
	pct := 0.0
	if s.Size > 0 {
		pct = float64(s.Verified) * 100 / float64(s.Size)
	}
	name := s.Name
	if name == "" {
		name = short(s.ID.String())
	}
	var b strings.Builder
	if bar {
		const width = 24
		n := int(pct * width / 100)
		fmt.Fprintf(&b, "[%s%s] ", strings.Repeat("#", n), strings.Repeat("-", width-n))
	}
	fmt.Fprintf(&b, "%s %s %5.1f%% %s/%s %s/s %d peers", name, s.State, pct, human(s.Verified), human(s.Size), human(int64(s.DownRate)), s.Peers)
	if s.ETA > 0 {
		fmt.Fprintf(&b, " ETA %s", s.ETA)
	}
	if s.Uploaded > 0 {
		fmt.Fprintf(&b, " up %s", human(s.Uploaded))
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

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
