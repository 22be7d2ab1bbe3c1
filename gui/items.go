package gui

import (
	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// listKind selects the contents of one screen.
type listKind int

const (
	kindShare    listKind = iota // shares, blind-hosted contents, re-shared downloads
	kindDownload                 // downloads
)

// onScreen reports whether the screen of kind k lists st. A download this
// node re-shares is on both screens: it is served like a share.
func onScreen(st swarm.Status, k listKind) bool {
	if st.Kind == swarm.KindDownload {
		return k == kindDownload || k == kindShare && resharing(st)
	}
	return k == kindShare
}

// resharing reports whether st is a finished download that this node
// serves to others.
func resharing(st swarm.Status) bool {
	return st.Kind == swarm.KindDownload && st.Reshare && st.State == swarm.StateSeeding
}

// itemStore holds the latest status of every content, in the order they
// appeared. UI thread only.
type itemStore struct {
	byID  map[hcrypto.ContentID]swarm.Status
	order []hcrypto.ContentID
	// gone holds removed contents, whose late events are ignored until the
	// person shares or fetches them again (revive).
	gone map[hcrypto.ContentID]bool
}

func newItemStore() *itemStore {
	return &itemStore{byID: map[hcrypto.ContentID]swarm.Status{}, gone: map[hcrypto.ContentID]bool{}}
}

// revive accepts events of a removed content again.
func (s *itemStore) revive(id hcrypto.ContentID) { delete(s.gone, id) }

func (s *itemStore) get(id hcrypto.ContentID) (swarm.Status, bool) {
	st, ok := s.byID[id]
	return st, ok
}

func (s *itemStore) put(st swarm.Status) {
	if s.gone[st.ID] {
		return
	}
	if _, ok := s.byID[st.ID]; !ok {
		s.order = append(s.order, st.ID)
	}
	s.byID[st.ID] = st
}

func (s *itemStore) remove(id hcrypto.ContentID) {
	s.gone[id] = true
	if _, ok := s.byID[id]; !ok {
		return
	}
	delete(s.byID, id)
	for i, v := range s.order {
		if v == id {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// list returns the contents of one screen, newest first.
func (s *itemStore) list(k listKind) []swarm.Status {
	var out []swarm.Status
	for i := len(s.order) - 1; i >= 0; i-- {
		st := s.byID[s.order[i]]
		if onScreen(st, k) {
			out = append(out, st)
		}
	}
	return out
}
