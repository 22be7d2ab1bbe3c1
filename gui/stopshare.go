package gui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/hydre-p2p/hydre/swarm"
)

// Sharing that stops on its own (swarm.ShareOptions Once and StopAfter):
// the Share screen's choices for new shares, and what a row says of them.

// stopAfterChoices are the auto-stop timer's choices, stopAfterValues
// their durations (0: never).
var (
	stopAfterChoices = []string{"Never", "10 minutes", "1 hour", "6 hours", "1 day", "1 week"}
	stopAfterValues  = []time.Duration{0, 10 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}
)

// stopControls are the Share screen's choices: stop after the first
// complete download, stop after a time.
type stopControls struct {
	once    *widget.Check
	after   *widget.Select
	content fyne.CanvasObject
}

func newStopControls() *stopControls {
	c := &stopControls{once: widget.NewCheck("Stop sharing after the first download", nil)}
	c.after = widget.NewSelect(stopAfterChoices, nil)
	c.after.SetSelected(stopAfterChoices[0])
	c.content = container.NewHBox(c.once, widget.NewLabel("Stop sharing after:"), c.after)
	return c
}

// options adds the choices to o.
func (c *stopControls) options(o swarm.ShareOptions) swarm.ShareOptions {
	o.Once = c.once.Checked
	o.StopAfter = stopAfterValues[max(c.after.SelectedIndex(), 0)]
	return o
}

// stopText says on a share's row when it stops, or why it stopped; "" for
// a share that runs until stopped.
func stopText(st swarm.Status, now time.Time) string {
	if st.Ended != "" {
		return upperFirst(st.Ended)
	}
	var parts []string
	if st.Once {
		parts = append(parts, "stops after the first download")
	}
	if !st.StopAt.IsZero() && st.State != swarm.StatePaused {
		parts = append(parts, "stops in "+formatLeft(st.StopAt.Sub(now)))
	}
	if len(parts) == 2 {
		return parts[0] + " or in " + formatLeft(st.StopAt.Sub(now))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return ""
}

// formatLeft writes a time left to the minute: "1 h 05 min", "3 min",
// "less than a minute".
func formatLeft(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
