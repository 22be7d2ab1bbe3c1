package gui

import (
	"strings"
	"testing"

	"github.com/hydre-p2p/hydre/swarm"
)

func TestFailureText(t *testing.T) {
	tests := []struct {
		st         swarm.Status
		start, end string
	}{
		{swarm.Status{Err: "write chunk 3: no space left on device"}, "The disk is full: free some space, then Retry", "(write chunk 3: no space left on device)"},
		{swarm.Status{Path: "/srv/dl/.a.hydre-part", Err: "prepare download: open /srv/dl/.a.hydre-part: permission denied"},
			"hydre may not write in /srv/dl: allow it, then Retry", "permission denied)"},
		{swarm.Status{Err: "prepare download: open x: permission denied"}, "hydre may not write in the download folder", ""},
		{swarm.Status{Path: "/media/cd/f", Err: "open: read-only file system"}, "/media/cd is on a read-only disk", ""},
		{swarm.Status{Err: "content changed"}, "content changed", "content changed"},
	}
	for _, tt := range tests {
		got := failureText(tt.st)
		if !strings.HasPrefix(got, tt.start) || !strings.HasSuffix(got, tt.end) {
			t.Errorf("failureText(%q) = %q, want %q…%q", tt.st.Err, got, tt.start, tt.end)
		}
	}
}
