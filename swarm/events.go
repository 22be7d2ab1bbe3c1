package swarm

import (
	"sync"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// publishInterval throttles progress events per content; state changes are
// never throttled.
const publishInterval = 250 * time.Millisecond

// bus fans events out to subscribers. Each subscriber keeps only the latest
// status of each content until it reads it, so a slow reader loses
// intermediate progress but never the last state.
type bus struct {
	mu   sync.Mutex
	subs map[*subscriber]bool
	last map[hcrypto.ContentID]published
	wg   sync.WaitGroup
}

type published struct {
	at        time.Time
	state     State
	peers     int
	conns     int
	reachable bool
}

type subscriber struct {
	mu      sync.Mutex
	pending map[hcrypto.ContentID]Status
	order   []hcrypto.ContentID
	notify  chan struct{}
	out     chan Event
	done    chan struct{}
	once    sync.Once
}

func newBus() *bus {
	return &bus{subs: map[*subscriber]bool{}, last: map[hcrypto.ContentID]published{}}
}

// publish delivers st unless it is progress within publishInterval of the
// previous event of the same content.
func (b *bus) publish(st Status, force bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	prev, seen := b.last[st.ID]
	now := time.Now()
	if seen && !force && prev.state == st.State && prev.peers == st.Peers && prev.conns == st.Connections && prev.reachable == st.Reachable &&
		now.Sub(prev.at) < publishInterval {
		return
	}
	b.last[st.ID] = published{at: now, state: st.State, peers: st.Peers, conns: st.Connections, reachable: st.Reachable}
	for s := range b.subs {
		s.push(st)
	}
}

func (s *subscriber) push(st Status) {
	s.mu.Lock()
	if _, ok := s.pending[st.ID]; !ok {
		s.order = append(s.order, st.ID)
	}
	s.pending[st.ID] = st
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (b *bus) subscribe() (<-chan Event, func()) {
	s := &subscriber{pending: map[hcrypto.ContentID]Status{}, notify: make(chan struct{}, 1),
		out: make(chan Event, 16), done: make(chan struct{})}
	b.mu.Lock()
	b.subs[s] = true
	b.mu.Unlock()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer close(s.out)
		s.forward()
	}()
	cancel := func() {
		b.mu.Lock()
		delete(b.subs, s)
		b.mu.Unlock()
		s.once.Do(func() { close(s.done) })
	}
	return s.out, cancel
}

// forward moves pending statuses to the channel, oldest content first.
// When the subscription ends, what is still pending goes into the
// channel's buffer, as far as it has room (a reader that stopped reading
// never blocks the end), so that the last states before a Close (a pause,
// say) still reach a reader that drains the channel.
func (s *subscriber) forward() {
	for {
		ev, has := s.next()
		if !has {
			select {
			case <-s.notify:
				continue
			case <-s.done:
				s.flush()
				return
			}
		}
		select {
		case s.out <- ev:
		case <-s.done:
			select {
			case s.out <- ev:
				s.flush()
			default:
			}
			return
		}
	}
}

// next takes the oldest pending status.
func (s *subscriber) next() (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.order) == 0 {
		return Event{}, false
	}
	id := s.order[0]
	s.order = s.order[1:]
	ev := Event{Status: s.pending[id]}
	delete(s.pending, id)
	return ev, true
}

// flush puts pending statuses into the channel's free buffer.
func (s *subscriber) flush() {
	for {
		ev, has := s.next()
		if !has {
			return
		}
		select {
		case s.out <- ev:
		default:
			return
		}
	}
}

// close ends every subscription and waits for the forwarders.
func (b *bus) close() {
	b.mu.Lock()
	for s := range b.subs {
		s.once.Do(func() { close(s.done) })
	}
	b.subs = map[*subscriber]bool{}
	b.mu.Unlock()
	b.wg.Wait()
}
