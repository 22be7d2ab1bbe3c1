package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestGUICommandLine(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		code    int
		wantErr string
	}{
		{"not a link", []string{"gui", "holiday.mp4"}, nil, 2, "want a hydre: link"},
		{"unknown screen", []string{"gui", "--screen", "games"}, nil, 2, "unknown screen"},
		{"help", []string{"gui", "-h"}, nil, 0, "Open the desktop app"},
		{"no display", []string{"gui"}, map[string]string{"DISPLAY": "", "WAYLAND_DISPLAY": ""}, 1, "no graphical display"},
		{"no display, no command", nil, map[string]string{"DISPLAY": "", "WAYLAND_DISPLAY": ""}, 1, "no graphical display"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			args := append([]string{"--data-dir", t.TempDir()}, tt.args...)
			if code := run(args, &stdout, &stderr); code != tt.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String()+stdout.String(), tt.wantErr) {
				t.Errorf("output %q does not say %q", stderr.String(), tt.wantErr)
			}
		})
	}
}
