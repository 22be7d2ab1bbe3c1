package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// unreachableTor puts in place, through $HYDRE_TOR_PATH, the real tor told
// that the only directory authority is a closed port on 127.0.0.1 and that
// there are no fallback directories: a tor that cannot reach any network,
// as on a computer offline or behind a censor, and sends nothing beyond
// loopback.
func unreachableTor(t *testing.T) {
	t.Helper()
	testkit.SkipWithoutTor(t)
	torPath, err := exec.LookPath("tor")
	if err != nil {
		t.Skip("no tor")
	}
	script := filepath.Join(t.TempDir(), "tor")
	const auth = "closed orport=9 no-v2 v3ident=0000000000000000000000000000000000000000 127.0.0.1:9 0000000000000000000000000000000000000001"
	body := "#!/bin/sh\nexec '" + torPath + "' \"$@\" --DirAuthority '" + auth + "' --UseDefaultFallbackDirs 0\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"HYDRE_TESTNET", "HYDRE_TOR_CONTROL", "HYDRE_TOR_COOKIE", "HYDRE_TOR_PASSWORD"} {
		t.Setenv(v, "")
	}
	t.Setenv("HYDRE_TOR_PATH", script)
}

// TestTorCannotReachNetwork: 'hydre tor status' with a tor that reaches no
// relay says so once its bootstrap has stood still for --stuck-after (30 s
// by default), points to bridges, and fails with the same advice; with
// --json it says it in a "stuck" object.
func TestTorCannotReachNetwork(t *testing.T) {
	unreachableTor(t)
	home := t.TempDir()
	var out, errb bytes.Buffer
	code := run([]string{"--data-dir", home, "tor", "status", "--stuck-after", "2s", "--timeout", "8s"}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout %s\nstderr %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "Tor cannot reach the Tor network: no relay answered in 2s (bootstrap 0% starting") ||
		!strings.Contains(out.String(), "'hydre tor status --bridge LINE'") || !strings.Contains(out.String(), filepath.Join(home, "bridges.txt")) {
		t.Errorf("stdout does not say tor cannot reach the network and how to use bridges:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "did not bootstrap within 8s") || !strings.Contains(errb.String(), "Tor cannot reach the Tor network. Check this computer's connection") {
		t.Errorf("stderr: %s", errb.String())
	}

	out.Reset()
	errb.Reset()
	code = run([]string{"--data-dir", home, "--json", "tor", "status", "--stuck-after", "2s", "--timeout", "5s"}, &out, &errb)
	var stuck struct {
		Event        string
		Percent      int
		RelayReached bool
		Message      string
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, `"event":"stuck"`) {
			if err := json.Unmarshal([]byte(l), &stuck); err != nil {
				t.Fatal(err)
			}
		}
	}
	if code != 1 || stuck.Event != "stuck" || stuck.RelayReached || !strings.Contains(stuck.Message, "bridges") {
		t.Errorf("--json: exit %d, stuck event %+v\n%s", code, stuck, out.String())
	}
}
