// Package memnet is an in-memory onion.Transport for tests: nodes publish
// services at addresses derived from their keys exactly as tor derives them,
// and dial each other over links with configurable latency, bandwidth and
// failure injection. Closing a node drops its listeners and connections at
// once, like a peer vanishing from the network.
//
// It is imported only by _test.go files.
package memnet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/hydre-p2p/hydre/onion"
)

// linkConfig shapes the connections of a node or a network.
type linkConfig struct {
	latency   time.Duration
	bandwidth int64   // bytes/s per direction; 0 unlimited
	failRate  float64 // probability that a 16 KiB segment breaks the connection
	uplink    int64   // bytes/s a node sends over all its connections; 0 unlimited
}

// pacer is a node's uplink, shared by all its connections.
type pacer struct {
	mu   sync.Mutex
	rate int64
	next time.Time
}

// reserve returns when k bytes finish leaving the node.
func (p *pacer) reserve(k int) time.Time {
	now := time.Now()
	if p == nil || p.rate <= 0 {
		return now
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next.Before(now) {
		p.next = now
	}
	p.next = p.next.Add(time.Duration(int64(k) * int64(time.Second) / p.rate))
	return p.next
}

// combine returns the shape of a link between two endpoints: the worse of both.
func combine(a, b linkConfig) linkConfig {
	l := linkConfig{latency: max(a.latency, b.latency), failRate: max(a.failRate, b.failRate)}
	switch {
	case a.bandwidth == 0:
		l.bandwidth = b.bandwidth
	case b.bandwidth == 0:
		l.bandwidth = a.bandwidth
	default:
		l.bandwidth = min(a.bandwidth, b.bandwidth)
	}
	return l
}

// Option configures a Network (defaults of every link) or a Node (its own
// links, combined with the far end's: the slower wins).
type Option func(*linkConfig)

// WithLatency delays every byte by d, one way.
func WithLatency(d time.Duration) Option { return func(l *linkConfig) { l.latency = d } }

// WithBandwidth limits each direction of a connection to bytesPerSec (0: unlimited).
func WithBandwidth(bytesPerSec int64) Option {
	return func(l *linkConfig) { l.bandwidth = bytesPerSec }
}

// WithUplink limits what a node sends over all its connections together to
// bytesPerSec (a home connection's upload); only meaningful for a Node.
func WithUplink(bytesPerSec int64) Option { return func(l *linkConfig) { l.uplink = bytesPerSec } }

// WithFailureRate breaks a connection, for each 16 KiB written, with
// probability p (a circuit dying mid-transfer).
func WithFailureRate(p float64) Option { return func(l *linkConfig) { l.failRate = p } }

// Network is a set of nodes that can reach each other's services.
type Network struct {
	mu       sync.Mutex
	link     linkConfig
	services map[string]*listener // by "<host>:port"
	nodes    map[string]*Node
}

// New returns an empty network whose links have the given shape.
func New(opts ...Option) *Network {
	n := &Network{services: map[string]*listener{}, nodes: map[string]*Node{}}
	for _, o := range opts {
		o(&n.link)
	}
	return n
}

// Node returns the node called name, creating it on first use.
func (n *Network) Node(name string, opts ...Option) *Node {
	n.mu.Lock()
	defer n.mu.Unlock()
	if nd, ok := n.nodes[name]; ok {
		return nd
	}
	nd := &Node{net: n, name: name, conns: map[*conn]struct{}{}, isolation: map[string]int{}}
	for _, o := range opts {
		o(&nd.link)
	}
	nd.up = &pacer{rate: nd.link.uplink}
	n.nodes[name] = nd
	return nd
}

// Node is one participant; it implements onion.Transport.
type Node struct {
	net  *Network
	name string

	mu        sync.Mutex
	link      linkConfig
	up        *pacer
	closed    bool
	listeners []*listener
	conns     map[*conn]struct{}
	dials     int
	isolation map[string]int // dials per isolation tag
	done      chan struct{}  // closed by Lose
	lostErr   error
}

var _ onion.Transport = (*Node)(nil)

// SetLink changes the shape of the node's future connections.
func (nd *Node) SetLink(opts ...Option) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	for _, o := range opts {
		o(&nd.link)
	}
}

// Dials returns how many successful dials the node made.
func (nd *Node) Dials() int {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.dials
}

// IsolationTags returns the distinct isolation tags of the node's dials.
func (nd *Node) IsolationTags() []string {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	var tags []string
	for t := range nd.isolation {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	return tags
}

// Listen publishes a service at the address of cfg.Key (fresh if nil).
func (nd *Node) Listen(ctx context.Context, cfg onion.ServiceConfig) (onion.Listener, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := cfg.Key
	if key == nil {
		var err error
		if _, key, err = ed25519.GenerateKey(nil); err != nil {
			return nil, fmt.Errorf("memnet listen: %w", err)
		}
	}
	addr := onion.AddressForKey(key.Public().(ed25519.PublicKey), cfg.Port)
	l := &listener{node: nd, addr: addr, accept: make(chan *conn), done: make(chan struct{}),
		auth: slices.Clone(cfg.ClientAuth)}
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.closed {
		return nil, fmt.Errorf("memnet listen: node %s closed", nd.name)
	}
	nd.net.mu.Lock()
	defer nd.net.mu.Unlock()
	if _, dup := nd.net.services[addr]; dup {
		return nil, fmt.Errorf("memnet listen: %s already published", addr)
	}
	nd.net.services[addr] = l
	nd.listeners = append(nd.listeners, l)
	return l, nil
}

// Dial connects to a service; addr must be a valid v3 onion address.
func (nd *Node) Dial(ctx context.Context, addr string, opt onion.DialOptions) (net.Conn, error) {
	host, port, err := onion.ParseAddress(addr)
	if err != nil {
		return nil, fmt.Errorf("memnet dial: %w", err)
	}
	addr = net.JoinHostPort(host, fmt.Sprint(port))
	nd.net.mu.Lock()
	l := nd.net.services[addr]
	nd.net.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("memnet dial %s: no such service", addr)
	}
	if len(l.auth) > 0 && (opt.ClientKey == nil || !slices.Contains(l.auth, opt.ClientKey.Public())) {
		return nil, fmt.Errorf("memnet dial %s: %w", addr, onion.ErrClientAuth)
	}
	nd.mu.Lock()
	if nd.closed {
		nd.mu.Unlock()
		return nil, fmt.Errorf("memnet dial: node %s closed", nd.name)
	}
	mine := nd.link
	nd.mu.Unlock()
	l.node.mu.Lock()
	shape := combine(combine(mine, l.node.link), nd.net.link)
	l.node.mu.Unlock()

	a2b, b2a := newPipe(shape), newPipe(shape)
	a2b.up, b2a.up = nd.up, l.node.up
	local := &conn{r: b2a, w: a2b, laddr: memAddr("client." + nd.name), raddr: memAddr(addr)}
	remote := &conn{r: a2b, w: b2a, laddr: memAddr(addr), raddr: memAddr("client")}
	local.peer, remote.peer = remote, local
	if !nd.track(local) {
		return nil, fmt.Errorf("memnet dial: node %s closed", nd.name)
	}
	if !l.node.track(remote) {
		local.Close()
		return nil, fmt.Errorf("memnet dial %s: no such service", addr)
	}
	select {
	case l.accept <- remote:
	case <-l.done:
		local.Close()
		remote.Close()
		return nil, fmt.Errorf("memnet dial %s: service gone", addr)
	case <-ctx.Done():
		local.Close()
		remote.Close()
		return nil, ctx.Err()
	}
	nd.mu.Lock()
	nd.dials++
	nd.isolation[opt.Isolation]++
	nd.mu.Unlock()
	return local, nil
}

func (nd *Node) track(c *conn) bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.closed {
		return false
	}
	nd.conns[c] = struct{}{}
	c.node = nd
	return true
}

func (nd *Node) untrack(c *conn) {
	nd.mu.Lock()
	delete(nd.conns, c)
	nd.mu.Unlock()
}

// Close drops the node from the network: its services disappear and every
// connection to or from it is reset.
func (nd *Node) Close() {
	nd.mu.Lock()
	nd.closed = true
	ls := nd.listeners
	nd.listeners = nil
	var cs []*conn
	for c := range nd.conns {
		cs = append(cs, c)
	}
	nd.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	for _, c := range cs {
		c.reset()
	}
}

// Reopen lets a closed node listen and dial again (a restarted process).
func (nd *Node) Reopen() {
	nd.mu.Lock()
	nd.closed = false
	if nd.done != nil && isClosed(nd.done) {
		nd.done, nd.lostErr = nil, nil
	}
	nd.mu.Unlock()
}

// Done is closed once Lose is called, as a tor's when it goes away (see
// onion.Tor.Done); Reopen gives a new one.
func (nd *Node) Done() <-chan struct{} {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.done == nil {
		nd.done = make(chan struct{})
	}
	return nd.done
}

// Err returns the error given to Lose.
func (nd *Node) Err() error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.lostErr
}

// Lose makes the node report that it went away with err (Done, Err), as a
// tor that exits; err nil stands for a Close on purpose.
func (nd *Node) Lose(err error) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.done == nil {
		nd.done = make(chan struct{})
	}
	if !isClosed(nd.done) {
		nd.lostErr = err
		close(nd.done)
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

type memAddr string

func (a memAddr) Network() string { return "onion" }
func (a memAddr) String() string  { return string(a) }

type listener struct {
	node   *Node
	addr   string
	auth   []onion.ClientPublicKey
	accept chan *conn
	once   sync.Once
	done   chan struct{}
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.accept:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.node.net.mu.Lock()
		if l.node.net.services[l.addr] == l {
			delete(l.node.net.services, l.addr)
		}
		l.node.net.mu.Unlock()
	})
	return nil
}

func (l *listener) Addr() net.Addr  { return memAddr(l.addr) }
func (l *listener) Address() string { return l.addr }

type conn struct {
	r, w         *pipe
	laddr, raddr memAddr
	peer         *conn
	node         *Node
	once         sync.Once
}

func (c *conn) Read(b []byte) (int, error) { return c.r.read(b) }

func (c *conn) Write(b []byte) (int, error) {
	fr := c.w.link.failRate
	n, err := c.w.write(b, func() bool { return fr > 0 && rand.Float64() < fr })
	if errors.Is(err, errReset) {
		c.reset()
	}
	return n, err
}

// Close ends our side: the peer reads EOF after what was already sent.
func (c *conn) Close() error {
	c.once.Do(func() {
		c.w.set(func(p *pipe) { p.eof = true })
		c.r.set(func(p *pipe) { p.rclosed, p.segs, p.buffered = true, nil, 0 }) // nobody reads them now
		if c.node != nil {
			c.node.untrack(c)
		}
	})
	return nil
}

// reset breaks both directions at once.
func (c *conn) reset() {
	for _, p := range []*pipe{c.r, c.w} {
		p.set(func(p *pipe) {
			if p.err == nil {
				p.err = errReset
			}
			p.segs, p.buffered = nil, 0 // a broken pipe delivers nothing more
		})
	}
	c.Close()
	c.peer.Close()
}

func (c *conn) LocalAddr() net.Addr  { return c.laddr }
func (c *conn) RemoteAddr() net.Addr { return c.raddr }

func (c *conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.r.set(func(p *pipe) { p.rdl = t })
	return nil
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	c.w.set(func(p *pipe) { p.wdl = t })
	return nil
}
