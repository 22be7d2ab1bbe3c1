//go:build !linux

package onion

import "syscall"

// childProcAttr: outside Linux, TAKEOWNERSHIP alone ends tor with us.
func childProcAttr() *syscall.SysProcAttr { return nil }
