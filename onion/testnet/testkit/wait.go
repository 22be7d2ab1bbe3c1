package testkit

import (
	"testing"
	"time"
)

// pollEvery is how often Eventually checks its condition.
const pollEvery = 20 * time.Millisecond

// Eventually checks cond until it holds and fails tb if it does not within
// timeout, with what (called once, at the deadline) saying what was awaited
// and what was seen instead. It is for states that publish no event; where
// one exists (a channel, Done), wait on it.
func Eventually(tb testing.TB, timeout time.Duration, cond func() bool, what func() string) {
	tb.Helper()
	if Poll(timeout, cond) {
		return
	}
	tb.Fatalf("not within %v: %s", timeout, what())
}

// Poll checks cond until it holds or timeout passes, and reports whether it
// held. It is Eventually for a caller that handles the failure itself.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
}
