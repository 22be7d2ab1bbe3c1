package onion

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ids", "a.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("reload gave another key")
	}
	if AddressForKey(k1.Public().(ed25519.PublicKey), 0) != AddressForKey(k2.Public().(ed25519.PublicKey), 0) {
		t.Fatal("reload gave another address")
	}
	k3, err := LoadOrCreateKey(filepath.Join(dir, "ids", "b.key"))
	if err != nil {
		t.Fatal(err)
	}
	if k3.Equal(k1) {
		t.Fatal("two identity files hold the same key")
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "ids"))
	if len(ents) != 2 {
		t.Fatalf("key dir holds %d files, want 2 (temp files left behind?)", len(ents))
	}
}

func TestLoadOrCreateKeyCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("LoadOrCreateKey accepted a corrupt file")
	}
	b, _ := os.ReadFile(path)
	if string(b) != "not a key" {
		t.Fatal("LoadOrCreateKey overwrote a corrupt key file")
	}
}
