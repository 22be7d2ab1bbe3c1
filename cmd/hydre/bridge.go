package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
	bridgenode "github.com/hydre-p2p/hydre/bridge/node"
	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm"
	"github.com/hydre-p2p/hydre/swarm/stream"
)

// publicDHTRouters are the well-known DHT entry points used when --dht is
// not given (the bridge only sends them get_peers).
const publicDHTRouters = "router.bittorrent.com:6881,dht.transmissionbt.com:6881,router.utorrent.com:6881"

// bridgeStatus is what a running fetch writes for 'hydre bridge status'.
type bridgeStatus struct {
	PID      int             `json:"pid"`
	Updated  time.Time       `json:"updated"`
	Torrent  bridgeTorrent   `json:"torrent"`
	Counters bridge.Counters `json:"counters"`
}

type bridgeTorrent struct {
	InfoHash  string `json:"info_hash"`
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	Completed int64  `json:"completed"`
	Done      bool   `json:"done"`
	Path      string `json:"path,omitempty"`
}

func bridgeDir(g *globals) string { return filepath.Join(g.DataDir, "bridge") }

func runBridgeFetch(ctx context.Context, g *globals, fs flags, args []string) error {
	dir := fs.String("o", "", "save into `DIR`, as 'hydre get -o' does (default: <data-dir>/bridge/downloads)")
	fs.StringVar(dir, "dir", "", "the same as -o")
	var cf clientFlags
	cf.register(fs.FlagSet)
	var peers stringsFlag
	fs.Var(&peers, "peer", "also try the peer at `ip:port` (repeatable)")
	maxSize := sizeFlag(defaultFetchMaxSize)
	fs.Var(&maxSize, "max-size", "refuse torrents over `SIZE` (bytes, or with a K, M, G or T suffix; 0: no limit)")
	keepFree := sizeFlag(0)
	fs.Var(&keepFree, "keep-free", "refuse torrents that would leave less than `SIZE` free on the disk of --dir (0: 512M)")
	streamIt := fs.Bool("stream", false, "play the torrent's (largest) file on a local address while it arrives")
	player := fs.String("player", stream.PlayerAuto, "with --stream, the player to start: "+stream.PlayerChoices)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := checkPlayer(*player); err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Join(bridgeDir(g), "downloads")
	}
	cfg, err := cf.config(g, *dir)
	if err != nil {
		return err
	}
	cfg.MaxSize = int64(maxSize)
	cfg.KeepFree = int64(keepFree)
	c, err := bridge.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	t, err := c.Add(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	if err := t.AddPeers(peers...); err != nil {
		return usageError{err.Error()}
	}
	statusPath := filepath.Join(bridgeDir(g), "status.json")
	defer os.Remove(statusPath)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	line := newLiveLine(g.Stderr)
	defer line.done()
	var stopStream func()
	defer func() {
		if stopStream != nil {
			stopStream()
		}
	}()
	for {
		if *streamIt && stopStream == nil && t.HasInfo() {
			if stopStream, err = serveTorrent(ctx, g, t, *player); err != nil {
				return err
			}
		}
		st := bridgeStatus{PID: os.Getpid(), Updated: time.Now().UTC(), Counters: c.Counters(),
			Torrent: bridgeTorrent{InfoHash: t.InfoHash(), Name: t.Name()}}
		select {
		case <-t.Done():
			st.Torrent.Done = true
		default:
		}
		if t.HasInfo() {
			st.Torrent.Size = t.Length()
			st.Torrent.Completed = t.BytesCompleted()
			st.Torrent.Path = t.DiskPath()
		}
		if err := writeJSONFile(statusPath, st); err != nil {
			g.Logger.Warn("write bridge status", "err", err)
		}
		if st.Torrent.Done {
			if g.JSON {
				err = json.NewEncoder(g.Stdout).Encode(st)
			} else {
				fmt.Fprintf(g.Stdout, "%s\n", st.Torrent.Path)
			}
			if err == nil && stopStream != nil {
				if !g.JSON {
					fmt.Fprintf(g.Stderr, "Complete; still serving it to the player until interrupted.\n")
				}
				<-ctx.Done()
			}
			return err
		}
		if !g.JSON {
			line.set(fmt.Sprintf("%s: %s of %s, %d peers", orDash(bridgenode.Printable(st.Torrent.Name)),
				swarm.FormatSize(st.Torrent.Completed), swarm.FormatSize(st.Torrent.Size), st.Counters.Peers))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.Failed():
			if !g.JSON {
				fmt.Fprintln(g.Stderr)
			}
			return t.Err()
		case <-t.Done():
		case <-tick.C:
		}
	}
}

// defaultFetchMaxSize is fetch's --max-size: larger than nearly any real
// torrent, far below what a hostile one may claim.
const defaultFetchMaxSize = 256 << 30

// serveTorrent plays t's largest file through the local stream server.
func serveTorrent(ctx context.Context, g *globals, t *bridge.Torrent, player string) (func(), error) {
	f := largestFile(t.Files())
	name := path.Base(f.Path)
	return serveMedia(ctx, g, name, player, func(ctx context.Context) (stream.Media, error) {
		r := t.NewReader(ctx, 8<<20)
		if _, err := r.Seek(f.Offset, io.SeekStart); err != nil {
			r.Close()
			return nil, fmt.Errorf("read the torrent: %w", err)
		}
		return bridgenode.NewSection(r, f.Offset, f.Length, name), nil
	})
}

func runBridgeStatus(_ context.Context, g *globals, fs flags, args []string) error {
	if err := fs.parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(bridgeDir(g), "status.json"))
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no bridge fetch running on this data directory")
	}
	if err != nil {
		return fmt.Errorf("read bridge status: %w", err)
	}
	var st bridgeStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("read bridge status: %w", err)
	}
	if g.JSON {
		return json.NewEncoder(g.Stdout).Encode(st)
	}
	age := time.Since(st.Updated).Round(time.Second)
	stale := ""
	if age > 5*time.Second {
		stale = fmt.Sprintf(" (stale: last update %v ago; is the fetch still running?)", age)
	}
	c := st.Counters
	fmt.Fprintf(g.Stdout, "torrent     %s %s%s\n", st.Torrent.InfoHash, orDash(bridgenode.Printable(st.Torrent.Name)), stale)
	fmt.Fprintf(g.Stdout, "progress    %s of %s (done: %v)\n", swarm.FormatSize(st.Torrent.Completed), swarm.FormatSize(st.Torrent.Size), st.Torrent.Done)
	fmt.Fprintf(g.Stdout, "peers       %d\ndownloaded  %s\n", c.Peers, swarm.FormatSize(c.BytesDownloaded))
	fmt.Fprintf(g.Stdout, "discretion (must stay 0): uploaded %d B, adverts %d, announces %d, queries answered %d, incoming accepted %d\n",
		c.BytesUploaded, c.AdvertsSent, c.AnnouncesSent, c.QueriesAnswered, c.IncomingAccepted)
	fmt.Fprintf(g.Stdout, "stopped by filters: %d messages, %d announces, %d inbound dht queries; %d stalled peers dropped; %d spies found\n",
		c.MessagesSuppressed, c.AnnouncesStopped, c.DHTQueriesDropped, c.StalledPeersDropped, c.SpiesFound)
	return nil
}

func writeJSONFile(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runBridgeRequest(ctx context.Context, g *globals, fs flags, args []string) error {
	streamIt := fs.Bool("stream", false, "stream the data as the node leeches it")
	output := fs.String("o", "-", "with --stream, write the data to `FILE` (- is stdout)")
	player := fs.String("player", "", "with --stream, serve on a local address and start this player ("+stream.PlayerChoices+")")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *player != "" {
		if err := checkPlayer(*player); err != nil {
			return err
		}
		if !*streamIt {
			return usageError{"--player goes with --stream"}
		}
	}
	if fs.NArg() != 2 {
		return usageError{"want a bridge address and a magnet link"}
	}
	if _, _, err := hcrypto.ParseOnion(fs.Arg(0)); err != nil {
		return usageError{fmt.Sprintf("bridge address: %v", err)}
	}
	if !strings.HasPrefix(fs.Arg(1), "magnet:") {
		return usageError{"want a magnet link (magnet:?xt=...) after the bridge address"}
	}
	n, err := g.startCLINode(ctx, nil, !g.JSON && !*streamIt)
	if err != nil {
		return err
	}
	defer n.Close()
	tor := n.Tor
	if *streamIt && *player != "" {
		return playFromBridge(ctx, g, tor, fs.Arg(0), fs.Arg(1), *player)
	}
	if *streamIt {
		s, err := bridgenode.OpenStream(ctx, tor, fs.Arg(0), fs.Arg(1))
		if err != nil {
			return err
		}
		defer s.Close()
		var w io.Writer = g.Stdout
		if *output != "-" {
			f, err := os.Create(*output)
			if err != nil {
				return fmt.Errorf("create output: %w", err)
			}
			defer f.Close()
			w = f
		}
		if _, err := io.Copy(w, s); err != nil {
			return fmt.Errorf("stream from bridge: %w", err)
		}
		printAnswer(g.Stderr, s.Links())
		return nil
	}
	progress, endProgress := bridgeProgress(g)
	files, err := bridgenode.RequestRetry(ctx, tor, fs.Arg(0), fs.Arg(1), progress)
	endProgress()
	if err != nil {
		return err
	}
	if g.JSON {
		type file struct {
			Path string `json:"path,omitempty"`
			Link string `json:"link"`
		}
		out := struct {
			Link  string `json:"link,omitempty"` // a single-file torrent's
			Files []file `json:"files"`
		}{}
		for _, f := range files {
			out.Files = append(out.Files, file{f.Path, f.Link})
		}
		if len(files) == 1 && files[0].Path == "" {
			out.Link = files[0].Link
		}
		return json.NewEncoder(g.Stdout).Encode(out)
	}
	printAnswer(g.Stdout, files)
	return nil
}

// printAnswer prints a bridge node's answer: the link of a single-file
// torrent, or a "LINK<tab>PATH" line per file of a multi-file torrent, the
// path with its control characters escaped (it is a stranger's).
func printAnswer(w io.Writer, files []bridgenode.FileLink) {
	for _, f := range files {
		if f.Path == "" {
			fmt.Fprintf(w, "%s\n", f.Link)
		} else {
			fmt.Fprintf(w, "%s\t%s\n", f.Link, f.DisplayPath())
		}
	}
}

// playFromBridge serves a bridge node's stream of magnet on a local
// address until interrupted: each request of the player opens its own
// stream from the node (a seek reconnects from the piece it needs).
func playFromBridge(ctx context.Context, g *globals, tor onion.Transport, addr, magnet, player string) error {
	first, err := bridgenode.OpenStream(ctx, tor, addr, magnet)
	if err != nil {
		return err
	}
	f := largestFile(first.Files())
	first.Close()
	name := path.Base(f.Path)
	if !g.JSON {
		fmt.Fprintf(g.Stderr, "%s: %s, streaming from the bridge node.\n", bridgenode.Printable(name), swarm.FormatSize(f.Length))
	}
	stop, err := serveMedia(ctx, g, name, player, func(rctx context.Context) (stream.Media, error) {
		s, err := bridgenode.OpenStream(rctx, tor, addr, magnet)
		if err != nil {
			return nil, err
		}
		if _, err := s.Seek(f.Offset, io.SeekStart); err != nil {
			s.Close()
			return nil, fmt.Errorf("stream from bridge: %w", err)
		}
		return bridgenode.NewSection(s, f.Offset, f.Length, name), nil
	})
	if err != nil {
		return err
	}
	defer stop()
	<-ctx.Done()
	return nil
}

// largestFile returns the largest of a torrent's files: the video of a
// torrent that also holds subtitles or a sample.
func largestFile(files []bridge.File) bridge.File {
	var f bridge.File
	for _, x := range files {
		if x.Length > f.Length {
			f = x
		}
	}
	return f
}

// bridgeLinksFor turns the argument of 'hydre get' into hydre links: a
// hydre link is returned as it is; a magnet link is sent to the hidden
// bridge node at bridgeAddr, which leeches it and answers with a hydre
// link per file (its progress is shown on stderr). Tor is started for the
// request and closed before returning, so the caller can open its engine.
func bridgeLinksFor(ctx context.Context, g *globals, arg, bridgeAddr string) ([]bridgenode.FileLink, error) {
	isMagnet := strings.HasPrefix(arg, "magnet:")
	switch {
	case bridgeAddr == "" && !isMagnet:
		return []bridgenode.FileLink{{Link: arg}}, nil
	case bridgeAddr == "":
		return nil, usageError{"a magnet link is fetched through a hidden bridge node: add --bridge ONION"}
	case !isMagnet:
		return nil, usageError{"--bridge takes a magnet link, not a hydre link"}
	}
	if _, _, err := hcrypto.ParseOnion(bridgeAddr); err != nil {
		return nil, usageError{fmt.Sprintf("--bridge: %v", err)}
	}
	n, err := g.startCLINode(ctx, nil, !g.JSON)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	progress, endProgress := bridgeProgress(g)
	defer endProgress()
	return bridgenode.RequestRetry(ctx, n.Tor, bridgeAddr, arg, progress)
}

// bridgeProgress returns a function that shows a bridge node's progress
// on stderr (nothing with --json), and one that ends its line.
func bridgeProgress(g *globals) (progress func(done, size int64), end func()) {
	line := newLiveLine(g.Stderr)
	return func(done, size int64) {
		if !g.JSON {
			line.set(fmt.Sprintf("bridge: %s of %s", swarm.FormatSize(done), swarm.FormatSize(size)))
		}
	}, line.done
}
