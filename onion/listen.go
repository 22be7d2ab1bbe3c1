package onion

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cretz/bine/control"
)

// Listen publishes an onion service and returns once its descriptor has been
// uploaded to at least one directory, so that clients can reach it at once.
// Connections arrive through a listener on 127.0.0.1 that tor forwards to;
// Close removes the service from tor.
func (t *Tor) Listen(ctx context.Context, cfg ServiceConfig) (Listener, error) {
	port := cfg.Port
	if port == 0 {
		port = DefaultPort
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("listen onion: bad port %d", port)
	}
	if cfg.Key != nil && len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("listen onion: key has %d bytes, want %d", len(cfg.Key), ed25519.PrivateKeySize)
	}
	maxStreams := cfg.MaxStreams
	if maxStreams == 0 {
		maxStreams = DefaultMaxStreams
	}
	if maxStreams < 1 || maxStreams > 65535 {
		return nil, fmt.Errorf("listen onion: bad stream limit %d", maxStreams)
	}
	local, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen onion: %w", err)
	}
	cmd := "ADD_ONION "
	if cfg.Key != nil {
		cmd += "ED25519-V3:" + base64.StdEncoding.EncodeToString(expandedKey(cfg.Key))
	} else {
		cmd += "NEW:ED25519-V3"
	}
	// A circuit that opens more streams than maxStreams is torn down, so a
	// client cannot make tor hold unbounded streams on one circuit.
	flags := []string{"MaxStreamsCloseCircuit"}
	if cfg.Key == nil {
		flags = append(flags, "DiscardPK")
	}
	if len(cfg.ClientAuth) > 0 {
		flags = append(flags, "V3Auth")
	}
	cmd += " Flags=" + strings.Join(flags, ",")
	cmd += " MaxStreams=" + strconv.Itoa(maxStreams)
	cmd += " Port=" + strconv.Itoa(port) + "," + local.Addr().String()
	for _, pub := range cfg.ClientAuth {
		cmd += " ClientAuthV3=" + pub.String()
	}

	// Subscribe before ADD_ONION: the upload may finish before it returns.
	events, unsubscribe := t.subscribe()
	defer unsubscribe()
	resp, err := t.request("%s", cmd)
	if err != nil {
		local.Close()
		return nil, fmt.Errorf("listen onion: add_onion: %w", err)
	}
	id := ""
	for _, d := range resp.Data {
		if v, ok := strings.CutPrefix(d, "ServiceID="); ok {
			id = v
		}
	}
	if _, err := parseHost(id + onionSuffix); err != nil {
		local.Close()
		return nil, fmt.Errorf("listen onion: tor returned a bad service id: %w", err)
	}
	l := &listener{t: t, Listener: local, id: id, addr: id + onionSuffix + ":" + strconv.Itoa(port)}
	if cfg.Key != nil {
		if want := serviceID(cfg.Key.Public().(ed25519.PublicKey)); want != id {
			l.Close()
			return nil, fmt.Errorf("listen onion: tor derived another address from our key")
		}
	}
	publish := cfg.PublishTimeout
	if publish <= 0 {
		publish = DefaultPublishTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, publish)
	defer cancel()
	if err := t.waitUploaded(wctx, events, id); err != nil {
		l.Close()
		return nil, fmt.Errorf("listen onion: %w", err)
	}
	t.log.Info("onion service published", "port", port, "clientAuth", len(cfg.ClientAuth))
	return l, nil
}

// waitUploaded waits until tor has uploaded the descriptor of id: every
// upload tor started has ended and at least one succeeded, or 5 s have
// passed since the first success. Clients pick among several directories, so
// returning at the first success would leave some of them without it.
func (t *Tor) waitUploaded(ctx context.Context, events <-chan control.Event, id string) error {
	var failures []string
	started, uploaded, failed := 0, 0, 0
	var grace <-chan time.Time
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return errors.New("lost the tor control connection while publishing")
			}
			hs, isHS := ev.(*control.HSDescEvent)
			if !isHS || hs.Address != id {
				continue
			}
			switch hs.Action {
			case "UPLOAD":
				started++
			case "UPLOADED":
				uploaded++
				if grace == nil {
					grace = time.After(5 * time.Second)
				}
			case "FAILED":
				// Tor retries on its own; keep the reasons for the error.
				failed++
				if len(failures) < 5 {
					failures = append(failures, hs.Reason)
				}
			}
			if uploaded > 0 && uploaded+failed >= started {
				return nil
			}
		case <-grace:
			return nil
		case <-t.procDoneChan():
			return fmt.Errorf("tor exited while publishing%s", t.exitNote())
		case <-ctx.Done():
			if len(failures) > 0 {
				return fmt.Errorf("descriptor not uploaded (failures: %s): %w", strings.Join(failures, ", "), ctx.Err())
			}
			return fmt.Errorf("descriptor not uploaded: %w", ctx.Err())
		}
	}
}

// listener is a published onion service.
type listener struct {
	net.Listener
	t        *Tor
	id, addr string
	once     sync.Once
	err      error
}

func (l *listener) Address() string { return l.addr }

// Accept returns the next connection tor made to the service, with a small
// send buffer (see sendBuffer).
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	limitSendBuffer(c)
	return c, nil
}

// Addr returns the onion address (network "onion").
func (l *listener) Addr() net.Addr { return onionAddr(l.addr) }

// Close removes the service from tor and stops accepting.
func (l *listener) Close() error {
	l.once.Do(func() {
		_, err := l.t.request("DEL_ONION %s", l.id)
		if err != nil && !l.t.isClosed() {
			l.err = fmt.Errorf("close onion: del_onion: %w", err)
		}
		if err := l.Listener.Close(); err != nil && l.err == nil {
			l.err = fmt.Errorf("close onion: %w", err)
		}
	})
	return l.err
}

func (t *Tor) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

type onionAddr string

func (a onionAddr) Network() string { return "onion" }
func (a onionAddr) String() string  { return string(a) }
