package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/swarm"
)

func TestProgressLine(t *testing.T) {
	for _, tt := range []struct {
		st   swarm.Status
		want string
	}{
		{swarm.Status{Name: "a.mp4", State: swarm.StateFetching, Size: 4 << 20, Verified: 1 << 20, DownRate: 512 << 10, Peers: 1, Connections: 4, ETA: 6 * time.Second},
			"a.mp4 fetching  25.0% 1.0 MiB/4.0 MiB 512.0 KiB/s 1 peer · 4 connections ETA 6s"},
		{swarm.Status{Name: "a.mp4", State: swarm.StateFetching, Size: 4 << 20, Peers: 2, Connections: 3, Found: swarm.PeerSources{Hint: 1, Rendezvous: 2}},
			"a.mp4 fetching   0.0% 0 B/4.0 MiB 0 B/s 2 peers · 3 connections (hint 1, rendezvous 2)"},
		{swarm.Status{Name: "a.mp4", State: swarm.StateStarting, Waiting: "no peer reachable yet: onion service descriptor not found"},
			"a.mp4 starting   0.0% 0 B/0 B 0 B/s no peers (no peer reachable yet: onion service descriptor not found)"},
		{swarm.Status{Name: "a.mp4", State: swarm.StateFailed, Size: 4 << 20, Verified: 2 << 20, Err: "write chunk 8: no space left on device"},
			"a.mp4 failed  50.0% 2.0 MiB/4.0 MiB 0 B/s no peers error: write chunk 8: no space left on device"},
	} {
		if got := progressLine(tt.st, false); got != tt.want {
			t.Errorf("progressLine:\n got %q\nwant %q", got, tt.want)
		}
	}
}

func TestJSONStatusFields(t *testing.T) {
	var j map[string]any
	st := swarm.Status{State: swarm.StateStarting, Waiting: "no peer reachable yet: x", Link: "hydre:secret"}
	if err := json.Unmarshal(toJSON("status", st, false), &j); err != nil {
		t.Fatal(err)
	}
	if j["waiting"] != "no peer reachable yet: x" || j["reachable"] != false || j["link"] != nil {
		t.Errorf("status JSON %v", j)
	}
	st.Reachable, st.Waiting = true, ""
	if err := json.Unmarshal(toJSON("shared", st, true), &j); err != nil {
		t.Fatal(err)
	}
	if j["reachable"] != true || j["link"] != "hydre:secret" {
		t.Errorf("shared JSON %v", j)
	}
	st.Found = swarm.PeerSources{Rendezvous: 2, PEX: 1}
	st.Discovery = swarm.Discovery{Slots: 3, Asked: 3, Answered: 2, Holders: 5}
	if err := json.Unmarshal(toJSON("status", st, false), &j); err != nil {
		t.Fatal(err)
	}
	found, _ := j["found"].(map[string]any)
	disc, _ := j["discovery"].(map[string]any)
	if found["rendezvous"] != 2.0 || found["pex"] != 1.0 || disc["answered"] != 2.0 || disc["holders"] != 5.0 {
		t.Errorf("status JSON found %v, discovery %v", found, disc)
	}
}
