package main

import (
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/gui"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestOffline runs TestOfflineChild in a process of its own, in new user
// and network namespaces: a computer with a loopback interface and no way
// out, where the real tor, with its real directory authorities, can reach
// nothing (and sends nothing anywhere).
func TestOffline(t *testing.T) {
	testkit.SkipWithoutTor(t)
	testkit.RunChild(t, "TestOfflineChild", syscall.CLONE_NEWNET, "HYDRE_OFFLINE_CHILD=1")
}

// loopbackUp brings up the loopback interface of a new network namespace
// (SIOCSIFFLAGS), where tor's control and SOCKS ports listen.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var ifr [40]byte // struct ifreq: the name, then the flags
	copy(ifr[:], "lo")
	binary.NativeEndian.PutUint16(ifr[16:], syscall.IFF_UP|syscall.IFF_LOOPBACK|syscall.IFF_RUNNING)
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); errno != 0 {
		return errno
	}
	return nil
}

// TestOfflineChild (run by TestOffline): with no network, 'hydre tor
// status', a 'hydre get' waiting for its tor and the app's start each say,
// once the bootstrap has stood still, that Tor cannot reach the network,
// why (tor's failed connections to relays: no route), and the way out
// (bridges).
func TestOfflineChild(t *testing.T) {
	if os.Getenv("HYDRE_OFFLINE_CHILD") == "" {
		t.Skip("run by TestOffline")
	}
	if err := loopbackUp(); err != nil {
		t.Fatalf("loopback up: %v", err)
	}
	for _, v := range []string{"HYDRE_TESTNET", "HYDRE_TOR_CONTROL", "HYDRE_TOR_COOKIE", "HYDRE_TOR_PASSWORD", "HYDRE_TOR_PATH"} {
		t.Setenv(v, "")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const why = "tor says: cannot connect to relays: no route to the network (is this computer offline?) [NOROUTE]"
	newGlobals := func() (*globals, *syncBuffer, *syncBuffer) {
		out, errb := &syncBuffer{}, &syncBuffer{}
		return &globals{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), Stdout: out, Stderr: errb,
			StuckAfter: 3 * time.Second}, out, errb
	}
	var wg sync.WaitGroup
	defer wg.Wait()

	wg.Go(func() { // hydre tor status
		g, out, errb := newGlobals()
		err := runCommand(ctx, g, "tor", []string{"status", "--stuck-after", "3s", "--timeout", "10s"})
		if err == nil || !strings.Contains(out.String(), "Tor cannot reach the Tor network: no relay answered in 3s (bootstrap 0% starting; "+why+")") ||
			!strings.Contains(out.String(), "--tor-bridges obfs4") {
			t.Errorf("tor status: %v\nstdout %s\nstderr %s", err, out.String(), errb.String())
		}
	})

	wg.Go(func() { // a command waiting for its tor
		g, _, errb := newGlobals()
		key := hcrypto.Key{9}
		link := hcrypto.Link{ID: hcrypto.ContentID{1, 2, 3}, Key: &key,
			Peers: []string{"2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:7446"}}.Encode()
		getCtx, stop := context.WithCancel(ctx)
		defer stop()
		done := make(chan error, 1)
		go func() { done <- runCommand(getCtx, g, "get", []string{"-o", t.TempDir(), link}) }()
		for !strings.Contains(errb.String(), why) {
			select {
			case err := <-done:
				t.Errorf("get ended before saying why: %v\n%s", err, errb.String())
				return
			case <-ctx.Done():
				t.Errorf("get never said why tor cannot reach the network:\n%s", errb.String())
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		if !strings.Contains(errb.String(), "Tor cannot reach the Tor network") || !strings.Contains(errb.String(), "bridges") {
			t.Errorf("get:\n%s", errb.String())
		}
		stop()
		<-done
	})

	// The app's start, as the app calls it.
	g, _, _ := newGlobals()
	got := make(chan gui.Progress, 64)
	appCtx, stopApp := context.WithCancel(ctx)
	started := make(chan error, 1)
	go func() {
		_, _, stop, err := g.guiStart(appCtx, gui.Settings{DownloadDir: t.TempDir()}, func(p gui.Progress) {
			select {
			case got <- p:
			default:
			}
		})
		if err == nil {
			stop()
		}
		started <- err
	}()
	var stuck gui.Progress
	for !stuck.Stuck {
		select {
		case p := <-got:
			if p.Stuck {
				stuck = p
			}
		case err := <-started:
			t.Fatalf("the app's start ended: %v", err)
		case <-ctx.Done():
			t.Fatal("the app was never told that tor is stuck")
		}
	}
	stopApp()
	<-started
	if !stuck.CannotReach || "tor says: "+stuck.Warning != why {
		t.Errorf("the app was told %+v", stuck)
	}
}
