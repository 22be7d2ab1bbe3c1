package swarm

import (
	"bytes"
	"context"
	"net"
	"slices"
	"sync"
	"testing"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// fakeSeeder speaks the wire protocol from a test: it serves a sealed
// content honestly or, when corrupt, flips a bit of every chunk it sends (the
// proof stays the genuine one, so only the leaf hash can catch it).
type fakeSeeder struct {
	l       onion.Listener
	sealed  *hcrypto.Sealed
	data    []byte
	corrupt bool
	// unsolicited makes it send a piece nobody asked for right after its
	// bitfield, then behave.
	unsolicited bool
	// fifo makes it queue requests, serve them in order and honour Cancel
	// for those not yet served, as hydre's own uploader does.
	fifo bool

	mu       sync.Mutex
	conns    int
	pieces   int
	byes     []wire.GoodbyeCode
	afterBan int      // connections accepted after a ByeBanned
	sent     []uint32 // pieces written, in order (fifo mode)
	asked    []uint32 // requests received, in order (fifo mode)
	wg       sync.WaitGroup
}

func sealBytes(t *testing.T, name string, data []byte, chunk int) *hcrypto.Sealed {
	t.Helper()
	s, err := hcrypto.Seal(context.Background(), bytes.NewReader(data), hcrypto.Header{Name: name, Size: int64(len(data)), ChunkSize: chunk})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startFakeSeeder(t *testing.T, nd *memnet.Node, sealed *hcrypto.Sealed, data []byte, corrupt bool) *fakeSeeder {
	t.Helper()
	l, err := nd.Listen(context.Background(), onion.ServiceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSeeder{l: l, sealed: sealed, data: data, corrupt: corrupt}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns++
			if len(f.byes) > 0 && f.byes[0] == wire.ByeBanned {
				f.afterBan++
			}
			f.mu.Unlock()
			f.wg.Add(1)
			go func() { defer f.wg.Done(); f.serve(c) }()
		}
	}()
	t.Cleanup(func() { l.Close(); f.wg.Wait() })
	return f
}

func (f *fakeSeeder) link() string {
	return hcrypto.Link{ID: f.sealed.Descriptor.ID(), Key: &f.sealed.Key, Peers: []string{f.l.Address()}}.Encode()
}

func (f *fakeSeeder) serve(c net.Conn) {
	defer c.Close()
	if _, err := wire.ReadFrame(c, 0); err != nil {
		return
	}
	desc, _ := f.sealed.Descriptor.MarshalBinary()
	n := f.sealed.Descriptor.NumChunks()
	all := newBitmap(n)
	for i := range n {
		all.set(i)
	}
	if wire.WriteFrame(c, wire.Welcome{Version: wire.Version, Descriptor: desc}) != nil || wire.WriteFrame(c, wire.Bitfield{Bits: all}) != nil {
		return
	}
	if f.unsolicited {
		ct, proof, _ := f.sealed.ReadChunk(bytes.NewReader(f.data), 0)
		pb, _ := proof.MarshalBinary()
		wire.WriteFrame(c, wire.Piece{Index: 0, Proof: pb, Data: ct})
	}
	if f.fifo {
		f.serveFIFO(c)
		return
	}
	reqs := make(chan uint32, maxRemoteRequests)
	go func() { // a separate reader, so a Goodbye is seen even while writing fails
		defer close(reqs)
		for {
			m, err := wire.ReadFrame(c, 0)
			if err != nil {
				return
			}
			switch m := m.(type) {
			case wire.Goodbye:
				f.mu.Lock()
				f.byes = append(f.byes, m.Code)
				f.mu.Unlock()
				return
			case wire.Request:
				reqs <- m.Index
			}
		}
	}()
	for idx := range reqs {
		ct, proof, err := f.sealed.ReadChunk(bytes.NewReader(f.data), int(idx))
		if err != nil {
			return
		}
		if f.corrupt {
			ct[len(ct)/2] ^= 1
		}
		pb, _ := proof.MarshalBinary()
		f.mu.Lock()
		f.pieces++
		f.mu.Unlock()
		if wire.WriteFrame(c, wire.Piece{Index: idx, Proof: pb, Data: ct}) != nil {
			for range reqs {
			}
			return
		}
	}
}

// serveFIFO serves requests in order from a queue that Cancel edits.
func (f *fakeSeeder) serveFIFO(c net.Conn) {
	var (
		mu    sync.Mutex
		queue []uint32
		wake  = make(chan struct{}, 1)
		gone  = make(chan struct{})
	)
	go func() {
		defer close(gone)
		for {
			m, err := wire.ReadFrame(c, 0)
			if err != nil {
				return
			}
			mu.Lock()
			switch m := m.(type) {
			case wire.Request:
				queue = append(queue, m.Index)
				f.mu.Lock()
				f.asked = append(f.asked, m.Index)
				f.mu.Unlock()
			case wire.Cancel:
				if i := slices.Index(queue, m.Index); i >= 0 {
					queue = slices.Delete(queue, i, i+1)
				}
			}
			mu.Unlock()
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	for {
		mu.Lock()
		var idx uint32
		ok := len(queue) > 0
		if ok {
			idx, queue = queue[0], queue[1:]
		}
		mu.Unlock()
		if !ok {
			select {
			case <-wake:
				continue
			case <-gone:
				return
			}
		}
		ct, proof, err := f.sealed.ReadChunk(bytes.NewReader(f.data), int(idx))
		if err != nil {
			return
		}
		pb, _ := proof.MarshalBinary()
		f.mu.Lock()
		f.pieces++
		f.sent = append(f.sent, idx)
		f.mu.Unlock()
		if wire.WriteFrame(c, wire.Piece{Index: idx, Proof: pb, Data: ct}) != nil {
			return
		}
	}
}

// askedSince returns the requests received since the first n.
func (f *fakeSeeder) askedSince(n int) []uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked[min(n, len(f.asked)):])
}

// sentSince returns the pieces written since the first n.
func (f *fakeSeeder) sentSince(n int) []uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent[min(n, len(f.sent)):])
}

func (f *fakeSeeder) stats() (conns, pieces, afterBan int, byes []wire.GoodbyeCode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns, f.pieces, f.afterBan, append([]wire.GoodbyeCode(nil), f.byes...)
}
