package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestGUIBridgeOnOff(t *testing.T) {
	g := &globals{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b := newGUIBridge(context.Background(), g)
	defer b.Close()
	ctx := context.Background()

	if st := b.Status(); st.Enabled {
		t.Fatalf("bridge on before being turned on: %+v", st)
	}
	if err := b.Fetch(ctx, "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"); err == nil || !strings.Contains(err.Error(), "turn it on") {
		t.Fatalf("fetch with bridge mode off: %v", err)
	}
	if err := b.SetEnabled(ctx, true); err != nil {
		t.Fatal(err)
	}
	st := b.Status()
	if !st.Enabled || st.Uploaded != 0 || st.AnnouncesSent != 0 || st.QueriesAnswered != 0 || st.AdvertsSent != 0 || st.IncomingAccepted != 0 {
		t.Fatalf("fresh bridge: %+v", st)
	}
	if err := b.Fetch(ctx, "magnet:?xt=urn:btih:zz"); err == nil {
		t.Errorf("a malformed magnet was accepted")
	}
	if err := b.SetEnabled(ctx, false); err != nil {
		t.Fatal(err)
	}
	if st := b.Status(); st.Enabled || len(st.Fetches) != 0 {
		t.Errorf("bridge still on after turning it off: %+v", st)
	}
}
