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
		"assets":        {},
		"crypto":        {},
		"onion":         {"crypto"}, // crypto.ParseOnion, the one validator of onion addresses
		"onion/memnet":  {"onion"},
		"onion/testnet": {"onion"},
		"swarm":         {"onion", "crypto"},
		// The leecher imports nothing of ours; the hidden node sits on it.
		"bridge":                {},
		"bridge/node":           {"bridge", "swarm", "onion", "crypto"},
		"bridge/internal/btlab": {"onion/testnet"}, // its testkit (test-only, as btlab is)
		"gui":                   {"swarm", "bridge", "crypto", "assets"},
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

	for _, d := range deps(t, "cmd/hydre") {
		if d.path == module+"/onion/memnet" {
			t.Errorf("the hydre binary links the in-memory transport; it must stay test-only")
		}
	}
}

// TestLayeringTransitive checks what reaches a package through any path,
// not only its direct imports: anacrolix (BitTorrent) never reaches the
// GUI, and no package of ours brings package testing into the binary (test
// helpers that take a testing.TB live apart, e.g. onion/testnet/testkit).
func TestLayeringTransitive(t *testing.T) {
	for _, d := range deps(t, "gui") {
		if strings.HasPrefix(d.path, "github.com/anacrolix/") {
			t.Errorf("anacrolix reaches the GUI: %s", d.path)
		}
	}
	var others []string
	for _, d := range deps(t, "cmd/hydre") {
		if !contains(d.imports, "testing") {
			continue
		}
		if strings.HasPrefix(d.path, module+"/") || d.path == module {
			t.Errorf("%s imports testing and is linked into the hydre binary: move its test helpers to a package of their own", d.path)
		} else {
			others = append(others, d.path)
		}
	}
	// Some dependencies import testing in their own non-test code; that
	// is theirs to fix, and said here so that it is seen.
	t.Logf("testing reaches the binary only through dependencies: %s", strings.Join(others, ", "))
}

type dep struct {
	path    string
	imports []string
}

// deps lists the packages pkg (a path under the module) is built from,
// itself included, with their direct imports.
func deps(t *testing.T, pkg string) []dep {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	var list []dep
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		list = append(list, dep{path: f[0], imports: f[1:]})
	}
	return list
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
