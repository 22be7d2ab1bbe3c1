package swarm

import (
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
)

// Config configures an Engine. DataDir and Transport are required.
type Config struct {
	// DataDir holds the database (hydre.db, mode 0600) and blind-hosted
	// ciphertext.
	DataDir string
	// Transport is the network: an *onion.Tor, or onion/memnet in tests.
	Transport onion.Transport
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// DownloadDir is where Get saves files when its destDir is empty.
	DownloadDir string
	// Reshare is whether new downloads serve what they fetch. Front ends
	// set it to true (hydre's default behaviour); SetReshare changes it per
	// content.
	Reshare bool
	// SingleIdentity serves every content from one onion identity instead
	// of one identity per content (which keeps a node's contents unlinkable).
	SingleIdentity bool
	// MaxPeersPerContent bounds the connections of one content, dialed and
	// accepted; 0 means 32.
	MaxPeersPerContent int
	// MaxUploadsPerContent bounds the peers one content serves at once
	// (accepted connections); 0 means 16.
	MaxUploadsPerContent int
	// CircuitsPerPeer is the number of isolated circuits opened to each
	// source of a content, fewer when MaxPeersPerContent would not hold
	// them all; 0 means DefaultCircuitsPerPeer, 1 disables multi-circuit
	// download.
	CircuitsPerPeer int
	// Rendezvous tunes rendezvous discovery (docs/protocol.md, Part III);
	// the zero value is the protocol's: Tor's periods, registrations every
	// hour, a vacant slot hosted within 10 minutes, a download with no peer
	// asking again every 5 minutes.
	Rendezvous RendezvousConfig
	// Limits are the node's upload and download rate limits at start
	// (Engine.SetGlobalLimits changes them); zero: none.
	Limits Limits

	// replaceAge and replaceMinLeft override the constants in tests.
	replaceAge, replaceMinLeft time.Duration
	// dialWindow, maxOnions and maxDials override dialcap.go's bounds in
	// tests.
	dialWindow          time.Duration
	maxOnions, maxDials int
	// tune overrides request-window constants in A/B tests.
	tune tuning
}

// DefaultCircuitsPerPeer is the number of isolated circuits a download opens
// to each source unless Config.CircuitsPerPeer says otherwise.
const DefaultCircuitsPerPeer = 4

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxPeersPerContent <= 0 {
		c.MaxPeersPerContent = 32
	}
	if c.MaxUploadsPerContent <= 0 {
		c.MaxUploadsPerContent = 16
	}
	if c.CircuitsPerPeer <= 0 {
		c.CircuitsPerPeer = DefaultCircuitsPerPeer
	}
}

// ShareOptions tunes Share.
type ShareOptions struct {
	// Private publishes the content behind onion client authorization: the
	// link then carries the client key, and only holders of the link can
	// even reach the service.
	Private bool
	// ChunkSize is the plaintext chunk size, a power of two; 0 lets the
	// format choose (256 KiB, more for very large files).
	ChunkSize int
	// Once stops sharing after the first complete download: once a peer
	// holds every chunk, the content is paused (stopshare.go).
	Once bool
	// StopAfter stops sharing that long after Share; 0 never.
	StopAfter time.Duration
}

// FetchOptions says what Fetch fetches of a link.
type FetchOptions struct {
	// Files names files or folders of a collection by their paths in it
	// ("photos/2024/a.jpg", "photos"): only the chunks that hold them (and
	// the manifest) are fetched. The download fails once the manifest is
	// known if a name matches nothing, or if the link is not a
	// collection's. Nil: everything.
	Files []string
	// Here says that destDir was asked for: a download known from before
	// that saved nothing yet starts again in destDir instead of where it
	// was first asked for.
	Here bool
}

// Kind says what a node holds of a content.
type Kind int

// Kinds of content.
const (
	KindShare    Kind = iota // a local file this node shares
	KindDownload             // a file fetched with its key, plaintext on disk
	KindHost                 // ciphertext only, fetched with a host-only link
)

func (k Kind) String() string {
	switch k {
	case KindShare:
		return "share"
	case KindDownload:
		return "download"
	case KindHost:
		return "host"
	}
	return "unknown"
}

// State is the life cycle of a content in the engine.
type State int

// States.
const (
	StateStarting State = iota // looking for peers or the descriptor
	StateFetching              // fetching chunks
	StatePaused                // stopped by Pause
	StateSeeding               // complete (or shared) and serving
	StateDone                  // complete, not serving
	StateFailed                // stopped by an error (Status.Err)
	StateStopped               // the engine is closing
)

func (s State) String() string {
	switch s {
	case StateStarting:
		return "starting"
	case StateFetching:
		return "fetching"
	case StatePaused:
		return "paused"
	case StateSeeding:
		return "seeding"
	case StateDone:
		return "done"
	case StateFailed:
		return "failed"
	case StateStopped:
		return "stopped"
	}
	return "unknown"
}

// Status is a snapshot of one content.
type Status struct {
	ID        hcrypto.ContentID
	Kind      Kind
	State     State
	Name      string // sanitized file name ("" until the header is known; always "" for KindHost)
	Path      string // the file on disk: the shared file, the download (final or partial)
	MediaType string
	Size      int64 // plaintext bytes (0 until the descriptor is known)
	Verified  int64 // plaintext bytes verified and on disk
	Uploaded  int64 // bytes sent to peers since the content last started (engine start or Resume)
	DownRate  float64
	UpRate    float64 // bytes/s
	// Peers counts the distinct nodes it is connected to, Connections its
	// open connections (circuits): a peer with four circuits is one peer
	// and four connections.
	Peers       int
	Connections int
	ETA         time.Duration
	// Link is the full link text, a secret: never log it.
	Link    string
	Reshare bool
	Err     string
	// Growing is set for a live share whose data is still arriving
	// (Engine.ShareLive): it serves what it has and gains chunks.
	Growing bool
	// Reachable is set once the content's onion service is published: from
	// then on others can fetch it with the link. A share is served (State
	// StateSeeding) before that, but tor takes seconds to publish a new
	// service, and a link given out earlier fails until then.
	Reachable bool
	// Waiting says why a download makes no progress: with no peer, the
	// last failure of its dials ("no peer reachable yet: onion service
	// descriptor not found…"), cleared once a peer answers; with peers
	// that hold none of the missing chunks, that. For a content served but
	// not Reachable, it says why the last attempt to publish its onion
	// service failed.
	Waiting string
	// Found counts the open connections by how this node learned of the
	// peer: a hint of the link, a rendezvous slot, PEX, or it dialed in.
	Found PeerSources
	// Discovery says what rendezvous discovery is doing for the content:
	// the slots asked and what they answered, those this node is listed
	// at and those it hosts.
	Discovery Discovery
	// Limits are the content's own rate limits (Engine.SetLimits), beside
	// the node's.
	Limits Limits
	// Once, StopAt: a share that stops after the first complete download,
	// or at that time (ShareOptions); Ended says why one stopped (EndedOnce,
	// EndedTimer; it is then paused).
	Once   bool
	StopAt time.Time
	Ended  string
	// Collection is set for a collection (several files as one content)
	// once its header is known; Files then lists its files once its
	// manifest is (collection.go), nil before: a snapshot behind a
	// pointer, so that a Status stays comparable. Path is then its folder.
	Collection bool
	Files      *FileList
}

// FileList is the files of a collection, in its manifest's order.
type FileList []FileStatus

// FileList returns the files of a collection (nil for a single file or
// before the manifest is known).
func (s Status) FileList() []FileStatus {
	if s.Files == nil {
		return nil
	}
	return *s.Files
}

// Fetches reports whether this node fetches every file or folder named
// by paths (paths in the collection, "/"-separated), or every file when
// paths is empty. It is true while the files are not known yet.
func (s Status) Fetches(paths []string) bool {
	files := s.FileList()
	if files == nil {
		return true
	}
	fetched := func(p string) bool {
		for _, f := range files {
			if (f.Path == p || strings.HasPrefix(f.Path, p+"/")) && f.Fetch {
				return true
			}
		}
		return false
	}
	if len(paths) == 0 {
		return !slices.ContainsFunc(files, func(f FileStatus) bool { return !f.Fetch })
	}
	for _, p := range paths {
		if !fetched(strings.Trim(filepath.ToSlash(p), "/")) {
			return false
		}
	}
	return true
}

// Done reports whether the content is complete on disk.
func (s Status) Done() bool {
	if s.Growing {
		return false
	}
	return s.Size > 0 && s.Verified == s.Size || s.State == StateSeeding || s.State == StateDone
}

// Event is published on every state change and, throttled, on progress.
type Event struct {
	Status Status
}

// Errors callers branch on.
var (
	// ErrNotFound is returned for a content ID the engine does not hold.
	ErrNotFound = errors.New("content not found")
	// ErrNoKey is returned by Open for a blind-hosted content.
	ErrNoKey = errors.New("content held without its key")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("engine closed")
	// ErrNoPeers is returned by Get for a link that names no peer and
	// carries no swarm secret: nothing can find a holder.
	ErrNoPeers = errors.New("link names no peer")
)
