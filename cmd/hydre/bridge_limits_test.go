package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
	"github.com/hydre-p2p/hydre/bridge/node"
)

// TestBridgeServeLimits checks the limit flags of 'hydre bridge serve':
// their safe defaults, 0 as no limit, and refusals of bad values.
func TestBridgeServeLimits(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		args []string
		want node.Config // the fields checked; -1 is no limit
		bad  bool
	}{
		{args: nil, want: node.Config{Leech: bridge.Config{MaxSize: 8 << 30, MaxTorrents: 4}, DiskQuota: 64 << 30, MaxContents: 256, MaxFiles: 100, CacheTTL: 30 * day,
			MetadataTimeout: 3 * time.Minute, WriteTimeout: 2 * time.Minute}},
		{args: []string{"--max-size", "0", "--disk-quota", "0", "--max-fetches", "0", "--max-contents", "0"},
			want: node.Config{Leech: bridge.Config{MaxSize: -1, MaxTorrents: -1}, DiskQuota: -1, MaxContents: -1, MaxFiles: 100, CacheTTL: 30 * day,
				MetadataTimeout: 3 * time.Minute, WriteTimeout: 2 * time.Minute}},
		{args: []string{"--max-size", "20G", "--disk-quota", "1T", "--max-fetches", "2", "--max-contents", "40", "--max-files", "10",
			"--cache-days", "7", "--metadata-timeout", "90s", "--write-timeout", "30s"},
			want: node.Config{Leech: bridge.Config{MaxSize: 20 << 30, MaxTorrents: 2}, DiskQuota: 1 << 40, MaxContents: 40, MaxFiles: 10, CacheTTL: 7 * day,
				MetadataTimeout: 90 * time.Second, WriteTimeout: 30 * time.Second}},
		{args: []string{"--max-contents", "-1"}, bad: true},
		{args: []string{"--cache-days", "0"}, bad: true},
		{args: []string{"--write-timeout", "0s"}, bad: true},
	} {
		fs := flag.NewFlagSet("bridge serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var l nodeLimits
		l.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		err := l.check()
		var ue usageError
		if tc.bad {
			if !errors.As(err, &ue) {
				t.Errorf("%v: %v, want a usage error", tc.args, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		var got node.Config
		l.apply(&got)
		if got.Leech.MaxSize != tc.want.Leech.MaxSize || got.Leech.MaxTorrents != tc.want.Leech.MaxTorrents ||
			got.DiskQuota != tc.want.DiskQuota || got.MaxContents != tc.want.MaxContents || got.MaxFiles != tc.want.MaxFiles ||
			got.CacheTTL != tc.want.CacheTTL || got.MetadataTimeout != tc.want.MetadataTimeout || got.WriteTimeout != tc.want.WriteTimeout {
			t.Errorf("%v: got %+v", tc.args, got)
		}
	}
	// -h shows the defaults as an operator types them.
	fs := flag.NewFlagSet("bridge serve", flag.ContinueOnError)
	var b strings.Builder
	fs.SetOutput(&b)
	var l nodeLimits
	l.register(fs)
	fs.PrintDefaults()
	for _, want := range []string{"(default 8G)", "(default 64G)", "(default 256)", "(default 30)", "(default 3m0s)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("-h lacks %q:\n%s", want, b.String())
		}
	}
}
