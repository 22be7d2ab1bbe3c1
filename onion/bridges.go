package onion

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Built-in bridge choices: Tor Browser's default bridges, for people
// whose network blocks Tor.
const (
	BridgesObfs4     = "obfs4"
	BridgesSnowflake = "snowflake"
)

// BridgeChoices are the names BuiltinBridges knows.
var BridgeChoices = []string{BridgesObfs4, BridgesSnowflake}

// ErrBadBridge is wrapped by every complaint about a bridge line.
var ErrBadBridge = errors.New("bad bridge line")

// builtinBridges are the bridge lines Tor Browser ships, from
// tor-browser-build's projects/tor-expert-bundle/pt_config.json
// (https://gitlab.torproject.org/tpo/applications/tor-browser-build, commit
// 01d3e9d35aabbc52bfad4e33686f1c83edfa3ce3 of 2026-04-09, "Update STUN
// Server List for Snowflake Default Bridge Line"). The snowflake lines add
// front= beside fronts=: Debian 12's snowflake-client (2.5.1) reads only
// front=, newer clients read both.
var builtinBridges = map[string][]string{
	BridgesObfs4: {
		"obfs4 37.218.245.14:38224 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D cert=bjRaMrr1BRiAW8IE9U5z27fQaYgOhX1UCmOpg2pFpoMvo6ZgQMzLsaTzzQNTlm7hNcb+Sg iat-mode=0",
		"obfs4 209.148.46.65:443 74FAD13168806246602538555B5521A0383A1875 cert=ssH+9rP8dG2NLDN2XuFw63hIO/9MNNinLmxQDpVa+7kTOa9/m+tGWT1SmSYpQ9uTBGa6Hw iat-mode=0",
		"obfs4 146.57.248.225:22 10A6CD36A537FCE513A322361547444B393989F0 cert=K1gDtDAIcUfeLqbstggjIw2rtgIKqdIhUlHp82XRqNSq/mtAjp1BIC9vHKJ2FAEpGssTPw iat-mode=0",
		"obfs4 45.145.95.6:27015 C5B7CD6946FF10C5B3E89691A7D3F2C122D2117C cert=TD7PbUO0/0k6xYHMPW3vJxICfkMZNdkRrb63Zhl5j9dW3iRGiCx0A7mPhe5T2EDzQ35+Zw iat-mode=0",
		"obfs4 51.222.13.177:80 5EDAC3B810E12B01F6FD8050D2FD3E277B289A08 cert=2uplIpLQ0q9+0qMFrK5pkaYRDOe460LL9WHBvatgkuRr/SL31wBOEupaMMJ6koRE6Ld0ew iat-mode=0",
		"obfs4 212.83.43.95:443 BFE712113A72899AD685764B211FACD30FF52C31 cert=ayq0XzCwhpdysn5o0EyDUbmSOx3X/oTEbzDMvczHOdBJKlvIdHHLJGkZARtT4dcBFArPPg iat-mode=1",
		"obfs4 212.83.43.74:443 39562501228A4D5E27FCA4C0C81A01EE23AE3EE4 cert=PBwr+S8JTVZo6MPdHnkTwXJPILWADLqfMGoVvhZClMq/Urndyd42BwX9YFJHZnBB3H0XCw iat-mode=1",
	},
	BridgesSnowflake: {
		"snowflake 192.0.2.3:80 2B280B23E1107BB62ABFC40DDCC8824814F80A72 fingerprint=2B280B23E1107BB62ABFC40DDCC8824814F80A72 url=https://1098762253.rsc.cdn77.org/ fronts=app.datapacket.com,www.datapacket.com front=app.datapacket.com ice=stun:stun.epygi.com:3478,stun:stun.uls.co.za:3478,stun:stun.voipgate.com:3478,stun:stun.mixvoip.com:3478,stun:stun.telnyx.com:3478,stun:stun.hot-chilli.net:3478,stun:stun.fitauto.ru:3478,stun:stun.m-online.net:3478 utls-imitate=hellorandomizedalpn",
		"snowflake 192.0.2.4:80 8838024498816A039FCBBAB14E6F40A0843051FA fingerprint=8838024498816A039FCBBAB14E6F40A0843051FA url=https://1098762253.rsc.cdn77.org/ fronts=app.datapacket.com,www.datapacket.com front=app.datapacket.com ice=stun:stun.epygi.com:3478,stun:stun.uls.co.za:3478,stun:stun.voipgate.com:3478,stun:stun.mixvoip.com:3478,stun:stun.telnyx.com:3478,stun:stun.hot-chilli.net:3478,stun:stun.fitauto.ru:3478,stun:stun.m-online.net:3478 utls-imitate=hellorandomizedalpn",
	},
}

// BuiltinBridges returns a copy of the built-in bridge lines of choice
// (BridgesObfs4 or BridgesSnowflake).
func BuiltinBridges(choice string) ([]string, error) {
	lines, ok := builtinBridges[choice]
	if !ok {
		return nil, fmt.Errorf("unknown built-in bridges %q (want %s)", choice, strings.Join(BridgeChoices, " or "))
	}
	return slices.Clone(lines), nil
}

// CheckBridgeLine reports what is wrong with a bridge line, in the form
// bridges.torproject.org hands out: an optional transport, IP:port, an
// optional 40-hex-digit fingerprint, then key=value arguments ("obfs4
// 192.0.2.1:443 FINGERPRINT cert=... iat-mode=0"). A leading "Bridge " is
// allowed. It does not look for the transport's program: Start does.
func CheckBridgeLine(line string) error {
	if err := checkLine(line); err != nil {
		return fmt.Errorf("%w: %w", ErrBadBridge, err)
	}
	if strings.Contains(line, "#") {
		return fmt.Errorf("%w: '#' would start a comment in tor's configuration", ErrBadBridge)
	}
	f := strings.Fields(line)
	if len(f) > 0 && f[0] == "Bridge" {
		f = f[1:]
	}
	if len(f) == 0 {
		return fmt.Errorf("%w: empty", ErrBadBridge)
	}
	tr := bridgeTransport(f[0])
	if tr != "" {
		if _, ok := pluggableTransports[tr]; !ok {
			return fmt.Errorf("%w: unknown pluggable transport %q (hydre runs obfs4 and snowflake)", ErrBadBridge, tr)
		}
		f = f[1:]
	}
	if len(f) == 0 {
		return fmt.Errorf("%w: no address after %q", ErrBadBridge, tr)
	}
	ap, err := netip.ParseAddrPort(f[0])
	if err != nil || ap.Port() == 0 {
		return fmt.Errorf("%w: %q is not an IP address and port", ErrBadBridge, f[0])
	}
	f = f[1:]
	if len(f) > 0 && !strings.Contains(f[0], "=") {
		if !isFingerprint(f[0]) {
			return fmt.Errorf("%w: %q is not a fingerprint (40 hexadecimal digits)", ErrBadBridge, f[0])
		}
		f = f[1:]
	}
	args := map[string]bool{}
	for _, a := range f {
		k, _, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return fmt.Errorf("%w: %q is not a key=value argument", ErrBadBridge, a)
		}
		args[k] = true
	}
	if tr == "obfs4" && !args["cert"] {
		return fmt.Errorf("%w: an obfs4 line needs its cert= argument", ErrBadBridge)
	}
	if tr == "" && len(args) > 0 {
		return fmt.Errorf("%w: arguments need a pluggable transport before the address", ErrBadBridge)
	}
	return nil
}

func isFingerprint(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
