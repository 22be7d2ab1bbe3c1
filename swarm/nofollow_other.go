//go:build !unix

package swarm

// oNoFollow is not available here; collection.go checks each file with
// Lstat instead.
const oNoFollow = 0
