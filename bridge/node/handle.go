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
// connection, read, answered, closed.

func (n *Node) handle(ctx context.Context, c net.Conn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReaderSize(io.LimitReader(c, maxRequestLine), maxRequestLine).ReadString('\n')
	if err != nil {
		fmt.Fprintf(c, "error bad request\n")
		return
	}
	c.SetReadDeadline(time.Time{})
	magnet, ok := strings.CutPrefix(strings.TrimSpace(line), strings.TrimSpace(protoPrefix)+" ")
	if rest, stream := strings.CutPrefix(magnet, "stream "); ok && stream {
		n.handleStream(ctx, c, rest)
		return
	}
	if !ok || !strings.HasPrefix(magnet, "magnet:") {
		fmt.Fprintf(c, "error want a magnet link\n")
		return
	}
	m, err := metainfo.ParseMagnetUri(magnet)
	if err != nil {
		fmt.Fprintf(c, "error bad magnet link\n")
		return
	}
	files, err := n.fetch(ctx, m, func(done, size int64) error {
		_, err := fmt.Fprintf(c, "wait %d %d\n", done, size)
		return err
	})
	if err != nil {
		n.log.Info("bridge request failed", "info_hash", m.InfoHash.HexString(), "err", err)
		fmt.Fprintf(c, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	writeAnswer(c, files)
}

// handleStream serves "stream <first piece> <magnet>": the info dictionary,
// then the data from that piece on as the node verifies it, then the answer.
func (n *Node) handleStream(ctx context.Context, c net.Conn, req string) {
	first, magnet, _ := strings.Cut(req, " ")
	start, err := strconv.Atoi(first)
	if err != nil || start < 0 || !strings.HasPrefix(magnet, "magnet:") {
		fmt.Fprintf(c, "error bad stream request\n")
		return
	}
	m, err := metainfo.ParseMagnetUri(magnet)
	if err != nil {
		fmt.Fprintf(c, "error bad magnet link\n")
		return
	}
	files, call := n.startFetch(ctx, m)
	// Join the leech (or re-open the finished torrent from the metadata
	// cache and the data on disk) for as long as this stream lasts.
	t, err := n.client.Add(ctx, "magnet:?xt=urn:btih:"+m.InfoHash.HexString())
	if err != nil {
		fmt.Fprintf(c, "error %s\n", err)
		return
	}
	defer t.Drop()
	t.AddPeers(n.cfg.Peers...) // checked by NewNode
	if err := t.WaitInfo(ctx); err != nil {
		fmt.Fprintf(c, "error %s\n", err)
		return
	}
	if start >= t.NumPieces() {
		fmt.Fprintf(c, "error first piece out of range\n")
		return
	}
	info := t.InfoBytes()
	if _, err := fmt.Fprintf(c, "info %d\n", len(info)); err != nil {
		return
	}
	if _, err := c.Write(info); err != nil {
		return
	}
	r := t.NewReader(ctx, 8<<20)
	defer r.Close()
	off := int64(start) * t.PieceLength()
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		return
	}
	if _, err := io.CopyN(c, r, t.Length()-off); err != nil {
		return
	}
	if call != nil {
		select {
		case <-call.done:
			files, err = call.files, call.err
		case <-ctx.Done():
			return
		}
	}
	if err != nil {
		fmt.Fprintf(c, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	writeAnswer(c, files)
}
