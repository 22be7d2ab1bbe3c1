package bridge

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"sync/atomic"
	"time"
)

func TestDebugStall(t *testing.T) {
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	const size = 40<<20 + 777
	writePayload(t, filepath.Join(seedDir, "big.bin"), size, 2)
	tf := filepath.Join(dir, "big.torrent")
	makeTorrent(t, filepath.Join(seedDir, "big.bin"), tf, "", 18)
	port := freePort(t)
	trd := startTransmission(t, filepath.Join(dir, "tr"), port)
	trd.add(t, tf, seedDir)
	trd.waitField(t, 60*time.Second, "Percent Done", func(v string) bool { return v == "100%" })
	c := newTestClient(t, Config{StallTimeout: time.Hour})
	var bt *Torrent
	start := time.Now()
	var reqs, pieces, cancels atomic.Int64
	c.wire.trace = func(remote string, dir byte, typ byte) {
		switch {
		case dir == '>' && typ == msgRequest:
			reqs.Add(1)
		case dir == '<' && typ == msgPiece:
			pieces.Add(1)
		case dir == '>' && typ == msgCancel:
			cancels.Add(1)
		}
		if typ == msgReject || typ == msgChoke || typ == msgUnchoke || typ == msgInterested || typ == msgNotInterested || typ == msgCancel {
			fmt.Printf("%v %s %c type %d completed %d in %d\n", time.Since(start).Round(time.Millisecond), remote, dir, typ, bt.BytesCompleted(), c.wire.pieceBytesIn.Load())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	bt, _ = c.Add(ctx, tf)
	bt.AddPeers(fmt.Sprintf("127.0.0.1:%d", port))
	for ctx.Err() == nil && bt.BytesCompleted() < size {
		time.Sleep(time.Second)
		fmt.Printf("%v completed %d in %d reqs %d pieces %d cancels %d\n", time.Since(start).Round(time.Second), bt.BytesCompleted(), c.wire.pieceBytesIn.Load(), reqs.Load(), pieces.Load(), cancels.Load())
	}
}
