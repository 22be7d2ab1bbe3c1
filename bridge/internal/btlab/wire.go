package btlab

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// This file reads what BitTorrent clients send, independently of the
// bridge's own parser: a handshake captured by dialing a client, the names
// of a connection's first messages, the keys of a bencoded dictionary in
// the order written.

// CaptureHandshake dials a BitTorrent peer as a plain leecher would and
// returns its reserved bytes and its extended handshake, raw.
func CaptureHandshake(t testing.TB, addr string, ih metainfo.Hash) ([8]byte, []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	hs := append([]byte("\x13BitTorrent protocol"), 0, 0, 0, 0, 0, 0x10, 0, 0x04)
	hs = append(hs, ih[:]...)
	hs = append(hs, "-TR3000-capture12345"...)
	ext, _ := bencode.Marshal(map[string]any{"m": map[string]int{"ut_metadata": 3}, "v": "Transmission 3.00"})
	hs = binary.BigEndian.AppendUint32(hs, uint32(2+len(ext)))
	hs = append(append(hs, msgExtended, 0), ext...)
	if _, err := c.Write(hs); err != nil {
		t.Fatal(err)
	}
	var peerHS [68]byte
	if _, err := io.ReadFull(c, peerHS[:]); err != nil {
		t.Fatalf("read transmission's handshake: %v", err)
	}
	for {
		var lb [4]byte
		if _, err := io.ReadFull(c, lb[:]); err != nil {
			t.Fatalf("read transmission's messages: %v", err)
		}
		n := binary.BigEndian.Uint32(lb[:])
		if n == 0 || n > 1<<20 {
			continue
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(c, msg); err != nil {
			t.Fatal(err)
		}
		if msg[0] == msgExtended && len(msg) > 2 && msg[1] == 0 {
			return [8]byte(peerHS[20:28]), msg[2:]
		}
	}
}

// MsgNames names the first messages of a connection as the peer sees
// them: the type, and for extended messages the extended id and, for
// ut_metadata, its msg_type.
func MsgNames(msgs [][]byte) []string {
	var out []string
	for _, m := range msgs {
		name := fmt.Sprint(m[0])
		if m[0] == msgExtended && len(m) > 1 {
			name = fmt.Sprintf("ext%d", m[1])
			var d struct {
				T *int `bencode:"msg_type"`
			}
			if m[1] != 0 && bencode.NewDecoder(bytes.NewReader(m[2:])).Decode(&d) == nil && d.T != nil {
				name += fmt.Sprintf("/%d", *d.T)
			}
		}
		out = append(out, name)
	}
	return out
}

// BencodeKeys lists the keys of a bencoded dictionary in the order they are
// written, and those of its dictionary values as "key.sub".
func BencodeKeys(b []byte) ([]string, error) {
	keys, rest, err := benDictKeys(b, "")
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%d bytes after the dictionary", len(rest))
	}
	return keys, err
}

// benDictKeys reads the dictionary at the start of b.
func benDictKeys(b []byte, prefix string) (keys []string, rest []byte, err error) {
	if len(b) == 0 || b[0] != 'd' {
		return nil, nil, fmt.Errorf("not a dictionary")
	}
	b = b[1:]
	for len(b) > 0 && b[0] != 'e' {
		var k []byte
		if k, b, err = benString(b); err != nil {
			return nil, nil, err
		}
		keys = append(keys, prefix+string(k))
		if len(b) > 0 && b[0] == 'd' {
			var sub []string
			if sub, b, err = benDictKeys(b, prefix+string(k)+"."); err != nil {
				return nil, nil, err
			}
			keys = append(keys, sub...)
			continue
		}
		if b, err = benSkip(b); err != nil {
			return nil, nil, err
		}
	}
	if len(b) == 0 {
		return nil, nil, io.ErrUnexpectedEOF
	}
	return keys, b[1:], nil
}

func benString(b []byte) (s, rest []byte, err error) {
	i := bytes.IndexByte(b, ':')
	if i < 1 {
		return nil, nil, fmt.Errorf("bad string")
	}
	n, err := strconv.Atoi(string(b[:i]))
	if err != nil || n < 0 || n > len(b)-i-1 {
		return nil, nil, fmt.Errorf("bad string length")
	}
	return b[i+1 : i+1+n], b[i+1+n:], nil
}

// benSkip skips one value that is not a dictionary.
func benSkip(b []byte) ([]byte, error) {
	switch {
	case len(b) == 0:
		return nil, io.ErrUnexpectedEOF
	case b[0] == 'i':
		i := bytes.IndexByte(b, 'e')
		if i < 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return b[i+1:], nil
	case b[0] == 'l':
		b = b[1:]
		for len(b) > 0 && b[0] != 'e' {
			var err error
			if b[0] == 'd' {
				_, b, err = benDictKeys(b, "")
			} else {
				b, err = benSkip(b)
			}
			if err != nil {
				return nil, err
			}
		}
		if len(b) == 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return b[1:], nil
	default:
		_, rest, err := benString(b)
		return rest, err
	}
}
