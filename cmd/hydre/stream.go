package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
	"github.com/hydre-p2p/hydre/swarm/stream"
)

func runStream(ctx context.Context, g *globals, fs flags, args []string) error {
	player := fs.String("player", stream.PlayerAuto, "player to start: "+stream.PlayerChoices+" (auto: mpv, else ffplay)")
	addr := fs.String("addr", "127.0.0.1:0", "loopback `address` to serve on (port 0: random)")
	out := fs.String("o", ".", "save into `DIR`")
	file := fs.String("file", "", "play the file at `PATH` of a link of several files ('hydre ls' lists them)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := checkLinkArg("stream", fs.Arg(0), false); err != nil { // before tor starts
		return err
	}
	if err := checkPlayer(*player); err != nil {
		return err
	}
	if err := checkDir("-o", *out); err != nil {
		return err
	}
	n, err := g.openEngine(ctx, engineOptions{DownloadDir: *out})
	if err != nil {
		return err
	}
	defer n.Close()
	e := n.Engine
	if *file != "" {
		return streamFile(ctx, g, e, fs.Arg(0), *out, *file, *player)
	}
	st, err := e.Fetch(ctx, fs.Arg(0), *out, swarm.FetchOptions{}) // as get: a retry of a paused or failed one
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	url, wait, err := startStreamServer(ctx, g, e, st.ID, *addr)
	if err != nil {
		return err
	}
	defer wait()
	defer cancel()
	p, err := stream.LaunchPlayer(ctx, url, *player)
	switch {
	case errors.Is(err, stream.ErrNoPlayer):
		fmt.Fprintf(g.Stderr, "No media player found (install mpv or ffplay); open the address above in one.\n")
	case err != nil:
		return err
	case p != nil:
		defer p.Stop()
		if !g.JSON {
			fmt.Fprintf(g.Stderr, "Started %s; press Ctrl-C to stop serving.\n", p.Name)
		}
	default:
		if !g.JSON {
			fmt.Fprintf(g.Stderr, "Press Ctrl-C to stop serving.\n")
		}
	}
	return serveUntilDone(ctx, g, e, nil, func(swarm.Status) (bool, error) { return false, nil })
}

// checkPlayer checks a --player value.
func checkPlayer(p string) error {
	if err := stream.CheckPlayer(p); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// startStreamServer serves content id of e on a loopback address until ctx
// ends: it waits for the content's descriptor (so the address carries the
// file name), prints the address on stdout (a "stream" JSON object with
// --json) and returns it with a function that waits for the server to stop.
func startStreamServer(ctx context.Context, g *globals, e *swarm.Engine, id hcrypto.ContentID, addr string) (string, func(), error) {
	srv, err := stream.New(e, stream.Options{Addr: addr, Logger: g.Logger})
	if err != nil {
		return "", nil, err
	}
	// Open waits for the descriptor; its reader at 0 also starts the
	// download at the beginning, where players look first.
	f, err := e.Open(ctx, id)
	if err != nil {
		srv.Close()
		return "", nil, fmt.Errorf("open the content: %w", err)
	}
	f.Close()
	if st, err := e.Status(id); err == nil && st.Collection {
		srv.Close()
		return "", nil, errors.New("this link holds several files: play one of them with 'hydre stream --file PATH LINK' (PATH as 'hydre ls' lists it under the collection)")
	}
	url, err := srv.URL(id)
	if err == nil {
		err = srv.Check(ctx, url) // a playlist is refused before any player sees it
	}
	if err != nil {
		srv.Close()
		return "", nil, err
	}
	return url, announceAndServe(ctx, g, srv, url, id.String()), nil
}

// announceAndServe prints url on stdout (a "stream" JSON object with
// --json, naming content id if not "") and serves srv until ctx ends; it
// returns a function that waits for the server to stop.
func announceAndServe(ctx context.Context, g *globals, srv *stream.Server, url, id string) func() {
	switch {
	case g.JSON && id != "":
		fmt.Fprintf(g.Stdout, "{\"event\":\"stream\",\"id\":%q,\"url\":%q}\n", id, url)
	case g.JSON:
		fmt.Fprintf(g.Stdout, "{\"event\":\"stream\",\"url\":%q}\n", url)
	default:
		fmt.Fprintf(g.Stdout, "%s\n", url)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ctx); err != nil {
			g.Logger.Warn("stream server", "err", err)
		}
	}()
	return wg.Wait
}

// serveMedia serves what open returns on a loopback address until ctx ends:
// it prints the address on stdout (a "stream" JSON object with --json),
// starts player on it ("none": no player) and returns a function that
// stops the player and waits for the server. It backs the --stream modes
// of 'hydre bridge', whose data is not a hydre content.
func serveMedia(ctx context.Context, g *globals, name, player string, open func(context.Context) (stream.Media, error)) (func(), error) {
	srv, err := stream.New(nil, stream.Options{Logger: g.Logger})
	if err != nil {
		return nil, err
	}
	url, err := srv.AddMedia(name, open)
	if err == nil {
		err = srv.Check(ctx, url) // a playlist is refused before any player sees it
	}
	if err != nil {
		srv.Close()
		return nil, err
	}
	wait := announceAndServe(ctx, g, srv, url, "")
	p, err := stream.LaunchPlayer(ctx, url, player)
	switch {
	case errors.Is(err, stream.ErrNoPlayer):
		fmt.Fprintf(g.Stderr, "No media player found (install mpv or ffplay); open the address above in one.\n")
	case err != nil:
		srv.Close()
		wait()
		return nil, err
	case p != nil && !g.JSON:
		fmt.Fprintf(g.Stderr, "Started %s on it.\n", p.Name)
	}
	return func() {
		if p != nil {
			p.Stop()
		}
		srv.Close()
		wait()
	}, nil
}
