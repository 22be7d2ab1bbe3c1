package gui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// instanceSocket is the Unix socket, in the data directory, through which a
// second start of the app (a hydre: link clicked while it runs) hands its
// links to the running one instead of fighting it for the engine's files.
const instanceSocket = "gui.sock"

// Limits of what a later instance may hand over.
const (
	maxHandOff     = 64 << 10
	maxHandOffLine = 8 << 10
)

// HandOff passes links to an app already running on dataDir and reports
// whether one took them. With no links it still brings the running window
// forward. No running app is not an error: the caller then starts one.
func HandOff(ctx context.Context, dataDir string, links []string) (bool, error) {
	path := filepath.Join(dataDir, instanceSocket)
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return false, nil
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	var b strings.Builder
	for _, l := range links {
		b.WriteString(strings.TrimSpace(l))
		b.WriteByte('\n')
	}
	b.WriteString("\n") // an empty line ends the list
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return false, fmt.Errorf("hand the links to the running app: %w", err)
	}
	ack, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || strings.TrimSpace(ack) != "ok" {
		return false, fmt.Errorf("hand the links to the running app: no answer")
	}
	return true, nil
}

// listenInstance takes links from later starts of the app until the app
// stops. A stale socket of an app that died is replaced.
func (u *UI) listenInstance() {
	path := filepath.Join(u.opt.DataDir, instanceSocket)
	if len(path) >= 100 { // sun_path holds about 108 bytes
		u.log.Info("gui: data directory path too long for the single-instance socket")
		return
	}
	if taken, _ := HandOff(u.ctx, u.opt.DataDir, nil); taken {
		u.log.Warn("gui: another app runs on this data directory")
		return
	}
	os.Remove(path)
	var lc net.ListenConfig
	ln, err := lc.Listen(u.ctx, "unix", path)
	if err != nil {
		u.log.Warn("gui: single-instance socket", "err", err)
		return
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return
	}
	u.goOwned(func() {
		<-u.ctx.Done()
		ln.Close()
	})
	for {
		conn, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				u.log.Warn("gui: single-instance socket", "err", err)
			}
			os.Remove(path)
			return
		}
		links := readHandOff(conn)
		fmt.Fprintln(conn, "ok")
		conn.Close()
		u.do(func() {
			u.win.Show()
			u.win.RequestFocus()
			for _, l := range links {
				u.pasteLink(l)
			}
		})
	}
}

// readHandOff reads the links a later instance sends: one a line, ended by
// an empty line, bounded in size; lines that are not links are dropped.
func readHandOff(conn net.Conn) []string {
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	sc := bufio.NewScanner(io.LimitReader(conn, maxHandOff))
	sc.Buffer(make([]byte, 0, 1024), maxHandOffLine)
	var links []string
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" {
			break
		}
		low := strings.ToLower(l)
		if strings.HasPrefix(low, "hydre:") || strings.HasPrefix(low, "magnet:") {
			links = append(links, l)
		}
	}
	return links
}
