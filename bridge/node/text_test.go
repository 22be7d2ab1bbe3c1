package node

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// hostileText is what a hostile node might send to take over a terminal:
// set its title, clear it, move the cursor with a C1 CSI, reverse the
// text's direction, hide a word, and end with an invalid byte.
const hostileText = "\x1b]0;owned\x07\x1b[2J\u009b31mred\u202eevil\u200bhidden\r\x7f\xff done"

// checkPrintable fails if s holds anything Printable must have escaped.
func checkPrintable(t *testing.T, what, s string) {
	t.Helper()
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' || r == '\ufffd' {
			t.Errorf("%s holds %U: %q", what, r, s)
		}
	}
}

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"no metadata for this torrent", "no metadata for this torrent"},
		{"café — 東京/01 \"intro\".flac", "café — 東京/01 \"intro\".flac"},
		{"\x1b[31mred", `\x1b[31mred`},
		{"a\u009bb", `a\u009bb`},
		{"a\u202eb\u200bc", `a\u202eb\u200bc`},
		{"tab\there\nnext", `tab\x09here\x0anext`},
		{"bad \xff byte", `bad \xff byte`},
		{"real \ufffd kept", "real \ufffd kept"},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	checkPrintable(t, "Printable(hostile)", Printable(hostileText))
	long := Printable(strings.Repeat("\x1b", 4000))
	if len(long) > maxRemoteText+8 || !strings.HasSuffix(long, "…") {
		t.Errorf("long text shown as %d bytes (%q…)", len(long), long[:16])
	}
}

// TestRemoteTextCleaned runs a hostile node on the in-memory onion network
// whose error line and file path are escape sequences: what Request and
// OpenStream return, and a path's DisplayPath, show them escaped.
func TestRemoteTextCleaned(t *testing.T) {
	mn := memnet.New()
	l, err := mn.Node("hostile").Listen(context.Background(), onion.ServiceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	answers := make(chan string, 3)
	served := make(chan struct{})
	go func() {
		defer close(served)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(c).ReadString('\n')
			c.Write([]byte(<-answers))
			c.Close()
		}
	}()
	user := mn.Node("user")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"

	answers <- "error " + hostileText + "\n"
	_, err = Request(ctx, user, l.Address(), magnet, nil)
	if err == nil {
		t.Fatal("the hostile node's error was not returned")
	}
	checkPrintable(t, "Request's error", err.Error())
	if !strings.Contains(err.Error(), `\x1b]0;owned`) {
		t.Errorf("Request's error does not show what the node sent: %q", err)
	}

	answers <- "error " + hostileText + "\n"
	if _, err = OpenStream(ctx, user, l.Address(), magnet); err == nil {
		t.Fatal("the hostile node's stream error was not returned")
	}
	checkPrintable(t, "OpenStream's error", err.Error())

	answers <- "link " + testLink(1) + ` "album/\x1b[2Jcover\u202e.jpg"` + "\nend 1\n"
	files, err := Request(ctx, user, l.Address(), magnet, nil)
	if err != nil || len(files) != 1 {
		t.Fatalf("answer with a hostile path: %v, %v", files, err)
	}
	checkPrintable(t, "DisplayPath", files[0].DisplayPath())
	checkPrintable(t, "LocalDir", files[0].LocalDir())
	l.Close()
	<-served
}
