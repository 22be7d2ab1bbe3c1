package node

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/anacrolix/torrent/metainfo"
)

// The server's side of the line protocol (doc.go): one request per
// connection, read, answered, closed. Nothing a requester does holds a
// slot for long: the request line has 30 s, every write has
// Config.WriteTimeout, the metadata Config.MetadataTimeout, and a
// requester that closes its connection ends its request at once (and the
// fetch, if no one else waits on it and no link went out).

// requestLineTimeout bounds the wait for the request line.
const requestLineTimeout = 30 * time.Second

func (n *Node) handle(ctx context.Context, c net.Conn) {
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(reqCtx, func() { c.Close() })
	defer stop()
	c.SetReadDeadline(time.Now().Add(requestLineTimeout))
	br := bufio.NewReaderSize(io.LimitReader(c, maxRequestLine), maxRequestLine)
	line, err := br.ReadString('\n')
	w := &deadlineWriter{c: c, timeout: n.cfg.WriteTimeout}
	if err != nil {
		fmt.Fprintf(w, "error bad request\n")
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	// A requester sends nothing after its line: a read returns only when
	// it leaves (or breaks the protocol), which ends the request.
	left := make(chan struct{})
	go func() {
		defer close(left)
		c.Read(make([]byte, 1))
		cancel()
	}()
	defer func() {
		c.Close()
		<-left
	}()
	magnet, ok := strings.CutPrefix(strings.TrimSpace(line), strings.TrimSpace(protoPrefix)+" ")
	if rest, stream := strings.CutPrefix(magnet, "stream "); ok && stream {
		n.handleStream(ctx, reqCtx, w, rest)
		return
	}
	if !ok || !strings.HasPrefix(magnet, "magnet:") {
		fmt.Fprintf(w, "error want a magnet link\n")
		return
	}
	m, ok := parseMagnet(w, magnet)
	if !ok {
		return
	}
	files, err := n.fetch(ctx, reqCtx, m, func(done, size int64) error {
		_, err := fmt.Fprintf(w, "wait %d %d\n", done, size)
		return err
	})
	if err != nil {
		n.log.Info("bridge request failed", "info_hash", m.InfoHash.HexString(), "err", err)
		writeError(w, err)
		return
	}
	writeAnswer(w, files)
}

// handleStream serves "stream <first piece> <magnet>": the info dictionary,
// then the data from that piece on as the node verifies it, then the
// answer. The leech runs under serveCtx; reqCtx ends when the requester
// leaves.
func (n *Node) handleStream(serveCtx, reqCtx context.Context, w io.Writer, req string) {
	first, magnet, _ := strings.Cut(req, " ")
	start, err := strconv.Atoi(first)
	if err != nil || start < 0 || !strings.HasPrefix(magnet, "magnet:") {
		fmt.Fprintf(w, "error bad stream request\n")
		return
	}
	m, ok := parseMagnet(w, magnet)
	if !ok {
		return
	}
	files, call := n.startFetch(serveCtx, m, true)
	defer func() { n.leave(call) }()
	// Join the leech (or re-open the finished torrent from the metadata
	// cache and the data on disk) for as long as this stream lasts.
	t, err := n.client.Add(reqCtx, "magnet:?xt=urn:btih:"+m.InfoHash.HexString())
	if err != nil {
		writeError(w, err)
		return
	}
	defer t.Drop()
	t.AddPeers(n.cfg.Peers...) // checked by New
	if err := n.waitInfo(reqCtx, t); err != nil {
		writeError(w, err)
		return
	}
	if start >= t.NumPieces() {
		fmt.Fprintf(w, "error first piece out of range\n")
		return
	}
	info := t.InfoBytes()
	if _, err := fmt.Fprintf(w, "info %d\n", len(info)); err != nil {
		return
	}
	if _, err := w.Write(info); err != nil {
		return
	}
	r := t.NewReader(reqCtx, 8<<20)
	defer r.Close()
	off := int64(start) * t.PieceLength()
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		return
	}
	if _, err := io.CopyN(w, r, t.Length()-off); err != nil {
		return
	}
	if call != nil {
		select {
		case <-call.done:
			files, err = call.files, call.err
		case <-reqCtx.Done():
			return
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeAnswer(w, files)
}

// writeError sends the "error" line: err's text on one line.
func writeError(w io.Writer, err error) {
	fmt.Fprintf(w, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
}

// deadlineWriter gives each write to a requester its own deadline: a
// reader that takes nothing for timeout fails the write, and the request
// ends instead of holding its slot.
type deadlineWriter struct {
	c       net.Conn
	timeout time.Duration
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.c.SetWriteDeadline(time.Now().Add(d.timeout))
	return d.c.Write(p)
}

// parseMagnet parses the magnet link of a request, or answers that it is
// bad.
func parseMagnet(w io.Writer, magnet string) (metainfo.Magnet, bool) {
	m, err := metainfo.ParseMagnetUri(magnet)
	if err != nil {
		fmt.Fprintf(w, "error bad magnet link\n")
		return m, false
	}
	return m, true
}
