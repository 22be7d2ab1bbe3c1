package swarm

import "math/bits"

// bitmap is a set of chunk indexes in the wire's Bitfield layout: bit i is
// the most significant bit first of byte i/8.
type bitmap []byte

func newBitmap(n int) bitmap { return make(bitmap, (n+7)/8) }

func (b bitmap) get(i int) bool { return i >= 0 && i/8 < len(b) && b[i/8]&(0x80>>(i%8)) != 0 }

func (b bitmap) set(i int) { b[i/8] |= 0x80 >> (i % 8) }

func (b bitmap) count() int {
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return n
}

// validFor reports whether b is a bitfield of exactly n chunks: the right
// length and no bit set past n.
func (b bitmap) validFor(n int) bool {
	if len(b) != (n+7)/8 {
		return false
	}
	if r := n % 8; r != 0 && b[len(b)-1]&(0xff>>r) != 0 {
		return false
	}
	return true
}
