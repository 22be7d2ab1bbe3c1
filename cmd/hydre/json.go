package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/hydre-p2p/hydre/swarm"
)

// jsonStatus is the --json form of a status; the link is included only when
// withLink (it is a secret). Rates are whole bytes a second and the ETA
// whole seconds.
type jsonStatus struct {
	Event    string `json:"event"`
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	State    string `json:"state"`
	Name     string `json:"name,omitempty"`
	Path     string `json:"path,omitempty"`
	Size     int64  `json:"size"`
	Verified int64  `json:"verified"`
	Uploaded int64  `json:"uploaded"`
	DownRate int64  `json:"downRate"`
	UpRate   int64  `json:"upRate"`
	Peers    int    `json:"peers"`       // distinct nodes
	Conns    int    `json:"connections"` // open connections (circuits) to them
	ETA      int64  `json:"etaSeconds,omitempty"`
	Reshare  bool   `json:"reshare"`
	Link     string `json:"link,omitempty"`
	Error    string `json:"error,omitempty"`
	Growing  bool   `json:"growing,omitempty"` // a live share whose data is still arriving
	// Reachable: its onion service is published, so the link works.
	Reachable bool `json:"reachable"`
	// Waiting: why a download has no peer (its last dial's failure).
	Waiting string `json:"waiting,omitempty"`
	// Found: the open connections by how the peer was found.
	Found jsonFound `json:"found"`
	// Discovery: what rendezvous discovery is doing (docs/protocol.md, Part III).
	Discovery jsonDiscovery `json:"discovery"`
	// Limits: the content's own rate limits, bytes a second (none: absent).
	Limits *swarm.Limits `json:"limits,omitempty"`
	// Once, StopAt, Ended: a share that stops on its own, and why it did.
	Once   bool   `json:"once,omitempty"`
	StopAt string `json:"stopAt,omitempty"` // RFC 3339
	Ended  string `json:"ended,omitempty"`
	// Collection: several files as one link; Files: each file's progress
	// once its manifest is known.
	Collection bool       `json:"collection,omitempty"`
	Files      []jsonFile `json:"files,omitempty"`
}

// jsonFile is a file of a collection; fetch is false for a file outside a
// --file selection.
type jsonFile struct {
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	Verified int64  `json:"verified"`
	Fetch    bool   `json:"fetch"`
	Local    string `json:"local,omitempty"`
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
		Path: s.Path, Size: s.Size, Verified: s.Verified, Uploaded: s.Uploaded,
		DownRate: int64(math.Round(s.DownRate)), UpRate: int64(math.Round(s.UpRate)), Peers: s.Peers, Conns: s.Connections,
		ETA: int64(math.Round(s.ETA.Seconds())), Reshare: s.Reshare, Error: s.Err, Growing: s.Growing,
		Reachable: s.Reachable, Waiting: s.Waiting,
		Found: jsonFound{Hint: s.Found.Hint, Rendezvous: s.Found.Rendezvous, PEX: s.Found.PEX, Accepted: s.Found.Accepted},
		Discovery: jsonDiscovery{Slots: s.Discovery.Slots, Asked: s.Discovery.Asked, Answered: s.Discovery.Answered,
			Holders: s.Discovery.Holders, Registered: s.Discovery.Registered, Hosting: s.Discovery.Hosting,
			Records: s.Discovery.Records}}
	if withLink {
		j.Link = s.Link
	}
	if s.Limits != (swarm.Limits{}) {
		j.Limits = &s.Limits
	}
	j.Once, j.Ended = s.Once, s.Ended
	if !s.StopAt.IsZero() {
		j.StopAt = s.StopAt.UTC().Format(time.RFC3339)
	}
	j.Collection = s.Collection
	for _, f := range s.FileList() {
		j.Files = append(j.Files, jsonFile{Path: f.Path, Size: f.Size, Verified: f.Verified, Fetch: f.Fetch, Local: f.Local})
	}
	b, _ := json.Marshal(j)
	return b
}

// jsonThrottle prints the statuses of contents as JSON lines: a content's
// status only when it differs from the last one printed, and at most once a
// second for each content, except that a new state is printed at once. A
// change held back is printed by flush once its second has passed (the
// latest one: intermediate values are dropped).
type jsonThrottle struct {
	w       io.Writer
	now     func() time.Time
	last    map[string][]byte // the last line printed, by content ID
	at      map[string]time.Time
	pending map[string][]byte
}

func newJSONThrottle(w io.Writer, now func() time.Time) *jsonThrottle {
	return &jsonThrottle{w: w, now: now, last: map[string][]byte{}, at: map[string]time.Time{}, pending: map[string][]byte{}}
}

func (j *jsonThrottle) show(s swarm.Status, newState bool) {
	id := s.ID.String()
	b := toJSON("status", s, false)
	delete(j.pending, id)
	if bytes.Equal(b, j.last[id]) {
		return
	}
	if !newState && j.now().Sub(j.at[id]) < time.Second {
		j.pending[id] = b
		return
	}
	j.print(id, b)
}

func (j *jsonThrottle) flush() {
	for id, b := range j.pending {
		if j.now().Sub(j.at[id]) >= time.Second {
			delete(j.pending, id)
			j.print(id, b)
		}
	}
}

func (j *jsonThrottle) print(id string, b []byte) {
	j.last[id], j.at[id] = b, j.now()
	fmt.Fprintf(j.w, "%s\n", b)
}

// jsonError is the --json form of a command's failure, printed on stdout
// with the other JSON lines.
func jsonError(command string, err error, usage bool) []byte {
	b, _ := json.Marshal(struct {
		Event   string `json:"event"`
		Command string `json:"command"`
		Error   string `json:"error"`
		Usage   bool   `json:"usage,omitempty"` // the command line was wrong (exit 2)
	}{"error", command, err.Error(), usage})
	return b
}
