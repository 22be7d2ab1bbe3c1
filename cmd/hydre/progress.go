package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

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
// each otherwise, a JSON object each with --json.
type bootstrapView struct {
	line *liveLine
	json bool
}

func newBootstrapView(w io.Writer, asJSON bool) *bootstrapView {
	return &bootstrapView{line: newLiveLine(w), json: asJSON}
}

func (v *bootstrapView) show(ev onion.BootstrapEvent) {
	switch {
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

func (v *bootstrapView) done() { v.line.done() }
