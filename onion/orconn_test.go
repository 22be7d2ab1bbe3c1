package onion

import (
	"strings"
	"testing"

	"github.com/cretz/bine/control"
)

func TestORConnWarning(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"$2F51D0746765580A0A48BCAA21B56ECF797B903E FAILED REASON=NOROUTE NCIRCS=1 ID=17", "cannot connect to relays: no route to the network (is this computer offline?) [NOROUTE]"},
		{"$2F51D0746765580A0A48BCAA21B56ECF797B903E FAILED REASON=TIMEOUT NCIRCS=1 ID=3", "time out (the network may block Tor) [TIMEOUT]"},
		{"$2F51D0746765580A0A48BCAA21B56ECF797B903E FAILED REASON=DONE ID=3", "cannot connect to relays: they fail [DONE]"},
		{"$2F51D0746765580A0A48BCAA21B56ECF797B903E LAUNCHED ID=17", ""},
		{"$2F51D0746765580A0A48BCAA21B56ECF797B903E CONNECTED ID=17", ""},
		{"$2F51D0746765580A0A48BCAA21B56ECF797B903E FAILED ID=17", ""},
	}
	for _, tt := range tests {
		got := orconnWarning(control.ParseORConnEvent(tt.raw))
		if tt.want == "" && got != "" || !strings.HasSuffix(got, tt.want) {
			t.Errorf("orconnWarning(%q) = %q, want …%q", tt.raw, got, tt.want)
		}
	}
}
