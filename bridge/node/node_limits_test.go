package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

// limitsLab is a bridge node on the in-memory onion network whose only
// BitTorrent peer is one aria2 process seeding every torrent of the test,
// given to the node as an operator's peer (Config.Peers).
type limitsLab struct {
	dir     string
	client  *bridge.Client
	dataDir string // the leech's
	engine  *swarm.Engine
	node    *Node
	user    onion.Transport
	magnets map[string]string // by file name
}

// startLimitsLab makes one torrent per entry of sizes (a name ending in
// "/" is a folder of two files), seeds them all with one aria2c and starts
// a node with cfg's limits.
func startLimitsLab(t *testing.T, ctx context.Context, sizes map[string]int64, cfg Config) *limitsLab {
	t.Helper()
	lab := &limitsLab{dir: t.TempDir(), magnets: map[string]string{}}
	seedDir := filepath.Join(lab.dir, "seed")
	var torrents []string
	seed := uint64(20)
	for name, size := range sizes {
		seed++
		path := filepath.Join(seedDir, strings.TrimSuffix(name, "/"))
		if strings.HasSuffix(name, "/") {
			btlab.WritePayload(t, filepath.Join(path, "part1.bin"), size, seed)
			btlab.WritePayload(t, filepath.Join(path, "part2.bin"), size/2, seed+100)
		} else {
			btlab.WritePayload(t, path, size, seed)
		}
		tf := filepath.Join(lab.dir, strings.TrimSuffix(name, "/")+".torrent")
		btlab.MakeTorrent(t, path, tf, "", 16)
		torrents = append(torrents, tf)
		lab.magnets[name] = "magnet:?xt=urn:btih:" + mustInfoHash(t, tf)
	}
	port := btlab.FreePort(t)
	aria := btlab.StartAria2Seeder(t, torrents[0], seedDir, port, torrents[1:]...)
	aria.Out.Wait(t, 60*time.Second, func(l string) bool { return strings.Contains(l, "listening on TCP port") })

	mn := memnet.New()
	bridgeNet := mn.Node("bridge")
	lab.user = mn.Node("user")
	lab.dataDir = filepath.Join(lab.dir, "leech")
	cfg.Leech.DataDir, cfg.Leech.MetadataDir = lab.dataDir, filepath.Join(lab.dir, "meta")
	lab.engine = openEngine(t, bridgeNet, "bridge")
	cfg.Engine = lab.engine
	cfg.Transport = bridgeNet
	cfg.StateDir = filepath.Join(lab.dir, "node")
	cfg.Peers = append(cfg.Peers, fmt.Sprintf("127.0.0.1:%d", port))
	cfg.Logger = btlab.Logger(t)
	lab.node, _ = serveNode(t, ctx, cfg)
	lab.client = lab.node.Client()
	return lab
}

// request asks the node for the torrent of name and returns its link once
// the node has the whole torrent (the link comes before: these tests are
// about what the node keeps).
func (lab *limitsLab) request(t *testing.T, ctx context.Context, name string) (string, error) {
	t.Helper()
	link, err := singleLink(Request(ctx, lab.user, lab.node.Address(), lab.magnets[name], nil))
	if err != nil {
		return "", err
	}
	lab.waitFetched(t, ctx, name)
	return link, nil
}

// waitFetched waits until the node's leech of name has ended.
func (lab *limitsLab) waitFetched(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for {
		if cl, ok := lab.cached()[lab.infoHash(name)]; ok && !cl.Growing {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the node's fetch of %s did not end", name)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// singleLink returns the link of a single-file torrent's answer.
func singleLink(files []FileLink, err error) (string, error) {
	if err != nil {
		return "", err
	}
	if len(files) != 1 || files[0].Path != "" {
		return "", fmt.Errorf("want the answer for a single-file torrent, got %d files", len(files))
	}
	if _, err := hcrypto.ParseLink(files[0].Link); err != nil {
		return "", err
	}
	return files[0].Link, nil
}

func (lab *limitsLab) cached() map[string]cachedLink {
	lab.node.mu.Lock()
	defer lab.node.mu.Unlock()
	out := map[string]cachedLink{}
	for k, v := range lab.node.cache {
		out[k] = v
	}
	return out
}

func (lab *limitsLab) infoHash(name string) string {
	return strings.TrimPrefix(lab.magnets[name], "magnet:?xt=urn:btih:")
}

// TestNodeDiskQuota fills a node's disk quota: the least recently asked
// for content is evicted (its data deleted, no longer shared), a torrent
// larger than the quota is refused with a clear error before any piece is
// fetched, and an evicted torrent asked for again is fetched anew.
func TestNodeDiskQuota(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const mib = 1 << 20
	lab := startLimitsLab(t, ctx, map[string]int64{"a.bin": mib + 3, "b.bin": mib + 5, "c.bin": 3 * mib, "d.bin": mib + 7},
		Config{DiskQuota: 2*mib + mib/2})

	linkA, err := lab.request(t, ctx, "a.bin")
	if err != nil {
		t.Fatal(err)
	}
	linkB, err := lab.request(t, ctx, "b.bin")
	if err != nil {
		t.Fatal(err)
	}
	// Ask for a again: b becomes the least recently asked for.
	if again, err := lab.request(t, ctx, "a.bin"); err != nil || again != linkA {
		t.Fatalf("a from the cache: %v (same link: %v)", err, again == linkA)
	}
	if _, err := lab.request(t, ctx, "d.bin"); err != nil {
		t.Fatal(err)
	}
	cached := lab.cached()
	if _, ok := cached[lab.infoHash("b.bin")]; ok {
		t.Fatal("b was not evicted")
	}
	if _, ok := cached[lab.infoHash("a.bin")]; !ok {
		t.Fatal("a, asked for more recently than b, was evicted")
	}
	if _, err := os.Stat(filepath.Join(lab.dataDir, lab.infoHash("b.bin"))); !os.IsNotExist(err) {
		t.Fatalf("b's data still on disk: %v", err)
	}
	lb, err := hcrypto.ParseLink(linkB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lab.engine.Status(lb.ID); err == nil {
		t.Fatal("b is still shared by the node's engine")
	}

	_, err = lab.request(t, ctx, "c.bin")
	if err == nil || !strings.Contains(err.Error(), ErrNoSpace.Error()) || !strings.Contains(err.Error(), fmt.Sprint(3*mib)) {
		t.Fatalf("torrent over the quota: %v", err)
	}
	if _, err := os.Stat(filepath.Join(lab.dataDir, lab.infoHash("c.bin"))); !os.IsNotExist(err) {
		t.Fatalf("refused torrent wrote data: %v", err)
	}
	if lab.client.Counters().BytesDownloaded > 4*mib {
		t.Fatalf("downloaded %d bytes: the refused torrent was leeched", lab.client.Counters().BytesDownloaded)
	}

	// b again: fetched anew (evicting a, now the oldest), same data.
	linkB2, err := lab.request(t, ctx, "b.bin")
	if err != nil {
		t.Fatal(err)
	}
	lb2, err := hcrypto.ParseLink(linkB2)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, cl := range lab.cached() {
		total += cl.size()
	}
	if total > 2*mib+mib/2 {
		t.Fatalf("cache holds %d bytes, over the quota", total)
	}
	if st, err := lab.engine.Status(lb2.ID); err != nil || st.Size != mib+5 {
		t.Fatalf("b fetched again: %+v %v", st, err)
	}
	checkDiscreet(t, lab.client.Counters())
}

// TestNodeMultiFile asks a node for a torrent of a folder (made by
// mktorrent, seeded by aria2): the node answers with one link, a
// collection of the torrent's files; a user fetches it into a folder of
// the torrent's name, every file bit for bit; the stream of the torrent
// lists both files, carries their data in order and ends with the same
// answer; a second request is answered from the cache.
func TestNodeMultiFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	lab := startLimitsLab(t, ctx, map[string]int64{"album/": 1<<20 + 11}, Config{})
	files, err := Request(ctx, lab.user, lab.node.Address(), lab.magnets["album/"], nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "" {
		t.Fatalf("answer %+v, want one link for the torrent", files)
	}
	user := openEngine(t, lab.user, "user")
	dest := t.TempDir()
	got := fetchLink(t, ctx, user, files[0].Link, dest)
	if want := filepath.Join(dest, "album"); got != want {
		t.Fatalf("saved as %s, want %s", got, want)
	}
	for _, name := range []string{"part1.bin", "part2.bin"} {
		if btlab.FileSHA(t, filepath.Join(got, name)) != btlab.FileSHA(t, filepath.Join(lab.dir, "seed", "album", name)) {
			t.Fatalf("%s differs from the seeded file", name)
		}
	}
	again, err := Request(ctx, lab.user, lab.node.Address(), lab.magnets["album/"], nil)
	if err != nil || !slices.Equal(again, files) {
		t.Fatalf("second request: %v (same answer: %v)", err, slices.Equal(again, files))
	}

	s, err := OpenStream(ctx, lab.user, lab.node.Address(), lab.magnets["album/"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	listed := s.Files()
	if len(listed) != 2 || listed[0].Path != "album/part1.bin" || listed[1].Offset != 1<<20+11 ||
		listed[1].Length != (1<<20+11)/2 {
		t.Fatalf("stream lists %+v", listed)
	}
	data, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range listed {
		want, err := os.ReadFile(filepath.Join(lab.dir, "seed", filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data[f.Offset:f.Offset+f.Length], want) {
			t.Fatalf("streamed %s differs", f.Path)
		}
	}
	if !slices.Equal(s.Links(), files) {
		t.Fatalf("stream answer %v, want the request's", s.Links())
	}
	checkDiscreet(t, lab.client.Counters())
}

// TestNodeMaxFiles asks a node that shares at most one file per torrent
// for a torrent of two: it refuses once it has the metadata, naming the
// limit, and fetches none of the data.
func TestNodeMaxFiles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	lab := startLimitsLab(t, ctx, map[string]int64{"album/": 1 << 20}, Config{MaxFiles: 1})
	_, err := Request(ctx, lab.user, lab.node.Address(), lab.magnets["album/"], nil)
	if err == nil || !strings.Contains(err.Error(), "too many files") || !strings.Contains(err.Error(), "2 files") {
		t.Fatalf("torrent over the file limit: %v", err)
	}
	if _, err := OpenStream(ctx, lab.user, lab.node.Address(), lab.magnets["album/"]); err == nil ||
		!strings.Contains(err.Error(), "too many files") {
		t.Fatalf("stream over the file limit: %v", err)
	}
	if n := lab.client.Counters().BytesDownloaded; n != 0 {
		t.Fatalf("node leeched %d bytes of a refused torrent", n)
	}
	if _, err := os.Stat(filepath.Join(lab.dataDir, lab.infoHash("album/"))); !os.IsNotExist(err) {
		t.Fatalf("refused torrent wrote data: %v", err)
	}
}

// TestNodeCacheExpiry runs a node with a 2 s cache expiry: a content not
// asked for again is removed with its data while the node runs.
func TestNodeCacheExpiry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	lab := startLimitsLab(t, ctx, map[string]int64{"old.bin": 512<<10 + 1}, Config{CacheTTL: 2 * time.Second})
	link, err := lab.request(t, ctx, "old.bin")
	if err != nil {
		t.Fatal(err)
	}
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(lab.dataDir, lab.infoHash("old.bin"))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, cached := lab.cached()[lab.infoHash("old.bin")]
		_, statErr := os.Stat(dataDir)
		if !cached && os.IsNotExist(statErr) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("content not expired after 20 s (cached %v, data %v)", cached, statErr)
		}
	}
	if _, err := lab.engine.Status(l.ID); err == nil {
		t.Fatal("expired content still shared")
	}
}

// TestNodeMaxContents caps a node at 2 contents (one per torrent, each an
// onion service of its own): two single-file torrents and then a folder of
// two files (one collection) evict the least recently asked for of the
// first two, which
// stops being shared and loses its data; a torrent of more files than the
// cap is refused before any piece is fetched.
func TestNodeMaxContents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lab := startLimitsLab(t, ctx, map[string]int64{"one.bin": 512<<10 + 1, "two.bin": 512<<10 + 2, "album/": 512<<10 + 3},
		Config{MaxContents: 2})
	linkOne, err := lab.request(t, ctx, "one.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lab.request(t, ctx, "two.bin"); err != nil {
		t.Fatal(err)
	}
	files, err := Request(ctx, lab.user, lab.node.Address(), lab.magnets["album/"], nil)
	if err != nil || len(files) != 1 {
		t.Fatalf("folder of two files: %v, %v", files, err)
	}
	lab.waitFetched(t, ctx, "album/")
	cached := lab.cached()
	if _, ok := cached[lab.infoHash("one.bin")]; ok {
		t.Fatal("one, the least recently asked for, was not evicted")
	}
	contents := 0
	for _, cl := range cached {
		contents += len(cl.Files)
	}
	if contents != 2 {
		t.Fatalf("the node shares %d contents, want 2", contents)
	}
	l, err := hcrypto.ParseLink(linkOne)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lab.engine.Status(l.ID); err == nil {
		t.Fatal("the evicted content is still shared")
	}
	if _, err := os.Stat(filepath.Join(lab.dataDir, lab.infoHash("one.bin"))); !os.IsNotExist(err) {
		t.Fatalf("the evicted content's data is still on disk: %v", err)
	}
	checkDiscreet(t, lab.client.Counters())
}
