package testnet

import "syscall"

// nodeProcAttr: a detached node gets its own session and outlives us; an
// attached one receives SIGTERM when this process dies, however it dies.
func nodeProcAttr(detach bool) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}
