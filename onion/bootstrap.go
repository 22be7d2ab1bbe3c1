package onion

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cretz/bine/control"
	"github.com/cretz/bine/torutil"
)

// Bootstrap waits until tor has fully bootstrapped, sending each new step to
// progress (when not nil; sends block until received or ctx ends; progress is
// not closed). It fails after Config.BootstrapTimeout with tor's last
// bootstrap message, or at once if tor exits.
func (t *Tor) Bootstrap(ctx context.Context, progress chan<- BootstrapEvent) error {
	timeout := t.cfg.BootstrapTimeout
	if timeout <= 0 {
		timeout = DefaultBootstrapTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	events, unsubscribe := t.subscribe()
	defer unsubscribe()

	var last BootstrapEvent
	emit := func(ev BootstrapEvent) error {
		if ev.Warning == "" && ev.Percent == last.Percent && ev.Tag == last.Tag {
			ev.Warning, ev.fromORConn = last.Warning, last.fromORConn
		}
		if ev.Percent < last.Percent || ev == last {
			return nil
		}
		last = ev
		t.log.Info("tor bootstrap", "percent", ev.Percent, "tag", ev.Tag, "summary", ev.Summary)
		if progress == nil {
			return nil
		}
		select {
		case progress <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	poll := func() error {
		v, err := t.GetInfo("status/bootstrap-phase")
		if err != nil {
			return err
		}
		if ev, ok := parseBootstrapPhase(v); ok {
			return emit(ev)
		}
		return nil
	}
	// Events give every step; a poll now and then covers a missed one.
	if err := poll(); err != nil {
		return fmt.Errorf("tor bootstrap: %w", err)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for last.Percent < 100 {
		select {
		case ev, ok := <-events:
			if !ok {
				return fmt.Errorf("tor bootstrap: lost the control connection at %s%s", last.describe(), t.exitNote())
			}
			if oc, ok := ev.(*control.ORConnEvent); ok {
				// Why tor cannot reach a relay, while it says nothing itself.
				if w := orconnWarning(oc); w != "" && last.Percent < 100 && (last.Warning == "" || last.fromORConn) {
					next := last
					next.Warning, next.fromORConn = w, true
					if err := emit(next); err != nil {
						return t.bootstrapErr(err, last, timeout)
					}
				}
				continue
			}
			st, isStatus := ev.(*control.StatusEvent)
			if !isStatus || st.Action != "BOOTSTRAP" {
				continue
			}
			// bine splits quoted values at spaces; parse the raw line.
			bev, ok := parseBootstrapPhase(st.Raw)
			if !ok {
				continue
			}
			if err := emit(bev); err != nil {
				return t.bootstrapErr(err, last, timeout)
			}
		case <-tick.C:
			if err := poll(); err != nil {
				return t.bootstrapErr(err, last, timeout)
			}
		case <-t.procDoneChan():
			return fmt.Errorf("tor bootstrap: tor exited at %s%s", last.describe(), t.exitNote())
		case <-ctx.Done():
			return t.bootstrapErr(ctx.Err(), last, timeout)
		}
	}
	return nil
}

func (t *Tor) bootstrapErr(err error, last BootstrapEvent, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("tor did not bootstrap within %v: stuck at %s", timeout, last.describe())
	}
	return fmt.Errorf("tor bootstrap at %s: %w", last.describe(), err)
}

// procDoneChan returns a channel closed when a managed tor exits; never for
// an attached one.
func (t *Tor) procDoneChan() <-chan struct{} {
	if t.procDone == nil {
		return nil
	}
	return t.procDone
}

func (t *Tor) exitNote() string {
	if t.proc == nil {
		return ""
	}
	return " (tor said: " + t.logTail.last() + ")"
}

func (e BootstrapEvent) describe() string {
	s := fmt.Sprintf("%d%% (%s): %s", e.Percent, e.Tag, e.Summary)
	if e.Tag == "" {
		s = fmt.Sprintf("%d%%", e.Percent)
	}
	if e.Warning != "" {
		s += "; last warning: " + e.Warning
	}
	return s
}

// parseBootstrapPhase parses GETINFO status/bootstrap-phase, e.g.
// `NOTICE BOOTSTRAP PROGRESS=75 TAG=enough_dirinfo SUMMARY="Loaded enough directory info to build circuits"`.
func parseBootstrapPhase(v string) (BootstrapEvent, bool) {
	_, rest, _ := strings.Cut(v, " ")
	action, rest, _ := strings.Cut(rest, " ")
	if action != "BOOTSTRAP" {
		return BootstrapEvent{}, false
	}
	return bootstrapFromArgs(parseKeyVals(rest)), true
}

// parseKeyVals parses space-separated KEY=VALUE pairs, values maybe quoted.
func parseKeyVals(s string) map[string]string {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		var kv string
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		if strings.HasPrefix(rest, `"`) {
			end := closingQuote(rest)
			if end < 0 {
				kv, s = rest, ""
			} else {
				kv, s = rest[:end+1], rest[end+1:]
			}
			if u, err := torutil.UnescapeSimpleQuotedString(kv); err == nil {
				kv = u
			}
		} else {
			kv, s, _ = strings.Cut(rest, " ")
		}
		out[key] = kv
	}
	return out
}

func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func bootstrapFromArgs(a map[string]string) BootstrapEvent {
	p, _ := strconv.Atoi(a["PROGRESS"])
	return BootstrapEvent{Percent: p, Tag: a["TAG"], Summary: a["SUMMARY"], Warning: a["WARNING"]}
}
