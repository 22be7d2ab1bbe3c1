package testnet

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// node is one tor process of the network.
type node struct {
	Name      string `json:"name"`
	Authority bool   `json:"authority,omitempty"`
	Limited   bool   `json:"limited,omitempty"` // rate-limited relay
	ORPort    int    `json:"orPort"`            // advertised
	// ListenPort, when not 0, is the port tor listens on while a delay
	// proxy listens on ORPort and forwards to it.
	ListenPort  int    `json:"listenPort,omitempty"`
	DirPort     int    `json:"dirPort,omitempty"`
	Fingerprint string `json:"fingerprint"`
	V3Ident     string `json:"v3ident,omitempty"`
}

func (n *node) dir(root string) string { return filepath.Join(root, "nodes", n.Name) }

// dirAuthorityLine is the torrc line every member of the network shares.
func (n *node) dirAuthorityLine() string {
	return fmt.Sprintf("DirAuthority %s orport=%d no-v2 v3ident=%s 127.0.0.1:%d %s",
		n.Name, n.ORPort, n.V3Ident, n.DirPort, n.Fingerprint)
}

// genAuthorityKeys creates the authority identity, signing key and
// certificate with tor-gencert and records the v3 identity.
func genAuthorityKeys(ctx context.Context, gencert, root string, n *node) error {
	keys := filepath.Join(n.dir(root), "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, gencert, "--create-identity-key", "-m", "12",
		"-a", fmt.Sprintf("127.0.0.1:%d", n.DirPort),
		"-i", filepath.Join(keys, "authority_identity_key"),
		"-s", filepath.Join(keys, "authority_signing_key"),
		"-c", filepath.Join(keys, "authority_certificate"),
		"--passphrase-fd", "0")
	cmd.Stdin = strings.NewReader("\n")
	cmd.Dir = keys
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("tor-gencert for %s: %w: %s", n.Name, err, bytes.TrimSpace(out))
	}
	cert, err := os.ReadFile(filepath.Join(keys, "authority_certificate"))
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(cert))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "fingerprint "); ok {
			n.V3Ident = strings.TrimSpace(v)
			return nil
		}
	}
	return fmt.Errorf("tor-gencert for %s: no fingerprint in certificate", n.Name)
}

// genRelayKeys writes the node's RSA-1024 relay identity key where tor
// looks for it (keys/secret_id_key) and records its fingerprint: the SHA-1 of
// the DER public key. Tor makes the node's other keys when it starts; doing
// this one here saves a tor process per node on a busy machine.
func genRelayKeys(n *node, root string) error {
	keys := filepath.Join(n.dir(root), "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		return err
	}
	k, err := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // tor's relay identity keys are RSA-1024
	if err != nil {
		return fmt.Errorf("relay key for %s: %w", n.Name, err)
	}
	der := x509.MarshalPKCS1PrivateKey(k)
	if err := os.WriteFile(filepath.Join(keys, "secret_id_key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	sum := sha1.Sum(x509.MarshalPKCS1PublicKey(&k.PublicKey))
	n.Fingerprint = strings.ToUpper(hex.EncodeToString(sum[:]))
	return nil
}

// bandwidthsFile is the measured-bandwidth file the authorities of a
// rate-limited network vote from, under the network's directory.
const bandwidthsFile = "bandwidths"

// writeBandwidths writes, in the bandwidth-file format of tor's bandwidth
// authorities, the same measured bandwidth for every node. Without it the
// consensus weighs each relay by the bandwidth it observed itself, which on
// a young network is whatever traffic chance sent it: a few relays end up
// weighing several times the others, tor sends most circuits through them,
// and they, not the network, become the limit (on a 16-relay network at
// 1 MiB/s, one relay was picked 5 times as often as another). Relays of
// equal capacity get equal weights on the real network, where bandwidth
// authorities measure them.
func writeBandwidths(path string, nodes []*node, bandwidth int64, now time.Time) error {
	kb := max(bandwidth/1000, 1)
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", now.Unix())
	for _, n := range nodes {
		fmt.Fprintf(&b, "node_id=$%s bw=%d nick=%s\n", n.Fingerprint, kb, n.Name)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// commonTorrc holds the lines every member of the network uses, clients
// included.
func commonTorrc(auths []*node) []string {
	lines := []string{
		"TestingTorNetwork 1",
		"UseDefaultFallbackDirs 0",
	}
	for _, a := range auths {
		lines = append(lines, a.dirAuthorityLine())
	}
	return lines
}

// Voting intervals of the authorities. A network votes every
// bringUpVotingInterval until it is usable, then every steadyVotingInterval.
//
// A node publishes its descriptor only once it has a consensus and has built
// a circuit (or a minute after it started), so a network needs two or three
// consensus rounds before every node is listed, and the authorities, which
// start a second or two apart, often fail the first round (one rejects the
// others' votes because it has not yet scheduled its own). At a round a
// minute that cost 27 s to 105 s in 3 of 3 bring-ups; at one every 10 s
// those rounds take seconds. Once the network is up, every consensus sends
// every tor of the network to fetch it and its microdescriptors: at one
// every 10 s, 51 idle tors (48 relays) took 30% of two cores, at one a
// minute 5%.
const (
	bringUpVotingInterval = 10 * time.Second
	steadyVotingInterval  = 60 * time.Second
)

// nodeSettings are the network-wide values of a node's torrc.
type nodeSettings struct {
	root      string
	auths     []*node
	bandwidth int64 // RelayBandwidthRate of limited relays; 0: unlimited
	ownerPID  int   // __OwningControllerProcess; 0: none
	// votingInterval is an authority's V3AuthVotingInterval.
	votingInterval time.Duration
	// republished: every node of the network listens, and each node's
	// ContactInfo changes so that it uploads its descriptor again.
	republished bool
	// authorityGuards: only the authorities get the Guard flag
	// (Options.LimitMiddlesOnly).
	authorityGuards bool
}

// contactInfo returns a node's ContactInfo line. Tor uploads its descriptor
// to the authorities once at start, and again only when the descriptor
// changes, within a minute: an upload to an authority that did not listen
// yet is lost, and a node that started a few seconds before the
// authorities (on a loaded machine, tors take up to 38 s to start) stayed
// out of the consensus for a minute or more (bring-ups of 2 minutes). Once
// every node listens, Network.republish changes this line and reloads
// every node, which uploads its descriptor again at once.
func contactInfo(s nodeSettings) string {
	if s.republished {
		return "ContactInfo hydre private test network (every node up)"
	}
	return "ContactInfo hydre private test network"
}

// guardVote returns the authorities' TestingDirAuthVoteGuard line: every
// node, or with authorityGuards only the authorities (and strictly: see
// nodeTorrc). A tor of a limited-middles network takes one authority as its
// guard (EntryNodes); when that one guard is under a fifth of all those
// with the Guard flag, tor switches to its "restricted" guard context, and
// once a fresh tor stayed there, at "Loaded enough directory info", unable
// to pick its first hop for two minutes ("Failed to find node for hop #1"),
// while tors that stayed in the default context bootstrapped in seconds.
// Middles need no Guard flag, and on the real network most have none.
func guardVote(s nodeSettings) string {
	if !s.authorityGuards {
		return "TestingDirAuthVoteGuard *"
	}
	var fps []string
	for _, a := range s.auths {
		fps = append(fps, "$"+a.Fingerprint)
	}
	return "TestingDirAuthVoteGuard " + strings.Join(fps, ",")
}

// nodeTorrc returns the torrc of an authority or relay.
func nodeTorrc(n *node, s nodeSettings) string {
	root, auths, bandwidth, ownerPID := s.root, s.auths, s.bandwidth, s.ownerPID
	d := n.dir(root)
	lines := []string{
		"# written by hydre testnet",
		"DataDirectory " + d,
		"PidFile " + filepath.Join(d, "pid"),
		"Nickname " + n.Name,
		contactInfo(s),
		"Address 127.0.0.1",
		"AssumeReachable 1",
		"SocksPort 0",
		"ExitRelay 0",
		"ExitPolicy reject *:*",
		"Log notice file " + filepath.Join(d, "notice.log"),
		"ShutdownWaitLength 0",
		"SafeLogging 0",
		// Caches fetch each consensus as soon as it is published, not at a
		// random time within its interval: clients ask them for microdescs.
		"FetchDirInfoEarly 1",
		"FetchDirInfoExtraEarly 1",
	}
	if n.ListenPort != 0 {
		lines = append(lines,
			fmt.Sprintf("ORPort 127.0.0.1:%d NoListen", n.ORPort),
			fmt.Sprintf("ORPort 127.0.0.1:%d NoAdvertise", n.ListenPort))
	} else {
		lines = append(lines, fmt.Sprintf("ORPort 127.0.0.1:%d", n.ORPort))
	}
	lines = append(lines, commonTorrc(auths)...)
	if ownerPID > 0 {
		lines = append(lines, fmt.Sprintf("__OwningControllerProcess %d", ownerPID))
	}
	if n.Authority {
		lines = append(lines,
			fmt.Sprintf("DirPort 127.0.0.1:%d", n.DirPort),
			"AuthoritativeDirectory 1",
			"V3AuthoritativeDirectory 1",
			"TestingV3AuthInitialVotingInterval 5",
			"TestingV3AuthInitialVoteDelay 2",
			"TestingV3AuthInitialDistDelay 2",
			"TestingV3AuthVotingStartOffset 0",
			fmt.Sprintf("V3AuthVotingInterval %d", int(s.votingInterval.Seconds())),
			"V3AuthVoteDelay 2",
			"V3AuthDistDelay 2",
			"TestingDirAuthVoteExit *",
			guardVote(s),
			// Every running node is Stable. Tor takes only Stable nodes as
			// guards, and an authority gives Stable to the nodes whose
			// uptime is above the median: at bring-up that was one
			// authority of three, and every tor of a bench took it as its
			// guard (it then carried all the traffic, took 67% of a core
			// and 1 GB of queues, and was the bottleneck).
			"AuthDirVoteStableGuaranteeMinUptime 0",
			"AuthDirVoteStableGuaranteeMTBF 0",
			"TestingDirAuthVoteHSDir *",
			"TestingMinExitFlagThreshold 0",
		)
	}
	if n.Authority && s.authorityGuards {
		lines = append(lines, "TestingDirAuthVoteGuardIsStrict 1")
	}
	if n.Authority && bandwidth > 0 {
		lines = append(lines, "V3BandwidthsFile "+filepath.Join(root, bandwidthsFile))
	}
	if n.Limited && bandwidth > 0 {
		lines = append(lines,
			fmt.Sprintf("RelayBandwidthRate %d bytes", bandwidth),
			fmt.Sprintf("RelayBandwidthBurst %d bytes", bandwidth),
		)
	}
	return strings.Join(lines, "\n") + "\n"
}
