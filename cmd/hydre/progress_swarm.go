package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hydre-p2p/hydre/swarm"
)

// statusView prints engine statuses: a one-line bar on a terminal, a plain
// line every few seconds (and on every state change) otherwise, or with
// --json one JSON object for a content when it changed (see jsonThrottle).
type statusView struct {
	line      *liveLine
	json      *jsonThrottle // nil without --json
	lastLine  time.Time
	lastState map[string]swarm.State
}

func newStatusView(w io.Writer, asJSON bool) *statusView {
	v := &statusView{line: newLiveLine(w), lastState: map[string]swarm.State{}}
	if asJSON {
		v.json = newJSONThrottle(w, time.Now)
	}
	return v
}

// flush prints, with --json, the changes held back by the once-a-second
// limit whose second has passed; call it every second or so.
func (v *statusView) flush() {
	if v.json != nil {
		v.json.flush()
	}
}

func (v *statusView) show(s swarm.Status) {
	id := s.ID.String()
	changed := v.lastState[id] != s.State
	v.lastState[id] = s.State
	switch {
	case v.json != nil:
		v.json.show(s, changed)
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
	fmt.Fprintf(&b, "%s %s %5.1f%% %s/%s %s/s %s", name, s.State, pct, swarm.FormatSize(s.Verified), swarm.FormatSize(s.Size), swarm.FormatSize(int64(s.DownRate)), swarm.FormatPeers(s.Peers, s.Connections))
	if files := s.FileList(); files != nil {
		whole := 0
		for _, f := range files {
			if f.Verified == f.Size {
				whole++
			}
		}
		fmt.Fprintf(&b, " %d/%d files", whole, len(files))
	}
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
