package swarm

import "syscall"

// childAttr makes a helper process (onionshare-cli) die with the test.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
