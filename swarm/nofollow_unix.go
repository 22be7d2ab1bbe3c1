//go:build unix

package swarm

import "syscall"

// oNoFollow makes an open fail on a symbolic link: a collection's files are
// opened by path, and a link put in their place must not redirect them.
const oNoFollow = syscall.O_NOFOLLOW
