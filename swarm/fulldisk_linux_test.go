package swarm

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestFullDisk runs TestFullDiskChild in a process of its own, in new user
// and mount namespaces, where it can mount a small tmpfs: a real full disk
// (ENOSPC from the kernel) without touching the machine's mounts.
func TestFullDisk(t *testing.T) {
	out := testkit.RunChild(t, "TestFullDiskChild", syscall.CLONE_NEWNS, "HYDRE_FULLDISK_DIR="+t.TempDir())
	t.Logf("child:\n%s", out)
}

// TestFullDiskChild (run by TestFullDisk) downloads onto a tmpfs too small
// for the file, with the engine's state on it too: the download stops with
// an error that says the disk is full, keeps what it verified, and once
// there is room it resumes without fetching those chunks again and ends
// with the exact file.
func TestFullDiskChild(t *testing.T) {
	root := os.Getenv("HYDRE_FULLDISK_DIR")
	if root == "" {
		t.Skip("run by TestFullDisk")
	}
	const size = 4 << 20
	disk, resize := testkit.SmallDisk(t, root, "2m")

	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", func(c *Config) {
		c.DataDir, c.DownloadDir, c.Reshare = filepath.Join(disk, "data"), filepath.Join(disk, "dl"), false
	}, memnet.WithBandwidth(4<<20))
	b.dl = b.cfg.DownloadDir
	path, data := writeFile(t, t.TempDir(), "big.bin", size)
	st := a.share(path, 64<<10)
	b.get(st.Link)
	failed := b.waitFor(st.ID, 30*time.Second, "failed", func(s Status) bool { return s.State == StateFailed })
	if !strings.Contains(failed.Err, "no space left on device") {
		t.Errorf("error %q does not say the disk is full", failed.Err)
	}
	t.Logf("stopped at %d of %d bytes: %s", failed.Verified, size, failed.Err)
	if failed.Verified == 0 || failed.Verified >= size {
		t.Fatalf("verified %d of %d when the disk filled", failed.Verified, size)
	}

	// Room again: the verified chunks are still there, and only the others
	// cross the network.
	resize("16m")
	// The failed swarm's connection ends; a sends nothing more for it.
	testkit.Eventually(t, 10*time.Second, func() bool { s, _ := a.e.Status(st.ID); return s.Peers == 0 },
		func() string { s, _ := a.e.Status(st.ID); return fmt.Sprintf("the seeder still has %d peers", s.Peers) })
	before := upload(a, st)
	if err := b.e.Resume(st.ID); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.e.Status(st.ID); s.Verified < failed.Verified {
		t.Fatalf("after resume, %d bytes verified, %d before", s.Verified, failed.Verified)
	}
	done := b.waitDone(st.ID, 30*time.Second)
	checkFile(t, done.Path, data)
	sent := upload(a, st) - before
	if limit := size - failed.Verified + 8*(64<<10); sent > limit {
		t.Errorf("resuming fetched %d bytes; %d were missing (limit %d)", sent, size-failed.Verified, limit)
	}
	t.Logf("resuming fetched %d bytes for the %d missing", sent, size-failed.Verified)
}
