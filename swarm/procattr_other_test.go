//go:build !linux

package swarm

import "syscall"

func childAttr() *syscall.SysProcAttr { return nil }
