package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/hydre-p2p/hydre/onion"
)

// liveLine is the one progress-line writer of the commands: on a terminal
// each line replaces the last one in place; elsewhere (a pipe, a log file)
// each is printed on a line of its own.
type liveLine struct {
	w       io.Writer
	tty     bool
	lastLen int // length of the line on the terminal, 0 when none
}

func newLiveLine(w io.Writer) *liveLine { return &liveLine{w: w, tty: isTerminal(w)} }

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// set shows s as the current line.
func (l *liveLine) set(s string) {
	if !l.tty {
		fmt.Fprintln(l.w, s)
		return
	}
	line := "\r" + s
	pad := ""
	if len(line) < l.lastLen {
		pad = strings.Repeat(" ", l.lastLen-len(line))
	}
	l.lastLen = len(line)
	fmt.Fprint(l.w, line+pad)
}

// done ends the line shown on a terminal, so that what follows starts on a
// line of its own.
func (l *liveLine) done() {
	if l.tty && l.lastLen > 0 {
		fmt.Fprintln(l.w)
		l.lastLen = 0
	}
}

// bar draws a progress bar of width characters for pct percent.
func bar(pct float64, width int) string {
	n := min(max(int(pct*float64(width)/100), 0), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}

// bootstrapView shows tor's bootstrap events: a bar on a terminal, a line
// each otherwise, a JSON object each with --json; quiet shows none of them.
// A bootstrap that stands still is said whatever quiet (stuck), with hint:
// what the user can do about it.
type bootstrapView struct {
	line  *liveLine
	json  bool
	quiet bool
	hint  string
	after time.Duration // the stall that makes a bootstrap stuck
	last  onion.BootstrapEvent
	seen  bool // an event came: tor runs and bootstraps
}

func newBootstrapView(w io.Writer, asJSON bool) *bootstrapView {
	return &bootstrapView{line: newLiveLine(w), json: asJSON, after: defaultStuckAfter}
}

func (v *bootstrapView) show(ev onion.BootstrapEvent) {
	v.last, v.seen = ev, true
	switch {
	case v.quiet:
	case v.json:
		b, _ := json.Marshal(struct {
			Event   string `json:"event"`
			Percent int    `json:"percent"`
			Tag     string `json:"tag"`
			Summary string `json:"summary"`
			Warning string `json:"warning,omitempty"`
		}{"bootstrap", ev.Percent, ev.Tag, ev.Summary, ev.Warning})
		fmt.Fprintf(v.line.w, "%s\n", b)
	case v.line.tty:
		v.line.set(fmt.Sprintf("%s %3d%% %s", bar(float64(ev.Percent), 30), ev.Percent, ev.Summary))
	default:
		v.line.set(fmt.Sprintf("bootstrap %3d%% %s: %s", ev.Percent, ev.Tag, ev.Summary))
	}
}

// stuck says that the bootstrap has not moved for v.after since ev, and
// why if tor said.
func (v *bootstrapView) stuck(ev onion.BootstrapEvent) {
	msg := stuckMessage(ev, v.after, v.hint)
	if v.json {
		b, _ := json.Marshal(struct {
			Event   string  `json:"event"`
			Percent int     `json:"percent"`
			Tag     string  `json:"tag"`
			Warning string  `json:"warning,omitempty"`
			Seconds float64 `json:"seconds"`
			Reached bool    `json:"relayReached"` // tor has connected to a relay
			Message string  `json:"message"`
		}{"stuck", ev.Percent, ev.Tag, ev.Warning, v.after.Seconds(), ev.Percent >= relayReached, msg})
		fmt.Fprintf(v.line.w, "%s\n", b)
		return
	}
	v.line.done()
	fmt.Fprintln(v.line.w, msg)
}

// stuckMessage is what a user is told about a bootstrap standing still at
// ev for after.
func stuckMessage(ev onion.BootstrapEvent, after time.Duration, hint string) string {
	says := ""
	if ev.Warning != "" {
		says = "; tor says: " + ev.Warning
	}
	if ev.Percent >= relayReached {
		return fmt.Sprintf("Tor has not moved for %s (bootstrap %d%% %s%s); still trying.", after, ev.Percent, ev.Tag, says)
	}
	return fmt.Sprintf("Tor cannot reach the Tor network: no relay answered in %s (bootstrap %d%% %s%s).\n%s",
		after, ev.Percent, ev.Tag, says, hint)
}

// failed adds to a bootstrap's failure, when tor never reached a relay,
// that it cannot reach the network and what to do.
func (v *bootstrapView) failed(err error) error {
	if err == nil || !v.seen || errors.Is(err, context.Canceled) || v.last.Percent >= relayReached {
		return err
	}
	return fmt.Errorf("%w\nTor cannot reach the Tor network. %s", err, v.hint)
}

func (v *bootstrapView) done() { v.line.done() }
