package swarm

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// Buckets of hydre.db. Keys are content IDs (32 bytes).
var (
	bucketContents   = []byte("contents")   // JSON record
	bucketTrees      = []byte("trees")      // crypto.Tree binary
	bucketVerified   = []byte("verified")   // bitmap of chunks verified and synced
	bucketIdentities = []byte("identities") // ed25519 seeds of onion identities
	nodeIdentity     = []byte("node")       // key of the single identity in bucketIdentities
)

// record is what the database holds for one content. Keys are secrets: the
// database file is 0600 and records are never logged.
type record struct {
	Kind       Kind      `json:"kind"`
	Path       string    `json:"path,omitempty"`       // share: source; download: final file
	PartPath   string    `json:"part,omitempty"`       // download: temporary file until complete
	DestDir    string    `json:"dest,omitempty"`       // download: destination folder
	Key        []byte    `json:"key,omitempty"`        // read key; nil for a blind host
	Descriptor []byte    `json:"desc,omitempty"`       // nil until learned from a peer
	ClientKey  []byte    `json:"client_key,omitempty"` // x25519 private key of a private share
	Secret     []byte    `json:"secret,omitempty"`     // swarm secret (docs/protocol.md, R1); nil: hints and PEX only
	Peers      []string  `json:"peers,omitempty"`      // onion addresses known to serve it
	Reshare    bool      `json:"reshare"`
	Paused     bool      `json:"paused,omitempty"`
	Complete   bool      `json:"complete,omitempty"`
	Live       bool      `json:"live,omitempty"`      // share: a live content (growing until Complete)
	SignSeed   []byte    `json:"sign_seed,omitempty"` // live share: its chunk-signing key until Complete
	Created    time.Time `json:"created"`

	// A collection's (collection.go): Path and PartPath are its folder.
	Collection bool      `json:"collection,omitempty"`
	Files      []string  `json:"files,omitempty"`    // share: each file's source; download: each file under the folder ("" not fetched)
	Select     []string  `json:"select,omitempty"`   // download: the files (or folders) to fetch alone; nil: all
	Manifest   string    `json:"manifest,omitempty"` // its manifest's copy in the data folder
	Limits     Limits    `json:"limits,omitzero"`    // its own rate limits
	Once       bool      `json:"once,omitempty"`     // share: stop after the first complete download
	StopAt     time.Time `json:"stop_at,omitzero"`   // share: stop then
	Ended      string    `json:"ended,omitempty"`    // why it stopped on its own (paused)
}

// db is the engine's persistent state.
type db struct{ b *bolt.DB }

func openDB(path string) (*db, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open database %s: %w", path, ErrBusy)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		b.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketContents, bucketTrees, bucketVerified, bucketIdentities} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("init database: %w", err)
	}
	return &db{b: b}, nil
}

func (d *db) close() error { return d.b.Close() }

func (d *db) putRecord(id hcrypto.ContentID, r *record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	return d.b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketContents).Put(id[:], v)
	})
}

func (d *db) records() (map[hcrypto.ContentID]*record, error) {
	out := map[hcrypto.ContentID]*record{}
	err := d.b.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketContents).ForEach(func(k, v []byte) error {
			if len(k) != len(hcrypto.ContentID{}) {
				return nil
			}
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode record: %w", err)
			}
			out[hcrypto.ContentID(k)] = &r
			return nil
		})
	})
	return out, err
}

// deleteContent forgets everything about id, its identity included.
func (d *db) deleteContent(id hcrypto.ContentID) error {
	return d.b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketContents, bucketTrees, bucketVerified, bucketIdentities} {
			if err := tx.Bucket(name).Delete(id[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

// saveProgress stores the verified bitmap and the tree in one transaction
// (bbolt syncs it before returning).
func (d *db) saveProgress(id hcrypto.ContentID, bits []byte, tree []byte) error {
	return d.b.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketVerified).Put(id[:], bits); err != nil {
			return err
		}
		if tree != nil {
			return tx.Bucket(bucketTrees).Put(id[:], tree)
		}
		return nil
	})
}

// forgetProgress deletes what was verified of a content and its tree, for a
// download that starts over.
func (d *db) forgetProgress(id hcrypto.ContentID) error {
	return d.b.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketVerified).Delete(id[:]); err != nil {
			return err
		}
		return tx.Bucket(bucketTrees).Delete(id[:])
	})
}

func (d *db) loadProgress(id hcrypto.ContentID) (bits, tree []byte, err error) {
	err = d.b.View(func(tx *bolt.Tx) error {
		bits = clone(tx.Bucket(bucketVerified).Get(id[:]))
		tree = clone(tx.Bucket(bucketTrees).Get(id[:]))
		return nil
	})
	return bits, tree, err
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// identity returns the onion identity stored under name, creating it.
func (d *db) identity(name []byte) (ed25519.PrivateKey, error) {
	var key ed25519.PrivateKey
	err := d.b.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdentities)
		if seed := b.Get(name); seed != nil {
			if len(seed) != ed25519.SeedSize {
				return errors.New("stored identity has a bad length")
			}
			key = ed25519.NewKeyFromSeed(seed)
			return nil
		}
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		key = k
		return b.Put(name, k.Seed())
	})
	if err != nil {
		return nil, fmt.Errorf("onion identity: %w", err)
	}
	return key, nil
}

// swarmSecret returns the record's swarm secret, nil if it has none (or a
// malformed one).
func (r *record) swarmSecret() *hcrypto.SwarmSecret {
	if len(r.Secret) != len(hcrypto.SwarmSecret{}) {
		return nil
	}
	s := hcrypto.SwarmSecret(r.Secret)
	if s.IsZero() {
		return nil
	}
	return &s
}
