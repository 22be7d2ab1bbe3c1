package crypto

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

const rendezvousVectorsPath = "../testdata/crypto/rendezvous.json"

// rvVectors are the test vectors of docs/protocol.md, Part III. Byte
// strings are hex; times are Unix seconds.
type rvVectors struct {
	Comment     string          `json:"comment"`
	SwarmSecret string          `json:"swarm_secret"`
	ContentID   string          `json:"content_id_hex"`
	SwarmTag    string          `json:"swarm_tag"`
	Schedules   []rvScheduleVec `json:"schedules"`
	Records     []rvRecordVec   `json:"records"`
	Answer      string          `json:"answer"`
}

type rvScheduleVec struct {
	Length int64       `json:"length_s"`
	Offset int64       `json:"offset_s"`
	At     int64       `json:"at_unix"`
	Margin int64       `json:"margin_s"`
	Slots  []rvSlotVec `json:"slots"`
}

type rvSlotVec struct {
	Period    uint64 `json:"period"`
	Index     int    `json:"index"`
	Seed      string `json:"seed"`
	PublicKey string `json:"public_key"`
	Onion     string `json:"onion"`
}

type rvRecordVec struct {
	HolderSeed string `json:"holder_seed"`
	Port       int    `json:"port"`
	Expires    int64  `json:"expires_unix"`
	Message    string `json:"signed_message"`
	Record     string `json:"record"`
	Register   string `json:"register"`
}

func computeRendezvousVectors(t *testing.T, in rvVectors) rvVectors {
	t.Helper()
	var sec SwarmSecret
	var id ContentID
	if _, err := hex.Decode(sec[:], []byte(in.SwarmSecret)); err != nil {
		t.Fatal(err)
	}
	if _, err := hex.Decode(id[:], []byte(in.ContentID)); err != nil {
		t.Fatal(err)
	}
	out := in
	tag := swarmTag(sec)
	out.SwarmTag = hex.EncodeToString(tag[:])
	out.Schedules = nil
	for _, sv := range in.Schedules {
		s := Schedule{Length: time.Duration(sv.Length) * time.Second, Offset: time.Duration(sv.Offset) * time.Second}
		slots, err := SlotsAt(sec, s, time.Unix(sv.At, 0), time.Duration(sv.Margin)*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		sv.Slots = nil
		for _, sl := range slots {
			pub := sl.PublicKey()
			sv.Slots = append(sv.Slots, rvSlotVec{Period: sl.Period, Index: sl.Index, Seed: hex.EncodeToString(sl.PrivateKey().Seed()),
				PublicKey: hex.EncodeToString(pub[:]), Onion: onionName(pub)})
		}
		out.Schedules = append(out.Schedules, sv)
	}
	out.Records = nil
	var rs []HolderRecord
	for _, rv := range in.Records {
		seed, _ := hex.DecodeString(rv.HolderSeed)
		r, err := NewHolderRecord(ed25519.NewKeyFromSeed(seed), rv.Port, time.Unix(rv.Expires, 0), id, sec)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
		b, _ := r.MarshalBinary()
		rv.Message = hex.EncodeToString(recordMessage(id, sec, r.Holder, r.Port, r.Expires))
		rv.Record = hex.EncodeToString(b)
		rv.Register = hex.EncodeToString(EncodeRegister(r))
		out.Records = append(out.Records, rv)
	}
	ans, err := EncodeAnswer(rs)
	if err != nil {
		t.Fatal(err)
	}
	out.Answer = hex.EncodeToString(ans)
	return out
}

func TestRendezvousVectors(t *testing.T) {
	in := rvVectors{
		Comment:     "hydre rendezvous discovery test vectors (docs/protocol.md, Part III). Regenerate with: go test ./crypto -run TestRendezvousVectors -update",
		SwarmSecret: hex.EncodeToString(bytes.Repeat([]byte{0x5a}, 32)),
		ContentID:   hex.EncodeToString(bytes.Repeat([]byte{0xc1}, 32)),
		Schedules: []rvScheduleVec{
			{Length: 0, Offset: 0, At: 1796644800, Margin: 3600}, // 2026-12-07 12:00 UTC: Tor's boundary, two periods
			{Length: 0, Offset: 0, At: 1796680800, Margin: 3600}, // 22:00 UTC: mid-period, three slots
			{Length: 600, Offset: 0, At: 1796680790, Margin: 60}, // a test schedule, near its boundary
		},
		Records: []rvRecordVec{
			{HolderSeed: hex.EncodeToString(bytes.Repeat([]byte{0x01}, 32)), Port: 7446, Expires: 1796688000},
			{HolderSeed: hex.EncodeToString(bytes.Repeat([]byte{0x02}, 32)), Port: 443, Expires: 1796684400},
		},
	}
	want := loadVectors(t, rendezvousVectorsPath, func() rvVectors { return computeRendezvousVectors(t, in) })
	got := computeRendezvousVectors(t, want)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("code disagrees with the vectors; got:\n%s", gb)
	}
	// A downloader's view: the answer decodes and every record verifies.
	var sec SwarmSecret
	var id ContentID
	_, _ = hex.Decode(sec[:], []byte(want.SwarmSecret))
	_, _ = hex.Decode(id[:], []byte(want.ContentID))
	ab, _ := hex.DecodeString(want.Answer)
	rs, err := DecodeAnswer(ab)
	if err != nil {
		t.Fatal(err)
	}
	if valid, bad := VerifyAnswer(rs, id, sec, time.Unix(want.Schedules[1].At, 0)); bad != 0 || len(valid) != len(want.Records) {
		t.Fatalf("answer: %d valid, %d bad", len(valid), bad)
	}
}
