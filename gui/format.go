package gui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// ErrTorMissing marks a start failure because the tor program is not
// installed; the StartFunc wraps it so the app can say what to do.
var ErrTorMissing = errors.New("tor is not installed")

// formatRate writes a transfer rate.
func formatRate(bps float64) string {
	if bps < 1 {
		return "0 B/s"
	}
	return swarm.FormatSize(int64(bps)) + "/s"
}

// formatConnections writes a content's distinct peers and open
// connections (one peer may hold several): "2 peers · 6 connections".
func formatConnections(st swarm.Status) string { return swarm.FormatPeers(st.Peers, st.Connections) }

// formatFound says how a download's open connections were found, in
// brackets after formatConnections: "" when no dialed connection is open.
func formatFound(f swarm.PeerSources) string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{f.Hint, "from the link"}, {f.Rendezvous, "through the rendezvous"}, {f.PEX, "from other peers"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// formatETA writes the time left; zero or negative means unknown.
func formatETA(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Minute:
		return fmt.Sprintf("%ds left", int(d.Seconds()+0.5))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds left", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm left", int(d.Hours()), int(d.Minutes())%60)
	}
}

// stateText names a state the way a person reads it.
// reason is why a content fails or makes no progress, for the start of its
// row's detail line; empty when all is well.
func reason(st swarm.Status) string {
	if st.State == swarm.StateFailed && st.Err != "" {
		return failureText(st)
	}
	return st.Waiting
}

func stateText(st swarm.Status) string {
	switch st.State {
	case swarm.StateStarting:
		if st.Kind == swarm.KindShare {
			return "Publishing"
		}
		return "Looking for peers"
	case swarm.StateFetching:
		return "Downloading"
	case swarm.StatePaused:
		return "Paused"
	case swarm.StateSeeding:
		if !st.Reachable { // its link does not work yet: tor is publishing its service
			if st.Kind == swarm.KindDownload {
				return "Done, publishing"
			}
			return "Publishing"
		}
		if st.Kind == swarm.KindDownload {
			return "Done, sharing"
		}
		if st.Growing {
			return "Sharing as it arrives"
		}
		return "Sharing"
	case swarm.StateDone:
		return "Done"
	case swarm.StateFailed:
		return "Failed" // the reason is on the row's detail line (reason)
	case swarm.StateStopped:
		return "Stopped"
	}
	return st.State.String()
}

// fraction is the share of a content verified, for a progress bar.
func fraction(st swarm.Status) float64 {
	if st.Size <= 0 {
		if st.Done() {
			return 1
		}
		return 0
	}
	f := float64(st.Verified) / float64(st.Size)
	if f > 1 {
		f = 1
	}
	return f
}

// displayName is what a row shows as the content's name.
func displayName(st swarm.Status) string {
	if st.Name != "" {
		return st.Name
	}
	if st.Kind == swarm.KindHost {
		return "Hosted content " + shortID(st.ID)
	}
	return "Content " + shortID(st.ID) + " (name not known yet)"
}

// shortID is the start of a content ID, enough to tell items apart.
func shortID(id hcrypto.ContentID) string {
	s := id.String()
	if len(s) > 12 {
		s = s[:12]
	}
	return s
}

// shortLink shows the start of a link without revealing its key.
func shortLink(link string) string {
	if len(link) <= 22 {
		return link
	}
	return link[:22] + "…"
}

// plainError turns an error into a sentence for a person: what went wrong
// and, where there is one, what to do. It never shows a link or key (errors
// of ours never hold one).
func plainError(err error) string {
	var pe *fs.PathError
	var ee *exec.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrTorMissing):
		return torMissing
	case errors.As(err, &ee) && errors.Is(err, exec.ErrNotFound):
		return missingProgram(ee.Name)
	case errors.Is(err, syscall.ENOSPC):
		return "The disk is full. Free some space or choose another download folder in Settings."
	case errors.Is(err, fs.ErrPermission):
		return "hydre is not allowed to use this file or folder (permission denied)."
	case errors.As(err, &pe) && errors.Is(err, fs.ErrNotExist):
		return "The file " + pe.Path + " does not exist."
	case errors.Is(err, hcrypto.ErrBadLink):
		return "This is not a valid hydre link: " + err.Error() + ". Check that it was copied whole."
	case errors.Is(err, swarm.ErrNoPeers):
		return "This link names no computer to download from."
	case errors.Is(err, swarm.ErrClosed):
		return "The node is stopped (Tor or the engine stopped). Use Reconnect at the top of the window."
	case errors.Is(err, swarm.ErrNotFound):
		return "This item is no longer in the list."
	case errors.Is(err, context.DeadlineExceeded):
		return "This took too long and was stopped: " + err.Error() + "."
	case errors.Is(err, context.Canceled):
		return "Cancelled."
	}
	return sentence(err.Error())
}

const torMissing = "Tor is not installed. Install the \"tor\" package (for example: sudo apt install tor), " +
	"or attach to a running tor in Settings > Connection."

// programPackages names the Debian package of a program hydre runs.
var programPackages = map[string]string{
	"tor":      "tor",
	"xdg-open": "xdg-utils",
	"mpv":      "mpv",
	"vlc":      "vlc",
}

// missingProgram says which program is missing and, when known, the
// package that brings it.
func missingProgram(name string) string {
	base := filepath.Base(name)
	if base == "tor" {
		return torMissing
	}
	msg := "The program \"" + base + "\" is not installed (or not on PATH)."
	if pkg, ok := programPackages[base]; ok {
		msg += " Install the \"" + pkg + "\" package (for example: sudo apt install " + pkg + ")."
	}
	return msg
}

// sentence capitalizes s and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "Something went wrong."
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
