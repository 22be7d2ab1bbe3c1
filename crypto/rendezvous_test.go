package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestSchedulePeriods(t *testing.T) {
	tor := Schedule{}
	short := Schedule{Length: 10 * time.Minute, Offset: 3 * time.Minute}
	tests := []struct {
		name       string
		s          Schedule
		at         time.Time
		want       uint64
		start, end time.Time
	}{
		// rend-spec-v3 [TIME-PERIODS]: 2016-04-13 11:00 UTC is in period 16903.
		{"tor example", tor, time.Date(2016, 4, 13, 11, 0, 0, 0, time.UTC), 16903,
			time.Date(2016, 4, 12, 12, 0, 0, 0, time.UTC), time.Date(2016, 4, 13, 12, 0, 0, 0, time.UTC)},
		{"tor boundary", tor, time.Date(2016, 4, 13, 12, 0, 0, 0, time.UTC), 16904,
			time.Date(2016, 4, 13, 12, 0, 0, 0, time.UTC), time.Date(2016, 4, 14, 12, 0, 0, 0, time.UTC)},
		{"tor last second", tor, time.Date(2016, 4, 13, 11, 59, 59, 0, time.UTC), 16903,
			time.Date(2016, 4, 12, 12, 0, 0, 0, time.UTC), time.Date(2016, 4, 13, 12, 0, 0, 0, time.UTC)},
		{"before epoch offset", tor, time.Unix(3600, 0), 0, time.Unix(43200, 0), time.Unix(43200+86400, 0)},
		{"short", short, time.Unix(3*60+25*60+59, 0), 2, time.Unix(3*60+20*60, 0), time.Unix(3*60+30*60, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Period(tt.at); got != tt.want {
				t.Fatalf("Period = %d, want %d", got, tt.want)
			}
			st, en := tt.s.Bounds(tt.want)
			if !st.Equal(tt.start) || !en.Equal(tt.end) {
				t.Fatalf("Bounds = %v, %v; want %v, %v", st, en, tt.start, tt.end)
			}
		})
	}
	for _, bad := range []Schedule{{Length: 30 * time.Second}, {Length: time.Hour, Offset: time.Hour}, {Length: time.Hour, Offset: -1}, {Length: time.Minute + time.Millisecond}} {
		if err := bad.Validate(); !errors.Is(err, ErrBadRendezvous) {
			t.Errorf("Validate(%+v) = %v", bad, err)
		}
	}
}

func TestSlotsAt(t *testing.T) {
	sec := SwarmSecret(testKey(1))
	s := Schedule{Length: 10 * time.Minute}
	start, _ := s.Bounds(100)
	tests := []struct {
		name    string
		at      time.Time
		margin  time.Duration
		periods []uint64
	}{
		{"middle", start.Add(5 * time.Minute), time.Minute, []uint64{100}},
		{"near the end", start.Add(9*time.Minute + 30*time.Second), time.Minute, []uint64{100, 101}},
		{"just after the start", start.Add(30 * time.Second), time.Minute, []uint64{99, 100}},
		{"at the margin's edge", start.Add(9 * time.Minute), time.Minute, []uint64{100, 101}},
		{"before the margin", start.Add(9*time.Minute - time.Second), time.Minute, []uint64{100}},
		{"no margin", start, 0, []uint64{100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SlotsAt(sec, s, tt.at, tt.margin)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != RendezvousSlots*len(tt.periods) {
				t.Fatalf("%d slots, want %d", len(got), RendezvousSlots*len(tt.periods))
			}
			for k, sl := range got {
				p, i := tt.periods[k/RendezvousSlots], k%RendezvousSlots
				if sl.Period != p || sl.Index != i {
					t.Fatalf("slot %d is (%d, %d), want (%d, %d)", k, sl.Period, sl.Index, p, i)
				}
				want, _ := DeriveSlot(sec, s, p, i)
				if !bytes.Equal(sl.PrivateKey(), want.PrivateKey()) {
					t.Fatal("SlotsAt and DeriveSlot disagree")
				}
				if !sl.Start.Add(10*time.Minute).Equal(sl.End) || s.Period(sl.Start) != p {
					t.Fatalf("slot bounds %v-%v", sl.Start, sl.End)
				}
			}
		})
	}
	for _, m := range []time.Duration{-time.Second, 5 * time.Minute} {
		if _, err := SlotsAt(sec, s, start, m); !errors.Is(err, ErrBadRendezvous) {
			t.Errorf("margin %v: err = %v", m, err)
		}
	}
	if _, err := SlotsAt(SwarmSecret{}, s, start, 0); !errors.Is(err, ErrBadRendezvous) {
		t.Errorf("zero secret: err = %v", err)
	}
}

// TestSlotsDistinct checks that every input of the derivation changes every
// slot: secret, period, index, and the schedule (a test schedule never
// lands on a real slot).
func TestSlotsDistinct(t *testing.T) {
	seen := map[[32]byte]string{}
	add := func(name string, sec SwarmSecret, s Schedule, p uint64, i int) {
		sl, err := DeriveSlot(sec, s, p, i)
		if err != nil {
			t.Fatal(err)
		}
		pub := sl.PublicKey()
		if prev, ok := seen[pub]; ok {
			t.Fatalf("%s and %s derive the same slot", prev, name)
		}
		seen[pub] = name
		if _, port, err := ParsePeer(sl.Address(7446)); err != nil || port != 7446 {
			t.Fatalf("slot address does not parse: %v", err)
		}
	}
	for _, sec := range []byte{1, 2} {
		for _, s := range []Schedule{{}, {Length: TorPeriodLength}, {Length: time.Hour}, {Length: time.Hour, Offset: time.Minute}} {
			for p := uint64(20000); p < 20003; p++ {
				for i := range RendezvousSlots {
					add(fmt.Sprintf("secret %d %+v period %d slot %d", sec, s, p, i), SwarmSecret(testKey(sec)), s, p, i)
				}
			}
		}
	}
	// The zero Schedule is Tor's: the same slots as written out.
	a, _ := DeriveSlot(SwarmSecret(testKey(2)), Schedule{}, 20000, 0)
	b, _ := DeriveSlot(SwarmSecret(testKey(2)), Schedule{Length: TorPeriodLength, Offset: TorPeriodOffset}, 20000, 0)
	if a.PublicKey() != b.PublicKey() {
		t.Fatal("the zero schedule is not Tor's")
	}
	for _, i := range []int{-1, RendezvousSlots} {
		if _, err := DeriveSlot(SwarmSecret(testKey(1)), Schedule{}, 1, i); !errors.Is(err, ErrBadRendezvous) {
			t.Errorf("index %d: err = %v", i, err)
		}
	}
}
