package gui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"

	"github.com/hydre-p2p/hydre/swarm"
)

// refreshEvery is how often the lists show the engine's progress: events
// arriving faster are merged, so a busy swarm never floods the UI thread.
const refreshEvery = 250 * time.Millisecond

// connect starts Tor and the engine in the background, showing progress in
// the status area; on success it starts the event loop. A later disconnect
// cancels an attempt still under way.
func (u *UI) connect() {
	s := u.currentSettings()
	u.tor.connecting()
	ctx, cancel := context.WithCancel(u.ctx)
	attempt := make(chan struct{})
	u.mu.Lock()
	u.attemptCancel, u.attemptDone = cancel, attempt
	u.mu.Unlock()
	u.goOwned(func() {
		defer close(attempt)
		progress := func(p Progress) { u.do(func() { u.tor.progress(p) }) }
		e, stop, err := u.opt.Start(ctx, s, progress)
		if err != nil {
			if ctx.Err() == nil {
				u.log.Warn("gui: connect failed", "err", err)
				u.do(func() { u.tor.failed(err) })
			}
			return
		}
		done, quit := make(chan struct{}), make(chan struct{})
		u.mu.Lock()
		if ctx.Err() != nil { // disconnected or closing meanwhile
			u.mu.Unlock()
			stop()
			return
		}
		u.engine, u.stop, u.loopDone, u.loopQuit = e, stop, done, quit
		first := !u.started
		u.started = true
		u.mu.Unlock()
		events, unsubscribe := e.Subscribe()
		initial := e.List()
		u.do(func() {
			u.tor.connected()
			u.apply(initial)
			if first {
				u.startupActions()
			}
		})
		u.goOwned(func() {
			defer close(done)
			defer unsubscribe()
			u.eventLoop(e, events, quit)
		})
	})
}

// disconnect cancels a connection attempt under way, or stops the engine
// and Tor, waiting for the event loop.
func (u *UI) disconnect() {
	u.mu.Lock()
	cancel, attempt := u.attemptCancel, u.attemptDone
	u.attemptCancel, u.attemptDone = nil, nil
	u.mu.Unlock()
	if cancel != nil {
		cancel()
		<-attempt
	}
	u.mu.Lock()
	stop, done, quit := u.stop, u.loopDone, u.loopQuit
	u.engine, u.stop, u.loopDone, u.loopQuit = nil, nil, nil, nil
	u.mu.Unlock()
	if stop == nil {
		return
	}
	close(quit)
	<-done
	stop()
}

// reconnect restarts Tor and the engine with the settings now in force.
func (u *UI) reconnect() {
	u.tor.connecting()
	u.goOwned(func() {
		u.disconnect()
		u.do(u.connect)
	})
}

// eventLoop merges the engine's events and hands them to the UI thread at
// most every refreshEvery, until the engine closes its events, quit is
// closed (disconnect) or the app stops. If tor goes away meanwhile, the
// status area says so (its Retry starts tor and the engine again).
func (u *UI) eventLoop(e *swarm.Engine, events <-chan swarm.Event, quit <-chan struct{}) {
	lost := e.TransportLost()
	t := time.NewTicker(refreshEvery)
	defer t.Stop()
	pending := map[[32]byte]swarm.Status{}
	var order [][32]byte
	flush := func() {
		if len(order) == 0 {
			return
		}
		batch := make([]swarm.Status, 0, len(order))
		for _, id := range order {
			batch = append(batch, pending[id])
		}
		clear(pending)
		order = order[:0]
		u.do(func() { u.apply(batch) })
	}
	for {
		select {
		case <-u.ctx.Done():
			return
		case <-quit:
			return
		case <-lost:
			lost = nil
			err := fmt.Errorf("tor went away: %w", e.TransportErr())
			u.log.Warn("gui: " + err.Error())
			u.do(func() { u.tor.failed(err) })
		case ev, ok := <-events:
			if !ok {
				flush()
				if u.ctx.Err() == nil {
					u.engineStopped()
				}
				return
			}
			id := [32]byte(ev.Status.ID)
			if _, seen := pending[id]; !seen {
				order = append(order, id)
			}
			pending[id] = ev.Status
		case <-t.C:
			flush()
		}
	}
}

// engineStopped tells the person the node stopped when it was not asked to.
func (u *UI) engineStopped() {
	u.mu.Lock()
	asked := u.engine == nil
	u.mu.Unlock()
	if asked {
		return
	}
	u.do(func() { u.tor.failed(swarm.ErrClosed) })
}

// apply shows new statuses and sends a notification for each download that
// just completed. UI thread only.
func (u *UI) apply(batch []swarm.Status) {
	for _, st := range batch {
		prev, known := u.items.get(st.ID)
		u.items.put(st)
		if st.Kind == swarm.KindDownload && st.Done() && known && !prev.Done() && u.currentSettings().Notify {
			u.app.SendNotification(fyne.NewNotification("Download complete", displayName(st)+" is in "+st.Path))
		}
	}
	u.shares.refresh()
	u.downloads.refresh()
	u.history.changed()
}

// startupActions runs the shares and downloads asked for on the command
// line. UI thread only.
func (u *UI) startupActions() {
	for _, p := range u.opt.Share { // each its own share; a folder as one link
		u.shares.share([]string{p})
	}
	for _, link := range u.opt.Get {
		u.downloads.get(link)
	}
	if len(u.opt.Get) > 0 && u.opt.Screen == "" {
		u.selectScreen(ScreenDownload)
	}
}

// removed drops a content from the lists once the engine removed it.
func (u *UI) removed(st swarm.Status) {
	u.items.remove(st.ID)
	u.shares.refresh()
	u.downloads.refresh()
	u.history.changed()
}

// refreshStatus asks the engine for a content's status after an action, so
// the row changes at once even if its event is merged with later ones.
func (u *UI) refreshStatus(ctx context.Context, e *swarm.Engine, st swarm.Status) {
	if ctx.Err() != nil {
		return
	}
	if now, err := e.Status(st.ID); err == nil {
		u.do(func() { u.apply([]swarm.Status{now}) })
	}
}
