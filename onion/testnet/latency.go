package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// delaysPIDFile, in a network's directory, holds the pid of the process
// that serves the delay proxies of a detached network (ServeDelays).
const delaysPIDFile = "delays.pid"

// delayed reports whether the network's links carry a latency.
func (s *state) delayed() bool { return s.Latency > 0 }

// startDelays puts a delay proxy on the advertised ORPort of every node,
// before the nodes start: in this process, or, for a detached network, in
// the process of opts.DelayCommand, which must call ServeDelays.
func (nw *Network) startDelays(ctx context.Context, opts Options) error {
	if !nw.st.delayed() {
		return nil
	}
	if !opts.Detach {
		for _, n := range nw.st.Nodes {
			p, err := listenDelayProxy(fmt.Sprintf("127.0.0.1:%d", n.ORPort), fmt.Sprintf("127.0.0.1:%d", n.ListenPort),
				nw.st.Latency, nw.st.Jitter)
			if err != nil {
				nw.closeDelays()
				return fmt.Errorf("%w: %s: %w", errNodeExited, n.Name, err)
			}
			nw.delays = append(nw.delays, p)
		}
		return nil
	}
	if len(opts.DelayCommand) == 0 {
		return errors.New("a detached network with a latency needs Options.DelayCommand")
	}
	os.Remove(filepath.Join(nw.dir, delaysPIDFile))
	args := append(opts.DelayCommand[1:len(opts.DelayCommand):len(opts.DelayCommand)], nw.dir)
	cmd := exec.Command(opts.DelayCommand[0], args...)
	out, err := os.OpenFile(filepath.Join(nw.dir, "delays.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = nodeProcAttr(true)
	err = cmd.Start()
	out.Close()
	if err != nil {
		return fmt.Errorf("start delay proxies: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// ServeDelays writes its pid file once every proxy listens.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, alive := delaysPID(nw.dir); alive {
			cmd.Process.Release()
			return nil
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(filepath.Join(nw.dir, "delays.log"))
			return fmt.Errorf("%w: delay proxies: %v: %s", errNodeExited, err, strings.TrimSpace(string(b)))
		case <-ctx.Done():
			cmd.Process.Kill()
			return fmt.Errorf("start delay proxies: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func (nw *Network) closeDelays() {
	for _, p := range nw.delays {
		p.Close()
	}
	nw.delays = nil
}

// ServeDelays serves the delay proxies of the network being started in dir
// with Options.Detach and a latency, until ctx ends or the network stops
// ("hydre testnet down" ends this process). Start runs it through
// Options.DelayCommand ("hydre testnet delays DIR").
func ServeDelays(ctx context.Context, dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("serve delays: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return fmt.Errorf("serve delays: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("serve delays %s: %w", dir, err)
	}
	if !st.delayed() {
		return fmt.Errorf("serve delays %s: the network has no latency", dir)
	}
	var proxies []*delayProxy
	defer func() {
		for _, p := range proxies {
			p.Close()
		}
	}()
	for _, n := range st.Nodes {
		p, err := listenDelayProxy(fmt.Sprintf("127.0.0.1:%d", n.ORPort), fmt.Sprintf("127.0.0.1:%d", n.ListenPort), st.Latency, st.Jitter)
		if err != nil {
			return fmt.Errorf("serve delays of %s: %w", n.Name, err)
		}
		proxies = append(proxies, p)
	}
	if err := os.WriteFile(filepath.Join(dir, delaysPIDFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return fmt.Errorf("serve delays: %w", err)
	}
	<-ctx.Done()
	return nil
}

// delaysPID reads the pid of a detached network's delay process and says
// whether it is alive and still serving dir.
func delaysPID(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, delaysPIDFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if syscall.Kill(pid, 0) != nil || isZombie(pid) {
		return pid, false
	}
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil &&
		!strings.Contains(string(cmdline), dir) {
		return pid, false
	}
	return pid, true
}

// stopDelays ends a detached network's delay process, if it runs.
func stopDelays(dir string) {
	pid, alive := delaysPID(dir)
	if !alive {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil && !isZombie(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling another process's exit
	}
	if syscall.Kill(pid, 0) == nil && !isZombie(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	os.Remove(filepath.Join(dir, delaysPIDFile))
}
