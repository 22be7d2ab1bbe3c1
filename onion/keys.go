package onion

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const keyPEMType = "PRIVATE KEY"

// LoadOrCreateKey returns the onion-service identity stored at path, creating
// a fresh one (file mode 0600, PKCS#8 PEM) when the file does not exist.
// Loading the same file again gives the same key, hence the same address.
// Use one file per identity.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		k, err := decodeKey(b)
		if err != nil {
			return nil, fmt.Errorf("load onion key %s: %w", path, err)
		}
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("load onion key: %w", err)
	}
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate onion key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode onion key: %w", err)
	}
	if err := writeFileExcl(path, pem.EncodeToMemory(&pem.Block{Type: keyPEMType, Bytes: der})); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process created it first: use theirs
			return LoadOrCreateKey(path)
		}
		return nil, fmt.Errorf("store onion key: %w", err)
	}
	return k, nil
}

func decodeKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != keyPEMType {
		return nil, errors.New("not a PEM private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, want ed25519", k)
	}
	return ek, nil
}

// writeFileExcl writes data to a new file at path with mode 0600, atomically:
// readers see either no file or the whole key.
func writeFileExcl(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Link fails if path exists, unlike Rename: never overwrite an identity.
	return os.Link(tmp.Name(), path)
}

// expandedKey returns the 64-byte expanded secret key tor's ADD_ONION
// ED25519-V3 takes: the clamped scalar followed by the hash prefix.
func expandedKey(k ed25519.PrivateKey) []byte {
	d := sha512.Sum512(k.Seed())
	d[0] &= 248
	d[31] &= 127
	d[31] |= 64
	return d[:]
}
