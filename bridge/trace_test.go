package bridge

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// wireProxy is a loopback TCP proxy put between the bridge and a peer. It
// parses what the bridge sends, independently of the bridge's own filter.
type wireProxy struct {
	l      net.Listener
	target string

	mu       sync.Mutex
	types    map[byte]int
	peerIDs  []string
	reserved [][8]byte
	extHS    []map[string]any
	conns    int
	wg       sync.WaitGroup
}

func startWireProxy(t *testing.T, target string) *wireProxy {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &wireProxy{l: l, target: target, types: map[byte]int{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.relay(c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		p.wg.Wait()
	})
	return p
}

func (p *wireProxy) addr() string { return p.l.Addr().String() }

func (p *wireProxy) relay(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp4", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	p.mu.Lock()
	p.conns++
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		io.Copy(c, s)
		c.Close()
		close(done)
	}()
	p.parse(io.TeeReader(c, s))
	s.Close()
	<-done
}

func (p *wireProxy) parse(r io.Reader) {
	var hs [68]byte
	if _, err := io.ReadFull(r, hs[:]); err != nil {
		return
	}
	p.mu.Lock()
	p.peerIDs = append(p.peerIDs, string(hs[48:68]))
	p.reserved = append(p.reserved, [8]byte(hs[20:28]))
	p.mu.Unlock()
	var lb [4]byte
	for {
		if _, err := io.ReadFull(r, lb[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(lb[:])
		if n == 0 {
			continue
		}
		if n > 1<<24 {
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(r, msg); err != nil {
			return
		}
		p.mu.Lock()
		p.types[msg[0]]++
		if msg[0] == msgExtended && len(msg) > 2 && msg[1] == 0 {
			var d map[string]any
			if bencode.Unmarshal(msg[2:], &d) == nil {
				p.extHS = append(p.extHS, d)
			}
		}
		p.mu.Unlock()
	}
}

func (p *wireProxy) count(typ byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.types[typ]
}

// listeningInodes returns the inodes of this process's TCP sockets in
// LISTEN state, as a port scan of the machine would find them.
func listeningInodes(t *testing.T) map[string]string {
	t.Helper()
	mine := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, fd := range fds {
		l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			mine[strings.Trim(l[len("socket:"):], "[]")] = true
		}
	}
	out := map[string]string{}
	for _, f := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[3] != "0A" { // 0A: TCP_LISTEN
				continue
			}
			if mine[fs[9]] {
				out[fs[9]] = fmt.Sprintf("%s %s", filepath.Base(f), fs[1])
			}
		}
	}
	return out
}
