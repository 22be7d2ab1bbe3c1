package node

import (
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
)

// writeCrashTorrent writes a torrent whose two files cannot both exist
// ("d/x" is a file and the folder of "d/x/y"), with its data under dir as
// f0.bin and f1.bin for aria2's --index-out, and returns its path.
func writeCrashTorrent(t *testing.T, dir string) string {
	t.Helper()
	info := metainfo.Info{Name: "d\x00crash", PieceLength: 1 << 15}
	var data []io.Reader
	for i, path := range [][]string{{"x"}, {"x", "y"}} {
		p := filepath.Join(dir, fmt.Sprintf("f%d.bin", i))
		btlab.WritePayload(t, p, 100000, uint64(70+i))
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		data = append(data, f)
		info.Files = append(info.Files, metainfo.FileInfo{Path: path, Length: 100000})
	}
	r := io.MultiReader(data...)
	buf := make([]byte, info.PieceLength)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			s := sha1.Sum(buf[:n])
			info.Pieces = append(info.Pieces, s[:]...)
		}
		if err != nil {
			break
		}
	}
	ib, err := bencode.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bencode.Marshal(metainfo.MetaInfo{InfoBytes: ib})
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(dir, "crash.torrent")
	if err := os.WriteFile(tf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return tf
}

// TestNodeSurvivesHostileTorrents sends one node, at once, a torrent whose
// data cannot be written (a NUL byte in its name, and "d/x" both a file
// and the folder of "d/x/y": the library's answer to such a write error
// was a panic that took the whole node down; bridge's
// TestWriteErrorGivesUp covers the leecher's side), a magnet nobody has
// (it hangs until the requester leaves), and another user's ordinary
// magnet: the ordinary one is answered and its data fetched, bit for bit,
// in the same process.
func TestNodeSurvivesHostileTorrents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	hostileDir := t.TempDir()
	crashTF := writeCrashTorrent(t, hostileDir)
	crashPort := btlab.FreePort(t)
	aria := btlab.StartAria2Seeder(t, crashTF, hostileDir, crashPort, "--index-out=1=f0.bin", "--index-out=2=f1.bin")
	aria.Out.Wait(t, 60*time.Second, func(l string) bool { return strings.Contains(l, "listening on TCP port") })
	crashMI, err := metainfo.LoadFromFile(crashTF)
	if err != nil {
		t.Fatal(err)
	}

	lab := startLimitsLab(t, ctx, map[string]int64{"good.bin": 1<<20 + 9},
		Config{Peers: []string{fmt.Sprintf("127.0.0.1:%d", crashPort)}})

	crashDone := make(chan error, 1)
	go func() {
		rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
		defer rcancel()
		_, err := Request(rctx, lab.user, lab.node.Address(), "magnet:?xt=urn:btih:"+crashMI.HashInfoBytes().HexString(), nil)
		crashDone <- err
	}()
	hangDone := make(chan error, 1)
	go func() {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		defer rcancel()
		_, err := Request(rctx, lab.user, lab.node.Address(), randomMagnet(t), nil)
		hangDone <- err
	}()
	// The crashing torrent is answered (here refused: its files cannot
	// both be made) before the ordinary request, which must still work.
	crashErr := <-crashDone
	if crashErr == nil {
		t.Error("a torrent whose files cannot both exist was answered with links")
	}
	link, err := lab.request(t, ctx, "good.bin")
	if err != nil {
		t.Fatalf("another user's request while a torrent crashed and one hung: %v", err)
	}
	user := openEngine(t, lab.user, "user")
	got := fetchLink(t, ctx, user, link, t.TempDir())
	want := btlab.FileSHA(t, filepath.Join(lab.dir, "seed", "good.bin"))
	if btlab.FileSHA(t, got) != want {
		t.Fatal("the ordinary torrent's data differs")
	}
	t.Logf("crashing torrent's request ended with: %v", crashErr)
	t.Logf("hanging magnet's request ended with: %v", <-hangDone)
}
