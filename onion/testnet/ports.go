package testnet

import (
	"fmt"
	"net"
)

// freePorts returns n distinct TCP ports free on 127.0.0.1 right now. The
// listeners are held until all are chosen, so the ports differ; another
// program may still take one before tor binds it, which Start reports as a
// node that exited.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
