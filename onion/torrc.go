package onion

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// pluggableTransports maps a bridge line's transport name to the Debian
// program that implements it (client side).
var pluggableTransports = map[string]string{
	"obfs4":        "obfs4proxy",
	"obfs3":        "obfs4proxy",
	"meek_lite":    "obfs4proxy",
	"scramblesuit": "obfs4proxy",
	"snowflake":    "snowflake-client",
}

// ptInstallHint says which Debian package holds each transport program.
var ptInstallHint = map[string]string{
	"obfs4proxy":       "install the package obfs4proxy ('sudo apt-get install obfs4proxy' on Debian or Ubuntu)",
	"snowflake-client": "install the package snowflake-client ('sudo apt-get install snowflake-client' on Debian or Ubuntu)",
}

// ErrNoTransport is returned by Start when a bridge line's pluggable
// transport program is not installed; the message names its package.
var ErrNoTransport = errors.New("pluggable transport missing")

// lookPath finds a program; a variable so tests can pretend.
var lookPath = exec.LookPath

// torrcParams are the per-process values of a managed tor's torrc.
type torrcParams struct {
	DataDirectory   string
	ControlPortFile string
	CookieFile      string
	OwnerPID        int
	Bridges         []string
	Extra           []string
}

// buildTorrc returns the torrc of a managed tor. Every value that comes from
// the caller is checked to be a single line, so it cannot smuggle options.
func buildTorrc(p torrcParams) (string, error) {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	for _, v := range []string{p.DataDirectory, p.ControlPortFile, p.CookieFile} {
		if err := checkLine(v); err != nil {
			return "", err
		}
	}
	line("# written by hydre; regenerated at every start")
	line("DataDirectory %s", quoteTorrc(p.DataDirectory))
	line("ControlPort 127.0.0.1:auto")
	line("ControlPortWriteToFile %s", quoteTorrc(p.ControlPortFile))
	line("CookieAuthentication 1")
	line("CookieAuthFile %s", quoteTorrc(p.CookieFile))
	line("SocksPort 127.0.0.1:auto IsolateSOCKSAuth ExtendedErrors")
	line("SocksPolicy accept 127.0.0.1")
	line("ClientOnly 1")
	line("Log notice stdout")
	if p.OwnerPID > 0 {
		line("__OwningControllerProcess %d", p.OwnerPID)
	}
	var bridges []string
	for _, br := range p.Bridges {
		if br = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(br), "Bridge ")); br != "" {
			bridges = append(bridges, br)
		}
	}
	if len(bridges) > 0 {
		line("UseBridges 1")
		plugins := map[string]bool{}
		for _, br := range bridges {
			if err := CheckBridgeLine(br); err != nil {
				return "", err
			}
			if tr := bridgeTransport(br); tr != "" {
				prog := pluggableTransports[tr]
				if !plugins[prog] {
					path, err := lookPath(prog)
					if err != nil {
						return "", fmt.Errorf("%w: %s bridges need the program %s: %s (%v)", ErrNoTransport, tr, prog, ptInstallHint[prog], err)
					}
					plugins[prog] = true
					var names []string
					for name, p := range pluggableTransports {
						if p == prog {
							names = append(names, name)
						}
					}
					sortStrings(names)
					line("ClientTransportPlugin %s exec %s", strings.Join(names, ","), path)
				}
			}
			line("Bridge %s", br)
		}
	}
	for _, x := range p.Extra {
		if err := checkLine(x); err != nil {
			return "", fmt.Errorf("extra torrc line: %w", err)
		}
		line("%s", x)
	}
	return b.String(), nil
}

// bridgeTransport returns the transport name of a bridge line, or "" for a
// plain "IP:port fingerprint" bridge.
func bridgeTransport(line string) string {
	first, _, _ := strings.Cut(line, " ")
	if strings.ContainsAny(first, ":.[") {
		return ""
	}
	return first
}

func checkLine(s string) error {
	if strings.ContainsAny(s, "\r\n\x00") {
		return errors.New("value spans several lines")
	}
	return nil
}

// quoteTorrc quotes a path for torrc when it holds spaces or quotes.
func quoteTorrc(s string) string {
	if !strings.ContainsAny(s, " \t\"\\#") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

func sortStrings(s []string) { slices.Sort(s) }
