package swarm

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
)

// ErrBusy is returned by ReadState when a running engine holds the database.
var ErrBusy = errors.New("the node's database is in use by a running hydre")

// ReadState lists the contents stored in dataDir without starting an engine
// or touching the network (for "hydre ls"). States are what a restart would
// resume: paused, seeding, done, or stopped for an incomplete download.
func ReadState(dataDir string) ([]Status, error) {
	path := filepath.Join(dataDir, "hydre.db")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("read state: %w", err)
	}
	defer b.Close()
	d := &db{b: b}
	recs, err := d.records()
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var out []Status
	created := map[hcrypto.ContentID]time.Time{}
	for id, r := range recs {
		created[id] = r.Created
		out = append(out, d.offlineStatus(id, r))
	}
	slices.SortFunc(out, func(a, b Status) int { return created[a.ID].Compare(created[b.ID]) })
	return out, nil
}

func (d *db) offlineStatus(id hcrypto.ContentID, r *record) Status {
	s := Status{ID: id, Kind: r.Kind, Path: r.Path, Reshare: r.Reshare, Growing: r.growing(), Limits: r.Limits,
		Once: r.Once, StopAt: r.StopAt, Ended: r.Ended}
	if r.Kind == KindDownload && !r.Complete {
		s.Path = r.PartPath
	}
	l := hcrypto.Link{ID: id, Secret: r.swarmSecret()}
	if len(r.Key) == 32 {
		k := hcrypto.Key(r.Key)
		l.Key = &k
	}
	if len(r.ClientKey) == 32 {
		var ck [32]byte
		copy(ck[:], r.ClientKey)
		l.ClientKey = &ck
	}
	d.b.View(func(tx *bolt.Tx) error {
		if seed := tx.Bucket(bucketIdentities).Get(id[:]); len(seed) == ed25519.SeedSize && r.Reshare {
			l.Peers = append(l.Peers, onion.AddressForKey(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey), 0))
		}
		return nil
	})
	for _, p := range r.Peers {
		if len(l.Peers) < 4 {
			l.Peers = append(l.Peers, p)
		}
	}
	s.Link = l.Encode()
	if r.Descriptor != nil {
		if desc, err := hcrypto.UnmarshalDescriptor(r.Descriptor, id); err == nil {
			s.Size = desc.Size
			var h hcrypto.Header
			if l.Key != nil {
				if h, err = desc.OpenHeader(*l.Key); err == nil {
					s.Name, s.MediaType = h.Name, h.MediaType
				}
			}
			bits, _, _ := d.loadProgress(id)
			s.Collection, s.Files = h.Collection(), offlineFiles(r, h, desc, bits)
			for i := range desc.NumChunks() {
				if r.Kind == KindShare && !r.growing() || bitmap(bits).get(i) {
					_, n := desc.PlainRange(i)
					s.Verified += int64(n)
				}
			}
		}
	}
	switch {
	case r.Paused:
		s.State = StatePaused
	case r.Complete && r.Reshare:
		s.State = StateSeeding
	case r.Complete:
		s.State = StateDone
	default:
		s.State = StateStopped
	}
	return s
}
