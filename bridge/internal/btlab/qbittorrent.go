package btlab

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// QBittorrent runs a qbittorrent-nox with its own profile, driven through
// its Web API on 127.0.0.1 with a password of the test's.
type QBittorrent struct {
	p    *Proc
	api  string
	http *http.Client
}

// qbtConf is qBittorrent 4.5's configuration file: peers on 127.0.0.1:port
// over TCP only; DHT, local peer discovery, PeX, UPnP/NAT-PMP, extra
// trackers and peer-country look-ups off; the Web UI on 127.0.0.1 with a
// PBKDF2 password (its own format: base64 salt and key, SHA-512, 100000
// rounds).
const qbtConf = `[LegalNotice]
Accepted=true

[BitTorrent]
Session\Port=%d
Session\Interface=lo
Session\InterfaceName=lo
Session\InterfaceAddress=127.0.0.1
Session\DHTEnabled=false
Session\LSDEnabled=false
Session\PeXEnabled=false
Session\Encryption=%d
Session\BTProtocol=TCP
Session\AddTrackersEnabled=false
Session\QueueingSystemEnabled=false
Session\AnonymousModeEnabled=false
Session\GlobalMaxRatio=-1

[Network]
PortForwardingEnabled=false

[Preferences]
Connection\ResolvePeerCountries=false
General\StatusbarExternalIPDisplayed=false
WebUI\Address=127.0.0.1
WebUI\Port=%d
WebUI\LocalHostAuth=true
WebUI\Username=hydre
WebUI\Password_PBKDF2="@ByteArray(%s:%s)"
WebUI\HostHeaderValidation=true
WebUI\ServerDomains=127.0.0.1
WebUI\UseUPnP=false
`

// QBitEncryption values of qBittorrent's Session\Encryption setting.
const (
	QBitEncryptionAllow    = 0 // its default: dials with MSE, accepts plain
	QBitEncryptionRequire  = 1
	QBitEncryptionDisabled = 2
)

// StartQBittorrent starts a qbittorrent-nox listening for peers on
// 127.0.0.1:port with the given Session\Encryption setting, and logs in to
// its Web API.
func StartQBittorrent(t testing.TB, dir string, port, encryption int) *QBittorrent {
	t.Helper()
	NeedProgram(t, "qbittorrent-nox")
	conf := filepath.Join(dir, "qBittorrent", "config")
	if err := os.MkdirAll(conf, 0o700); err != nil {
		t.Fatal(err)
	}
	var pw, salt [16]byte
	rand.Read(pw[:])
	rand.Read(salt[:])
	password := hex.EncodeToString(pw[:])
	key, err := pbkdf2.Key(sha512.New, password, salt[:], 100000, 64)
	if err != nil {
		t.Fatal(err)
	}
	webPort := FreePort(t)
	b := fmt.Sprintf(qbtConf, port, encryption, webPort,
		base64.StdEncoding.EncodeToString(salt[:]), base64.StdEncoding.EncodeToString(key))
	if err := os.WriteFile(filepath.Join(conf, "qBittorrent.conf"), []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	p := StartProc(t, "qbittorrent-nox", "--profile="+dir)
	jar, _ := cookiejar.New(nil)
	q := &QBittorrent{p: p, api: fmt.Sprintf("http://127.0.0.1:%d/api/v2/", webPort),
		http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := q.post("auth/login", url.Values{"username": {"hydre"}, "password": {password}})
		if err == nil && out == "Ok." {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("qbittorrent web api not up: %q %v", out, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return q
}

func (q *QBittorrent) post(path string, form url.Values) (string, error) {
	resp, err := q.http.PostForm(q.api+path, form)
	if err != nil {
		return "", err
	}
	return readAPI(resp)
}

func readAPI(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("qbittorrent api: %s", resp.Status)
	}
	return string(b), nil
}

// AddFile adds a .torrent to seed: its data is complete in saveDir.
func (q *QBittorrent) AddFile(t testing.TB, torrentPath, saveDir string) {
	t.Helper()
	data, err := os.ReadFile(torrentPath)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("torrents", filepath.Base(torrentPath))
	fw.Write(data)
	w.WriteField("savepath", saveDir)
	// The seeder's data is complete: skip the check, whose end ("download
	// finished") reset a peer connecting at that moment, after which
	// libtorrent waited a minute before trying that peer again (a leecher
	// through a tap stayed in metaDL for 60 s, in CI and in 2 of 6 runs
	// here).
	w.WriteField("skip_checking", "true")
	w.Close()
	resp, err := q.http.Post(q.api+"torrents/add", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := readAPI(resp); err != nil || out != "Ok." {
		t.Fatalf("qbittorrent torrents/add: %q %v", out, err)
	}
}

// AddMagnet adds a magnet link, its data saved in saveDir.
func (q *QBittorrent) AddMagnet(t testing.TB, magnet, saveDir string) {
	t.Helper()
	if out, err := q.post("torrents/add", url.Values{"urls": {magnet}, "savepath": {saveDir}}); err != nil || out != "Ok." {
		t.Fatalf("qbittorrent torrents/add: %q %v", out, err)
	}
}

// AddPeer makes the torrent hash, once qBittorrent holds it, connect to
// addr (host:port).
func (q *QBittorrent) AddPeer(t testing.TB, hash, addr string) {
	t.Helper()
	q.Wait(t, 30*time.Second, hash, func(QBitTorrentInfo) bool { return true })
	out, err := q.post("torrents/addPeers", url.Values{"hashes": {hash}, "peers": {addr}})
	var res map[string]struct {
		Added int `json:"added"`
	}
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || res[strings.ToLower(hash)].Added != 1 {
		t.Fatalf("qbittorrent torrents/addPeers: %q %v", out, err)
	}
}

// QBitTorrentInfo is the part of the Web API's torrent info the tests read.
type QBitTorrentInfo struct {
	State    string  `json:"state"`
	Progress float64 `json:"progress"`
}

// Seeding says whether the torrent is complete and serves peers (progress
// reaches 1 while qBittorrent still checks the files).
func (i QBitTorrentInfo) Seeding() bool {
	switch i.State {
	case "uploading", "stalledUP", "forcedUP":
		return i.Progress == 1
	}
	return false
}

// Wait polls the torrent hash until ok is true of its info.
func (q *QBittorrent) Wait(t testing.TB, d time.Duration, hash string, ok func(QBitTorrentInfo) bool) QBitTorrentInfo {
	t.Helper()
	deadline := time.Now().Add(d)
	var last string
	for time.Now().Before(deadline) {
		resp, err := q.http.Get(q.api + "torrents/info?hashes=" + strings.ToLower(hash))
		if err == nil {
			out, err := readAPI(resp)
			last = out
			var infos []QBitTorrentInfo
			if err == nil && json.Unmarshal([]byte(out), &infos) == nil && len(infos) == 1 && ok(infos[0]) {
				return infos[0]
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("qbittorrent: torrent %s never as wanted; last info: %s", hash, last)
	return QBitTorrentInfo{}
}
