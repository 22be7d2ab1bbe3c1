package bridge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anacrolix/torrent/iplist"
)

// Blocklist is a set of IP ranges the bridge never contacts: no DHT query,
// no peer connection. It reads the PeerGuardian text format (".p2p":
// "description:first-last") and the eMule format (".dat": "first - last ,
// level , description", where a level of 128 or more means allowed), and
// can be reloaded from its file while in use. Spies found by the spy finder
// are added in memory and appended to the file.
//
// It implements anacrolix's iplist.Ranger and is safe for concurrent use.
type Blocklist struct {
	mu     sync.RWMutex
	path   string
	file   []blockRange // from the file, sorted, merged
	added  []blockRange // found at run time, sorted, merged
	addedN map[netip.Addr]string
}

type blockRange struct {
	first, last netip.Addr
	desc        string
}

// ErrBadBlocklistLine is wrapped by the errors of ParseBlocklist.
var ErrBadBlocklistLine = errors.New("bad blocklist line")

// maxBlocklistLines bounds what a file may hold (the big public lists have
// a few hundred thousand lines).
const maxBlocklistLines = 4 << 20

// NewBlocklist returns an empty blocklist that writes spies to path when
// path is not empty. If the file exists it is loaded.
func NewBlocklist(path string) (*Blocklist, error) {
	b := &Blocklist{path: path, addedN: map[netip.Addr]string{}}
	if path == "" {
		return b, nil
	}
	if err := b.Reload(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return b, nil
}

// Reload reads the file again, keeping the spies found at run time.
func (b *Blocklist) Reload() error {
	if b.path == "" {
		return nil
	}
	f, err := os.Open(b.path)
	if err != nil {
		return fmt.Errorf("open blocklist: %w", err)
	}
	defer f.Close()
	rs, err := ParseBlocklist(f)
	if err != nil {
		return fmt.Errorf("read blocklist %s: %w", b.path, err)
	}
	b.mu.Lock()
	b.file = rs
	b.mu.Unlock()
	return nil
}

// ParseBlocklist reads PeerGuardian (.p2p) or eMule (.dat) lines; blank
// lines and lines starting with '#' or "//" are skipped. The format is
// chosen per line. Ranges are returned sorted and merged.
func ParseBlocklist(r io.Reader) ([]blockRange, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	var rs []blockRange
	n := 0
	for sc.Scan() {
		n++
		if n > maxBlocklistLines {
			return nil, fmt.Errorf("more than %d lines", maxBlocklistLines)
		}
		r, ok, err := parseBlocklistLine(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if ok {
			rs = append(rs, r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return mergeRanges(rs), nil
}

func parseBlocklistLine(l []byte) (blockRange, bool, error) {
	l = bytes.TrimSpace(l)
	if len(l) == 0 || l[0] == '#' || bytes.HasPrefix(l, []byte("//")) {
		return blockRange{}, false, nil
	}
	if f := bytes.Split(l, []byte(",")); len(f) >= 2 && bytes.Contains(f[0], []byte(" - ")) {
		// eMule: "001.002.003.004 - 001.002.003.255 , 000 , description"
		ips := strings.SplitN(string(f[0]), "-", 2)
		level, err := strconv.Atoi(strings.TrimSpace(string(f[1])))
		if err != nil {
			return blockRange{}, false, fmt.Errorf("%w: level: %v", ErrBadBlocklistLine, err)
		}
		desc := ""
		if len(f) >= 3 {
			desc = strings.TrimSpace(string(bytes.Join(f[2:], []byte(","))))
		}
		r, err := makeRange(ips[0], ips[1], desc)
		if err != nil {
			return blockRange{}, false, err
		}
		return r, level < 128, nil
	}
	// PeerGuardian: "description:first-last". The description may hold
	// colons and so may IPv6 addresses: the first colon after which a range
	// parses ends the description.
	var firstErr error
	for i := 0; i < len(l); i++ {
		if l[i] != ':' {
			continue
		}
		ips := strings.SplitN(string(l[i+1:]), "-", 2)
		if len(ips) != 2 {
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: no hyphen", ErrBadBlocklistLine)
			}
			continue
		}
		r, err := makeRange(ips[0], ips[1], string(l[:i]))
		if err == nil {
			return r, true, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("%w: no colon", ErrBadBlocklistLine)
	}
	return blockRange{}, false, firstErr
}

func makeRange(a, b, desc string) (blockRange, error) {
	first, err := parseDottedIP(a)
	if err != nil {
		return blockRange{}, err
	}
	last, err := parseDottedIP(b)
	if err != nil {
		return blockRange{}, err
	}
	if first.Is4() != last.Is4() || last.Less(first) {
		return blockRange{}, fmt.Errorf("%w: range %s-%s", ErrBadBlocklistLine, first, last)
	}
	return blockRange{first: first, last: last, desc: desc}, nil
}

// parseDottedIP accepts eMule's zero-padded quads ("001.002.003.004") as
// well as ordinary addresses.
func parseDottedIP(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if parts := strings.Split(s, "."); len(parts) == 4 {
		var q [4]byte
		for i, p := range parts {
			v, err := strconv.ParseUint(p, 10, 8)
			if err != nil || p == "" || len(p) > 3 {
				return netip.Addr{}, fmt.Errorf("%w: address %q", ErrBadBlocklistLine, s)
			}
			q[i] = byte(v)
		}
		return netip.AddrFrom4(q), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: address %q", ErrBadBlocklistLine, s)
	}
	return a.Unmap(), nil
}

func mergeRanges(rs []blockRange) []blockRange {
	slices.SortFunc(rs, func(a, b blockRange) int {
		if c := a.first.Compare(b.first); c != 0 {
			return c
		}
		return a.last.Compare(b.last)
	})
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].last.Is4() == r.first.Is4() &&
			(!out[n-1].last.Less(r.first) || out[n-1].last.Next() == r.first) {
			if out[n-1].last.Less(r.last) {
				out[n-1].last = r.last
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

func lookupRanges(rs []blockRange, a netip.Addr) (blockRange, bool) {
	i, found := slices.BinarySearchFunc(rs, a, func(r blockRange, a netip.Addr) int {
		return r.first.Compare(a)
	})
	if found {
		return rs[i], true
	}
	if i > 0 && rs[i-1].first.Is4() == a.Is4() && !rs[i-1].last.Less(a) {
		return rs[i-1], true
	}
	return blockRange{}, false
}

// Blocked reports whether a is in the list.
func (b *Blocklist) Blocked(a netip.Addr) bool {
	if b == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	b.mu.RLock()
	defer b.mu.RUnlock()
	if _, ok := lookupRanges(b.file, a); ok {
		return true
	}
	_, ok := lookupRanges(b.added, a)
	return ok
}

// Lookup implements iplist.Ranger.
func (b *Blocklist) Lookup(ip net.IP) (iplist.Range, bool) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || b == nil {
		return iplist.Range{}, false
	}
	a = a.Unmap()
	b.mu.RLock()
	defer b.mu.RUnlock()
	r, ok := lookupRanges(b.file, a)
	if !ok {
		r, ok = lookupRanges(b.added, a)
	}
	if !ok {
		return iplist.Range{}, false
	}
	return iplist.Range{First: net.IP(r.first.AsSlice()), Last: net.IP(r.last.AsSlice()), Description: r.desc}, true
}

// NumRanges implements iplist.Ranger.
func (b *Blocklist) NumRanges() int {
	if b == nil {
		return 0
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.file) + len(b.added)
}

// Add blocks a single address for the reason given and appends it to the
// file in the PeerGuardian format. It reports whether a was new.
func (b *Blocklist) Add(a netip.Addr, reason string) (bool, error) {
	a = a.Unmap()
	if !a.IsValid() || b.Blocked(a) {
		return false, nil
	}
	reason = strings.Map(func(r rune) rune {
		if r == ':' || r == '\n' || r == '\r' || r == ',' {
			return ' '
		}
		return r
	}, reason)
	b.mu.Lock()
	b.addedN[a] = reason
	b.added = mergeRanges(append(b.added, blockRange{first: a, last: a, desc: reason}))
	path := b.path
	b.mu.Unlock()
	if path == "" {
		return true, nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return true, fmt.Errorf("open blocklist for spies: %w", err)
	}
	line := fmt.Sprintf("hydre %s %s:%s-%s\n", reason, time.Now().UTC().Format("2006-01-02"), a, a)
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return true, fmt.Errorf("append spy to blocklist: %w", err)
	}
	return true, f.Close()
}

// Spies returns the addresses added at run time.
func (b *Blocklist) Spies() []netip.Addr {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]netip.Addr, 0, len(b.addedN))
	for a := range b.addedN {
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}
