package crypto

import (
	"io"
	"testing"
)

func TestSeekPosition(t *testing.T) {
	tests := []struct {
		name            string
		off             int64
		whence          int
		pos, size, want int64
		wantErr         bool
	}{
		{"start", 5, io.SeekStart, 3, 10, 5, false},
		{"current", -2, io.SeekCurrent, 3, 10, 1, false},
		{"end", -4, io.SeekEnd, 3, 10, 6, false},
		{"past the end", 5, io.SeekEnd, 3, 10, 15, false},
		{"before the start", -4, io.SeekCurrent, 3, 10, 3, true},
		{"bad whence", 1, 7, 3, 10, 3, true},
	}
	for _, tt := range tests {
		got, err := SeekPosition(tt.off, tt.whence, tt.pos, tt.size)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: SeekPosition = %d, %v; want %d, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}
