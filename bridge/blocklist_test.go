package bridge

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseBlocklist(t *testing.T) {
	const list = `# comment
// eMule comment
Some Firm:1.2.3.0-1.2.3.255
Other: with colon:10.0.0.1-10.0.0.9
001.002.004.000 - 001.002.004.255 , 000 , eMule range
009.009.009.000 - 009.009.009.255 , 200 , allowed in eMule terms
v6 firm:2001:db8::-2001:db8::ffff
`
	rs, err := ParseBlocklist(strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	b := &Blocklist{file: rs}
	for _, tc := range []struct {
		ip      string
		blocked bool
	}{
		{"1.2.3.0", true}, {"1.2.3.255", true}, {"1.2.4.7", true}, {"1.2.5.0", false},
		{"10.0.0.5", true}, {"10.0.0.10", false}, {"9.9.9.9", false},
		{"2001:db8::10", true}, {"2001:db8::1:0", false}, {"::ffff:1.2.3.4", true},
	} {
		if got := b.Blocked(netip.MustParseAddr(tc.ip)); got != tc.blocked {
			t.Errorf("%s: blocked %v, want %v", tc.ip, got, tc.blocked)
		}
		if _, ok := b.Lookup(net.ParseIP(tc.ip)); ok != tc.blocked {
			t.Errorf("%s: Lookup %v, want %v", tc.ip, ok, tc.blocked)
		}
	}
	for _, bad := range []string{"no colon here", "x:1.2.3.4", "x:1.2.3.4-1.2.3", "x:1.2.3.9-1.2.3.1", "1.2.3.4 - 1.2.3.5 , lvl , d"} {
		if _, err := ParseBlocklist(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestBlocklistAddReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "list.p2p")
	os.WriteFile(path, []byte("firm:5.5.5.0-5.5.5.255\n"), 0o600)
	b, err := NewBlocklist(path)
	if err != nil {
		t.Fatal(err)
	}
	spy := netip.MustParseAddr("8.8.4.4")
	if added, err := b.Add(spy, "dht: spy, node"); err != nil || !added {
		t.Fatalf("add: %v %v", added, err)
	}
	if added, _ := b.Add(spy, "again"); added {
		t.Fatal("added twice")
	}
	if added, _ := b.Add(netip.MustParseAddr("5.5.5.5"), "already in file"); added {
		t.Fatal("added an address the file blocks")
	}
	os.WriteFile(path, []byte("firm:6.6.6.0-6.6.6.255\n"), 0o600) // the list is replaced on disk
	if err := b.Reload(); err != nil {
		t.Fatal(err)
	}
	if b.Blocked(netip.MustParseAddr("5.5.5.5")) || !b.Blocked(netip.MustParseAddr("6.6.6.6")) || !b.Blocked(spy) {
		t.Fatal("reload lost the new file or the spies")
	}
	fresh, err := NewBlocklist(filepath.Join(t.TempDir(), "none.p2p"))
	if err != nil || fresh.NumRanges() != 0 {
		t.Fatalf("missing file: %v, %d ranges", err, fresh.NumRanges())
	}
}

func FuzzParseBlocklist(f *testing.F) {
	f.Add("firm:1.2.3.0-1.2.3.255\n")
	f.Add("001.002.004.000 - 001.002.004.255 , 000 , eMule\n")
	f.Add("v6:2001:db8::-2001:db8::ffff\n# c\n")
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseBlocklist(strings.NewReader(s))
		if err != nil {
			return
		}
		for i, r := range rs {
			if r.last.Less(r.first) || (i > 0 && rs[i].first.Less(rs[i-1].first)) {
				t.Fatalf("bad range order: %v", rs)
			}
		}
	})
}
