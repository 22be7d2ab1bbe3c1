package main

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		out     string
		seed    bool
		rest    []string
		wantErr bool
	}{
		{args: []string{"LINK"}, out: ".", rest: []string{"LINK"}},
		{args: []string{"-o", "dir", "LINK"}, out: "dir", rest: []string{"LINK"}},
		{args: []string{"LINK", "-o", "dir"}, out: "dir", rest: []string{"LINK"}},
		{args: []string{"A", "--seed", "B", "-o=x"}, out: "x", seed: true, rest: []string{"A", "B"}},
		{args: []string{"-o", "d", "--", "-odd-name", "-o"}, out: "d", rest: []string{"-odd-name", "-o"}},
		{args: []string{"LINK", "--nope"}, wantErr: true},
		{args: nil, out: ".", rest: []string{}},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		out := fs.String("o", ".", "")
		seed := fs.Bool("seed", false, "")
		err := parseArgs(fs, tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseArgs(%q) error = %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if *out != tt.out || *seed != tt.seed || !slices.Equal(fs.Args(), tt.rest) && !(len(fs.Args()) == 0 && len(tt.rest) == 0) {
			t.Errorf("parseArgs(%q) = o=%q seed=%v args=%q, want o=%q seed=%v args=%q", tt.args, *out, *seed, fs.Args(), tt.out, tt.seed, tt.rest)
		}
	}
}
