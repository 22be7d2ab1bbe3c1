//go:build unix && !linux

package testnet

import "syscall"

// nodeProcAttr: without Pdeathsig, an attached node relies on
// __OwningControllerProcess to exit after us.
func nodeProcAttr(detach bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: detach, Setpgid: !detach}
}
