package gui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

func TestFormatConnections(t *testing.T) {
	for _, tt := range []struct {
		peers, conns int
		want         string
	}{{0, 0, "no peers"}, {1, 1, "1 peer · 1 connection"}, {1, 4, "1 peer · 4 connections"}, {2, 6, "2 peers · 6 connections"}} {
		if got := formatConnections(swarm.Status{Peers: tt.peers, Connections: tt.conns}); got != tt.want {
			t.Errorf("formatConnections(%d, %d) = %q, want %q", tt.peers, tt.conns, got, tt.want)
		}
	}
}

func TestFormatFound(t *testing.T) {
	for _, tt := range []struct {
		f    swarm.PeerSources
		want string
	}{
		{swarm.PeerSources{}, ""},
		{swarm.PeerSources{Accepted: 3}, ""},
		{swarm.PeerSources{Hint: 1, Rendezvous: 2}, " (1 from the link, 2 through the rendezvous)"},
		{swarm.PeerSources{PEX: 4}, " (4 from other peers)"},
	} {
		if got := formatFound(tt.f); got != tt.want {
			t.Errorf("formatFound(%+v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestFormatETA(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, ""},
		{-time.Second, ""},
		{12 * time.Second, "12s left"},
		{90 * time.Second, "1m30s left"},
		{2*time.Hour + 5*time.Minute, "2h05m left"},
	}
	for _, tt := range tests {
		if got := formatETA(tt.d); got != tt.want {
			t.Errorf("formatETA(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestPlainError(t *testing.T) {
	_, statErr := os.Stat("/nonexistent/holiday.mp4")
	_, noProgram := exec.LookPath("hydre-no-such-program")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"program missing", fmt.Errorf("open: %w", noProgram), `The program "hydre-no-such-program" is not installed`},
		{"tor program missing", &exec.Error{Name: "/usr/sbin/tor", Err: exec.ErrNotFound}, "Tor is not installed"},
		{"tor missing", fmt.Errorf("start tor: %w", ErrTorMissing), "Tor is not installed"},
		{"disk full", fmt.Errorf("write chunk: %w", syscall.ENOSPC), "The disk is full"},
		{"permission", fmt.Errorf("open: %w", fs.ErrPermission), "permission denied"},
		{"missing file", statErr, "does not exist"},
		{"bad link", fmt.Errorf("parse link: checksum mismatch: %w", hcrypto.ErrBadLink), "not a valid hydre link"},
		{"engine closed", fmt.Errorf("get: %w", swarm.ErrClosed), "node is stopped"},
		{"no peers", swarm.ErrNoPeers, "names no computer"},
		{"other", errors.New("descriptor too large"), "Descriptor too large."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := plainError(tt.err)
			if !strings.Contains(got, tt.want) {
				t.Errorf("plainError = %q, want it to contain %q", got, tt.want)
			}
			if strings.Contains(got, "hydre:") {
				t.Errorf("plainError shows a link: %q", got)
			}
		})
	}
}

func TestStateText(t *testing.T) {
	tests := []struct {
		st   swarm.Status
		want string
	}{
		{swarm.Status{Kind: swarm.KindDownload, State: swarm.StateStarting}, "Looking for peers"},
		{swarm.Status{Kind: swarm.KindShare, State: swarm.StateStarting}, "Publishing"},
		{swarm.Status{Kind: swarm.KindDownload, State: swarm.StateFetching}, "Downloading"},
		{swarm.Status{Kind: swarm.KindDownload, State: swarm.StateSeeding, Reachable: true}, "Done, sharing"},
		{swarm.Status{Kind: swarm.KindDownload, State: swarm.StateSeeding}, "Done, publishing"},
		{swarm.Status{Kind: swarm.KindShare, State: swarm.StateSeeding, Reachable: true}, "Sharing"},
		{swarm.Status{Kind: swarm.KindShare, State: swarm.StateSeeding}, "Publishing"},
		{swarm.Status{Kind: swarm.KindShare, State: swarm.StateSeeding, Growing: true, Reachable: true}, "Sharing as it arrives"},
		{swarm.Status{Kind: swarm.KindDownload, State: swarm.StateFailed, Err: "no peer answered"}, "Failed"},
	}
	for _, tt := range tests {
		if got := stateText(tt.st); got != tt.want {
			t.Errorf("stateText(%v %v) = %q, want %q", tt.st.Kind, tt.st.State, got, tt.want)
		}
	}
}

func TestShortLinkHidesTheKey(t *testing.T) {
	k, err := hcrypto.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	link := hcrypto.Link{Key: &k}.Encode()
	short := shortLink(link)
	if len(short) >= len(link) || !strings.HasPrefix(link, strings.TrimSuffix(short, "…")) {
		t.Errorf("shortLink(%d chars) = %q", len(link), short)
	}
}

func TestDeleteDataCheck(t *testing.T) {
	for _, tt := range []struct {
		st      swarm.Status
		checked bool
		text    string
	}{
		{swarm.Status{State: swarm.StateSeeding, Size: 10, Verified: 10}, false, "Also delete the file from the disk"},
		{swarm.Status{State: swarm.StateFetching, Size: 4 << 20, Verified: 1 << 20}, true, "Also delete the partial file (1.0 MiB fetched; a removed download cannot resume)"},
		{swarm.Status{State: swarm.StateFailed, Size: 4 << 20}, true, "Also delete the partial file (0 B fetched; a removed download cannot resume)"},
	} {
		if c := deleteDataCheck(tt.st); c.Checked != tt.checked || c.Text != tt.text {
			t.Errorf("%v: checked %v %q, want %v %q", tt.st.State, c.Checked, c.Text, tt.checked, tt.text)
		}
	}
}
