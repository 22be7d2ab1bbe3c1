package onion

import "testing"

func TestParseBootstrapPhase(t *testing.T) {
	tests := []struct {
		in   string
		want BootstrapEvent
		ok   bool
	}{
		{`NOTICE BOOTSTRAP PROGRESS=75 TAG=enough_dirinfo SUMMARY="Loaded enough directory info to build circuits"`,
			BootstrapEvent{Percent: 75, Tag: "enough_dirinfo", Summary: "Loaded enough directory info to build circuits"}, true},
		{`NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"`, BootstrapEvent{Percent: 100, Tag: "done", Summary: "Done"}, true},
		{`WARN BOOTSTRAP PROGRESS=10 TAG=conn_done SUMMARY="Connected to a relay" WARNING="Connection refused" REASON=CONNECTREFUSED COUNT=3 RECOMMENDATION=ignore HOSTID="AB" HOSTADDR="127.0.0.1:1"`,
			BootstrapEvent{Percent: 10, Tag: "conn_done", Summary: "Connected to a relay", Warning: "Connection refused"}, true},
		{`NOTICE BOOTSTRAP PROGRESS=5 TAG=x SUMMARY="a \"quoted\" word"`, BootstrapEvent{Percent: 5, Tag: "x", Summary: `a "quoted" word`}, true},
		{`NOTICE CIRCUIT_ESTABLISHED`, BootstrapEvent{}, false},
		{``, BootstrapEvent{}, false},
	}
	for _, tt := range tests {
		got, ok := parseBootstrapPhase(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseBootstrapPhase(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseBootstrapPhase(f *testing.F) {
	f.Add(`NOTICE BOOTSTRAP PROGRESS=75 TAG=enough_dirinfo SUMMARY="Loaded enough"`)
	f.Add(`WARN BOOTSTRAP PROGRESS=10 WARNING="x\\" y"`)
	f.Add(`NOTICE BOOTSTRAP SUMMARY="unterminated`)
	f.Fuzz(func(t *testing.T, s string) {
		parseBootstrapPhase(s) // must not panic or loop
	})
}
