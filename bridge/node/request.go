package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hydre-p2p/hydre/onion"
)

// The requester's side of the line protocol (doc.go).

// ErrUnreachable is wrapped by Request and OpenStream when the node's onion
// service cannot be reached (a fresh service takes seconds to be published:
// callers may retry).
var ErrUnreachable = errors.New("bridge node unreachable")

// Request asks the bridge node at addr for magnet and returns its answer:
// one hydre link per file of the torrent. progress, if not nil, gets the
// node's leech progress (size is 0 until the node has the metadata).
func Request(ctx context.Context, tr onion.Transport, addr, magnet string, progress func(done, size int64)) ([]FileLink, error) {
	if !strings.HasPrefix(magnet, "magnet:") || len(magnet) > maxRequestLine-len(protoPrefix)-1 || strings.ContainsAny(magnet, "\r\n") {
		return nil, errors.New("bridge request: want a magnet link of at most 4 KiB")
	}
	c, err := tr.Dial(ctx, addr, onion.DialOptions{Isolation: "bridge"})
	if err != nil {
		return nil, fmt.Errorf("bridge request: %w: %w", ErrUnreachable, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := fmt.Fprintf(c, "%s%s\n", protoPrefix, magnet); err != nil {
		return nil, fmt.Errorf("bridge request: %w", err)
	}
	r := bufio.NewReaderSize(io.LimitReader(c, 4<<20), maxRequestLine)
	var ans answerReader
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("bridge request: node closed without a complete answer: %w", err)
		}
		files, err := ans.add(line)
		switch {
		case files != nil:
			return files, nil
		case err == nil:
			continue
		case !errors.Is(err, errNotAnswer):
			return nil, fmt.Errorf("bridge request: %w", err)
		}
		word, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		if word != "wait" {
			return nil, errors.New("bridge request: node speaks another protocol")
		}
		a, b, _ := strings.Cut(rest, " ")
		done, err1 := strconv.ParseInt(a, 10, 64)
		size, err2 := strconv.ParseInt(b, 10, 64)
		if err1 == nil && err2 == nil && progress != nil {
			progress(done, size)
		}
	}
}

// RequestRetry is Request, retried for a while when the onion service
// cannot be reached yet (a node's fresh descriptor takes seconds to be
// published): six attempts, 2 s, 4 s, ... 10 s apart.
func RequestRetry(ctx context.Context, tr onion.Transport, addr, magnet string, progress func(done, size int64)) ([]FileLink, error) {
	var lastErr error
	for attempt := 0; attempt < 6; attempt++ {
		files, err := Request(ctx, tr, addr, magnet, progress)
		if err == nil || !errors.Is(err, ErrUnreachable) {
			return files, err
		}
		lastErr = err
		t := time.NewTimer(time.Duration(attempt+1) * 2 * time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return nil, lastErr
}
