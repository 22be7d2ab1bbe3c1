package wire

import (
	"strings"
	"testing"
)

func TestPEXNormalizes(t *testing.T) {
	m, err := DecodeBody(TypePEX, PEX{Addrs: []string{strings.ToUpper(testOnion[:62]) + testOnion[62:]}}.appendBody(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.(PEX).Addrs[0]; got != testOnion {
		t.Fatalf("got %q", got)
	}
}
