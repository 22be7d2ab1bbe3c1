package crypto

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

// testPeer returns a valid peer hint derived from seed.
func testPeer(seed byte, port int) string {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)).Public().(ed25519.PublicKey)
	return peerString([32]byte(pub), port)
}

func TestOnionName(t *testing.T) {
	// A known v3 address (the Tor Project's website) validates.
	const torproject = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:443"
	if _, port, err := ParsePeer(torproject); err != nil || port != 443 {
		t.Fatalf("ParsePeer(torproject) = %d, %v", port, err)
	}
	pub, _, _ := ParsePeer(torproject)
	if got := peerString(pub, 443); got != torproject {
		t.Fatalf("peerString = %q", got)
	}
	bad := map[string]string{
		"no port":      strings.TrimSuffix(torproject, ":443"),
		"port 0":       strings.TrimSuffix(torproject, "443") + "0",
		"port 65536":   strings.TrimSuffix(torproject, "443") + "65536",
		"port +1":      strings.TrimSuffix(torproject, "443") + "+1",
		"port 0443":    strings.TrimSuffix(torproject, "443") + "0443",
		"port space":   strings.TrimSuffix(torproject, "443") + " 443",
		"not onion":    "example.com:443",
		"v2 length":    "expyuzz4wqqyqhjn.onion:80",
		"checksum":     "3gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:443",
		"bad char":     "1gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:443",
		"version byte": onionB32.EncodeToString(append(append(make([]byte, 32), onionChecksum(make([]byte, 32))...), 4)) + ".onion:1",
	}
	for name, addr := range bad {
		if _, _, err := ParsePeer(addr); !errors.Is(err, ErrBadLink) || !errors.Is(err, ErrBadOnion) || !strings.Contains(err.Error(), "bad onion address") {
			t.Errorf("%s: ParsePeer err = %v", name, err)
		}
		_, _, err := ParseOnion(addr)
		if !errors.Is(err, ErrBadOnion) || errors.Is(err, ErrBadLink) {
			t.Errorf("%s: ParseOnion err = %v", name, err)
		}
		if typo := name == "checksum" || name == "version byte"; errors.Is(err, ErrOnionChecksum) != typo {
			t.Errorf("%s: ParseOnion err = %v, wrapping ErrOnionChecksum: %v", name, err, !typo)
		}
	}
}

func TestLinkRoundTrip(t *testing.T) {
	id := ContentID(testKey(9))
	k := testKey(4)
	ck := [32]byte(testKey(5))
	peers := []string{testPeer(1, 7446), testPeer(2, 1)}
	many := make([]string, MaxPeers)
	for i := range many {
		many[i] = testPeer(byte(i), 65535-i)
	}
	sec := SwarmSecret(testKey(6))
	links := map[string]Link{
		"bare":               {ID: id},
		"host only":          {ID: id, Secret: &sec},
		"with key":           {ID: id, Secret: &sec, Key: &k},
		"key, no secret":     {ID: id, Key: &k},
		"with peers":         {ID: id, Secret: &sec, Key: &k, Peers: peers},
		"private":            {ID: id, Secret: &sec, Key: &k, Peers: peers, ClientKey: &ck},
		"client key, no key": {ID: id, Secret: &sec, ClientKey: &ck},
		"max peers":          {ID: id, Secret: &sec, Key: &k, Peers: many},
	}
	for name, l := range links {
		t.Run(name, func(t *testing.T) {
			if err := l.Validate(); err != nil {
				t.Fatal(err)
			}
			s := l.Encode()
			if !strings.HasPrefix(s, "hydre:") || strings.ToLower(s) != s {
				t.Fatalf("link text %q is not lower-case hydre:", s)
			}
			for _, c := range s[len("hydre:"):] {
				if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz234567", c) {
					t.Fatalf("link text holds %q", c)
				}
			}
			got, err := ParseLink(s)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, l) {
				t.Fatalf("round trip:\n got %s\nwant %s", got.Encode(), s)
			}
			if got.Encode() != s {
				t.Fatal("encode(parse(s)) != s")
			}
			// Tolerated transformations: case, white space, line wraps.
			for _, v := range []string{strings.ToUpper(s), "  " + s + "\n", s[:20] + "\n" + s[20:]} {
				if got, err := ParseLink(v); err != nil || got.Encode() != s {
					t.Fatalf("variant not accepted: %v", err)
				}
			}
		})
	}
}

func TestLinkTypos(t *testing.T) {
	k := testKey(4)
	s := Link{ID: ContentID(testKey(9)), Key: &k, Peers: []string{testPeer(1, 7446)}}.Encode()
	body := s[len("hydre:"):]
	alphabet := "abcdefghijklmnopqrstuvwxyz234567"
	// Every single-character substitution is detected.
	for pos := range len(body) {
		for _, c := range alphabet {
			if byte(c) == body[pos] {
				continue
			}
			typo := "hydre:" + body[:pos] + string(c) + body[pos+1:]
			if _, err := ParseLink(typo); !errors.Is(err, ErrBadLink) {
				t.Fatalf("typo at %d (%c) accepted", pos, c)
			}
		}
	}
	// Every adjacent transposition and every deletion is detected.
	for pos := 0; pos+1 < len(body); pos++ {
		if body[pos] == body[pos+1] {
			continue
		}
		b := []byte(body)
		b[pos], b[pos+1] = b[pos+1], b[pos]
		if _, err := ParseLink("hydre:" + string(b)); err == nil {
			t.Fatalf("transposition at %d accepted", pos)
		}
	}
	for pos := range len(body) {
		if _, err := ParseLink("hydre:" + body[:pos] + body[pos+1:]); err == nil {
			t.Fatalf("deletion at %d accepted", pos)
		}
	}
}

// rawLink encodes a link body as text with a valid checksum, for error tests.
func rawLink(body []byte) string {
	sum := hashDomain(domainLink, body)
	return "hydre:" + b32.EncodeToString(append(bytes.Clone(body), sum[:linkChecksumLen]...))
}

func TestLinkErrors(t *testing.T) {
	k := testKey(4)
	good := Link{ID: ContentID(testKey(9)), Key: &k}.Encode()
	body := func(version, flags byte, extra ...byte) []byte {
		b := append([]byte{version, flags}, make([]byte, 32)...)
		return append(b, extra...)
	}
	peer := func(port uint16) []byte {
		return binary.BigEndian.AppendUint16(make([]byte, 32), port)
	}
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", "not a hydre link"},
		{"other scheme", "magnet:?xt=urn:btih:abc", "not a hydre link"},
		{"bad character", "hydre:abc1def", "bad character at position 10"},
		{"punctuation", good[:30] + "!" + good[31:], "bad character"},
		{"truncated", good[:len(good)-5], "bad"},
		{"too short", "hydre:aaaa", "bad length"},
		{"huge", "hydre:" + strings.Repeat("a", 5000), "bad length"},
		{"checksum", good[:len(good)-1] + string("ab"[bytes.IndexByte([]byte("ba"), good[len(good)-1])&1]), "bad"},
		{"unknown version", rawLink(body(3, 0, 0)), "unknown version 3"},
		{"version 1", rawLink(body(1, 0, 0)), "unknown version 1"},
		{"version 0", rawLink(body(0, 0, 0)), "unknown version 0"},
		{"unknown flags", rawLink(body(2, 8, 0)), "unknown flags"},
		{"secret cut short", rawLink(body(2, linkFlagSecret, make([]byte, 10)...)), "bad length"},
		{"zero secret", rawLink(body(2, linkFlagSecret, make([]byte, 33)...)), "swarm secret is all zero"},
		{"key cut short", rawLink(body(2, linkFlagKey, make([]byte, 10)...)), "bad length"},
		{"missing peer count", rawLink(append(body(2, linkFlagKey), make([]byte, 32)...)), "bad length"},
		{"too many peers", rawLink(body(2, 0, MaxPeers+1)), "more than"},
		{"peer cut short", rawLink(append(body(2, 0, 1), peer(80)[:20]...)), "bad length"},
		{"trailing bytes", rawLink(body(2, 0, 0, 9)), "bad length"},
		{"peer port 0", rawLink(append(body(2, 0, 1), peer(0)...)), "bad onion address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLink(tt.text)
			if !errors.Is(err, ErrBadLink) {
				t.Fatalf("err = %v, want ErrBadLink", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to say %q", err, tt.want)
			}
			if len(tt.text) > 12 && strings.Contains(err.Error(), tt.text[6:]) {
				t.Fatalf("error quotes the link: %q", err)
			}
		})
	}
	// Bad checksum, precisely.
	b, _ := b32.DecodeString(good[len("hydre:"):])
	b[5] ^= 1
	if _, err := ParseLink("hydre:" + b32.EncodeToString(b)); err == nil || !strings.Contains(err.Error(), "bad checksum") {
		t.Fatalf("flipped bit: err = %v, want bad checksum", err)
	}
}

func TestLinkValidate(t *testing.T) {
	l := Link{ID: ContentID(testKey(1)), Peers: []string{testPeer(1, 80), "nope.onion:80"}}
	if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "peer 2") {
		t.Fatalf("Validate = %v", err)
	}
	got, err := ParseLink(l.Encode())
	if err != nil || len(got.Peers) != 1 || got.Peers[0] != testPeer(1, 80) {
		t.Fatalf("invalid peer not left out: %v %v", got.Peers, err)
	}
	// Upper-case peer hints are accepted and come back in canonical form.
	l = Link{ID: ContentID(testKey(1)), Peers: []string{strings.ToUpper(testPeer(3, 80))}}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRedaction(t *testing.T) {
	k := testKey(0xa0)
	ck := [32]byte(testKey(0xb0))
	sec := SwarmSecret(testKey(0xc0))
	l := Link{ID: ContentID(testKey(1)), Secret: &sec, Key: &k, ClientKey: &ck, Peers: []string{testPeer(1, 80)}}
	s := &Sealed{Key: k}
	slot, err := DeriveSlot(sec, Schedule{}, 20000, 1)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		fmt.Sprintf("%x", k[:]), fmt.Sprintf("%x", ck[:]), fmt.Sprintf("%x", sec[:]), b32.EncodeToString(k[:])[:20],
		b32.EncodeToString(sec[:])[:20], fmt.Sprint(k[:]), fmt.Sprint(ck[:]), fmt.Sprint(sec[:]), fmt.Sprintf("%#v", k[:]),
		l.Encode()[10:40], l.Encode()[60:90], fmt.Sprintf("%x", slot.PrivateKey().Seed()), slot.Address(80)[:20],
	}
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	log.Info("x", "link", l, "key", k, "secret", sec, "slot", slot)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "link", l, "key", k, "sealed", s, "secret", sec, "slot", slot)
	outputs := []string{logged.String(), l.String(), k.String(), sec.String(), slot.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, l), fmt.Sprintf(verb, k), fmt.Sprintf(verb, &l),
			fmt.Sprintf(verb, s), fmt.Sprintf(verb, *s), fmt.Sprintf(verb, []Key{k}), fmt.Sprintf(verb, map[string]Link{"a": l}),
			fmt.Sprintf(verb, sec), fmt.Sprintf(verb, &sec), fmt.Sprintf(verb, slot), fmt.Sprintf(verb, []Slot{slot}))
	}
	for _, out := range outputs {
		for _, sec := range secrets {
			if strings.Contains(out, sec) {
				t.Fatalf("secret leaked in %q", out)
			}
		}
	}
	if !strings.Contains(l.String(), l.ID.String()) {
		t.Fatal("redacted link lost its content id")
	}
}

func TestContentIDText(t *testing.T) {
	id := ContentID(testKey(7))
	s := id.String()
	if len(s) != IDTextLen {
		t.Fatalf("len = %d", len(s))
	}
	got, err := ParseContentID(strings.ToUpper(s) + " ")
	if err != nil || got != id {
		t.Fatalf("ParseContentID = %v, %v", got, err)
	}
	for pos := range len(s) {
		for _, c := range "abcdefghijklmnopqrstuvwxyz234567" {
			if byte(c) == s[pos] {
				continue
			}
			if _, err := ParseContentID(s[:pos] + string(c) + s[pos+1:]); !errors.Is(err, ErrBadLink) {
				t.Fatalf("typo at %d accepted", pos)
			}
		}
	}
	for _, bad := range []string{"", s[:55], s + "a", s[:10] + "0" + s[11:]} {
		if _, err := ParseContentID(bad); !errors.Is(err, ErrBadLink) {
			t.Fatalf("ParseContentID(%q) err = %v", bad, err)
		}
	}
}

func TestLinkNoUnicodeFolding(t *testing.T) {
	k := testKey(4)
	s := Link{ID: ContentID(testKey(9)), Key: &k}.Encode()
	i := strings.IndexByte(s[6:], 'k')
	if i < 0 {
		t.Skip("no k in this link")
	}
	kelvin := s[:6+i] + "\u212a" + s[6+i+1:]
	if _, err := ParseLink(kelvin); !errors.Is(err, ErrBadLink) {
		t.Fatalf("Kelvin sign folded into k: %v", err)
	}
	id := ContentID(testKey(9)).String()
	if j := strings.IndexByte(id, 'k'); j >= 0 {
		if _, err := ParseContentID(id[:j] + "\u212a" + id[j+1:]); err == nil {
			t.Fatal("content id: Kelvin sign folded into k")
		}
	}
}

func TestContentIDJSON(t *testing.T) {
	type rec struct {
		ID  ContentID            `json:"id"`
		Map map[ContentID]string `json:"map"`
	}
	id := ContentID(testKey(3))
	b, err := json.Marshal(rec{ID: id, Map: map[ContentID]string{id: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"id":"`+id.String()+`"`) {
		t.Fatalf("json = %s", b)
	}
	var got rec
	if err := json.Unmarshal(b, &got); err != nil || got.ID != id || got.Map[id] != "x" {
		t.Fatalf("json round trip: %+v, %v", got, err)
	}
	if err := json.Unmarshal([]byte(`{"id":"nope"}`), &got); !errors.Is(err, ErrBadLink) {
		t.Fatalf("bad id in json: %v", err)
	}
}

// TestLinkLengths holds docs/protocol.md §8 to its figures.
func TestLinkLengths(t *testing.T) {
	id, k, sec := ContentID(testKey(9)), testKey(4), SwarmSecret(testKey(6))
	for _, tt := range []struct {
		l    Link
		want int
	}{
		{Link{ID: id}, 69}, {Link{ID: id, Key: &k}, 120},
		{Link{ID: id, Secret: &sec}, 120}, {Link{ID: id, Secret: &sec, Key: &k}, 171},
		{Link{ID: id, Secret: &sec, Key: &k, Peers: []string{testPeer(1, 7446)}}, 171 + 55}, // 54 or 55 a hint, by base32 rounding
	} {
		if got := len(tt.l.Encode()); got != tt.want {
			t.Errorf("%v: %d characters, want %d", tt.l, got, tt.want)
		}
	}
	if l := (Link{ID: id, Secret: &sec, Key: &k, Peers: []string{testPeer(1, 80)}}).HostOnly(); l.Key != nil || l.Secret != &sec || len(l.Peers) != 1 {
		t.Errorf("HostOnly = %v", l)
	}
}
