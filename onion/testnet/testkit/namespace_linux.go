package testkit

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// RunChild runs the test named child of this test binary in a process of
// its own, in a new user namespace and the namespaces flags adds
// (syscall.CLONE_NEWNS for its own mounts, syscall.CLONE_NEWNET for a
// network with a loopback interface only), with env added to its
// environment, and returns the child's output. It skips tb where the
// machine does not allow such namespaces (unprivileged user namespaces
// off) and fails it unless the child passed. The child skips itself when
// the variable its parent sets is missing, so a plain run of the package
// passes over it.
func RunChild(tb testing.TB, child string, flags uintptr, env ...string) []byte {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+child+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | flags,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		tb.Skipf("cannot start a process in new user and %s namespaces: %v", namespaceNames(flags), err)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: "+child) {
		tb.Fatalf("child: %v\n%s", err, out)
	}
	return out
}

// namespaceNames names the namespaces of flags, for a skip message.
func namespaceNames(flags uintptr) string {
	var names []string
	if flags&syscall.CLONE_NEWNS != 0 {
		names = append(names, "mount")
	}
	if flags&syscall.CLONE_NEWNET != 0 {
		names = append(names, "network")
	}
	return strings.Join(names, " and ")
}

// SmallDisk, in a child RunChild started with syscall.CLONE_NEWNS, makes
// the child's mounts private and mounts a tmpfs of the given size (as
// mount's size option says it: "1m") on a new folder in root: a real full
// disk, ENOSPC from the kernel, without touching the machine's mounts. It
// returns the folder and a function that remounts it with a new size (to
// give the disk room again); the tmpfs is unmounted when the test ends.
func SmallDisk(tb testing.TB, root, size string) (disk string, resize func(size string)) {
	tb.Helper()
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		tb.Fatalf("make mounts private: %v", err)
	}
	disk = filepath.Join(root, "disk")
	if err := os.Mkdir(disk, 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", disk, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		tb.Fatalf("mount tmpfs: %v", err)
	}
	tb.Cleanup(func() { syscall.Unmount(disk, syscall.MNT_DETACH) })
	return disk, func(size string) {
		tb.Helper()
		if err := syscall.Mount("tmpfs", disk, "tmpfs", syscall.MS_REMOUNT, "size="+size+",mode=0700"); err != nil {
			tb.Fatalf("grow tmpfs: %v", err)
		}
	}
}
