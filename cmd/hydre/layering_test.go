package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/hydre-p2p/hydre"

// TestLayering keeps the house standing: dependencies point from the front
// ends down to the engine and from the engine down to onion and crypto, never
// back up, and the in-memory transport never reaches a release binary.
func TestLayering(t *testing.T) {
	// allowed lists, for each package of ours, the packages of ours it may
	// import directly (non-test code).
	allowed := map[string][]string{
		"crypto":        {},
		"onion":         {},
		"onion/memnet":  {"onion"},
		"onion/testnet": {"onion"},
		"swarm":         {"onion", "crypto"},
		// The leecher imports nothing of ours; the hidden node sits on it.
		"bridge":                {},
		"bridge/node":           {"bridge", "swarm", "onion", "crypto"},
		"bridge/internal/btlab": {},
		"gui":                   {"swarm", "bridge", "crypto"},
		"cmd/hydre":             {"gui", "swarm", "bridge", "bridge/node", "onion", "onion/testnet", "crypto"},
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		rule, ok := allowed[topOf(pkg, allowed)]
		if !ok {
			t.Errorf("package %s has no layering rule: add it to TestLayering", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module+"/") {
				if pkg == "gui" && (strings.HasPrefix(imp, "github.com/anacrolix/") || strings.HasPrefix(imp, "github.com/cretz/bine")) {
					t.Errorf("gui imports %s: the GUI talks to the engine only", imp)
				}
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if topOf(dep, allowed) == topOf(pkg, allowed) {
				continue
			}
			if !contains(rule, topOf(dep, allowed)) {
				t.Errorf("%s imports %s: not allowed (allowed: %v)", pkg, dep, rule)
			}
		}
	}

	deps, err := exec.Command("go", "list", "-deps", module+"/cmd/hydre").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, d := range strings.Fields(string(deps)) {
		if d == module+"/onion/memnet" {
			t.Errorf("the hydre binary links the in-memory transport; it must stay test-only")
		}
	}
}

// topOf maps a package path to the longest rule key that is a prefix of it,
// so that sub-packages follow their parent's rule unless they have their own.
func topOf(pkg string, rules map[string][]string) string {
	best := ""
	for k := range rules {
		if (pkg == k || strings.HasPrefix(pkg, k+"/")) && len(k) > len(best) {
			best = k
		}
	}
	if best == "" {
		return pkg
	}
	return best
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
