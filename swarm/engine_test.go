package swarm

import (
	"fmt"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/memnet"
)

func TestShareGet(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	path, data := writeFile(t, t.TempDir(), "movie.mkv", 300<<10+123)
	st := a.share(path, 16<<10)
	if st.Kind != KindShare || st.Link == "" || st.Name != "movie.mkv" {
		t.Fatalf("share status %+v", st)
	}
	got := b.get(st.Link)
	done := b.waitDone(got.ID, 20*time.Second)
	checkFile(t, done.Path, data)
	if done.Name != "movie.mkv" || done.Verified != int64(len(data)) {
		t.Fatalf("status %+v", done)
	}
}

func TestShareGetSizes(t *testing.T) {
	for _, size := range []int{0, 1, 16<<10 - 1, 16 << 10, 16<<10 + 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			n := memnet.New()
			a := newNode(t, n, "a", nil)
			b := newNode(t, n, "b", nil)
			path, data := writeFile(t, t.TempDir(), "f.bin", size)
			st := a.share(path, 16<<10)
			got := b.get(st.Link)
			checkFile(t, b.waitDone(got.ID, 10*time.Second).Path, data)
		})
	}
}
