package onion

import "syscall"

// childProcAttr makes a managed tor die with us even if we are killed.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
