package btlab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// This file lists the process's own sockets as the kernel shows them in
// /proc: what a port scan of the machine would find of the bridge.

// ownSockets returns the inodes of this process's open sockets.
func ownSockets(t testing.TB) map[string]bool {
	t.Helper()
	mine := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, fd := range fds {
		l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			mine[strings.Trim(l[len("socket:"):], "[]")] = true
		}
	}
	return mine
}

// procSockets calls f with the fields of each line of the /proc/self/net
// tables named that belongs to a socket of this process.
func procSockets(t testing.TB, tables []string, f func(table string, fields []string)) {
	t.Helper()
	mine := ownSockets(t)
	for _, table := range tables {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) >= 10 && mine[fs[9]] {
				f(table, fs)
			}
		}
	}
}

// ListeningInodes returns the inodes of this process's TCP sockets in
// LISTEN state, as a port scan of the machine would find them, each with
// its table and local address.
func ListeningInodes(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	procSockets(t, []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"}, func(table string, fs []string) {
		if fs[3] == "0A" { // 0A: TCP_LISTEN
			out[fs[9]] = fmt.Sprintf("%s %s", filepath.Base(table), fs[1])
		}
	})
	return out
}

// UDPSockets returns the local addresses ("ip:port", as the kernel lists
// them in hex) of this process's UDP sockets, by inode: what a UDP scan
// of the machine can find of the bridge.
func UDPSockets(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	procSockets(t, []string{"/proc/self/net/udp", "/proc/self/net/udp6"}, func(_ string, fs []string) {
		out[fs[9]] = fs[1]
	})
	return out
}
