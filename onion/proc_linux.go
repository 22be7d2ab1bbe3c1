package onion

import "syscall"

// childProcAttr makes a managed tor die with us even if we are killed, and
// puts it in a process group of its own: a Ctrl-C on the terminal or a
// SIGTERM to our group stops us, and we stop tor (Close), instead of tor
// exiting under a running node that then reports it went away.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}
