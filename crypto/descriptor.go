package crypto

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Version is the format version of descriptors, headers and links.
const Version = 1

// VersionLive is the descriptor version of a live content: one whose chunks
// are sealed one by one as the data arrives (a bridge node's leech), each
// signed by a key the descriptor names instead of proven against a Merkle
// root known in advance (docs/protocol.md §12).
const VersionLive = 2

// Chunk sizes. A chunk size is a power of two between MinChunkSize and
// MaxChunkSize.
const (
	DefaultChunkSize = 256 << 10
	MinChunkSize     = 1 << 10
	MaxChunkSize     = 16 << 20
)

// MaxChunks bounds the number of chunks of one content, so that a descriptor
// from a stranger can never make a node allocate more than a few tens of MiB
// for its tree (2 * MaxChunks * 32 bytes at most). Seal raises the default
// chunk size for files that would exceed it.
const MaxChunks = 1 << 20

// MaxSize is the largest plaintext size: MaxChunks chunks of MaxChunkSize.
const MaxSize = int64(MaxChunks) * MaxChunkSize

// Descriptor encoding: version (1) || chunk size (4) || size (8) || root (32)
// || sealed header length (2) || sealed header.
const (
	descriptorFixedLen = 1 + 4 + 8 + 32 + 2
	// MaxDescriptorLen bounds an encoded descriptor.
	MaxDescriptorLen = descriptorFixedLen + maxSealedHeaderLen
)

// Descriptor is the public description of a sealed content: what blind hosts
// hold and serve beside the ciphertext chunks. Its hash is the ContentID.
type Descriptor struct {
	Version   uint8  // format version: Version, or VersionLive
	ChunkSize uint32 // plaintext bytes per chunk (the last may be shorter)
	Size      int64  // plaintext size in bytes
	// Root is the Merkle root over the ciphertext chunks; in a live content
	// (VersionLive) it is the Ed25519 public key that signs each chunk.
	Root         [32]byte
	SealedHeader []byte // the encrypted header (see OpenHeader)
}

// ID returns the content ID: BLAKE3(0x02 || descriptor encoding). The
// descriptor must be valid (see UnmarshalDescriptor); an invalid one yields
// the zero ID.
func (d *Descriptor) ID() ContentID {
	b, err := d.MarshalBinary()
	if err != nil {
		return ContentID{}
	}
	return ContentID(hashDomain(domainDescriptor, b))
}

// Live reports whether d describes a live content (VersionLive).
func (d *Descriptor) Live() bool { return d.Version == VersionLive }

// NumChunks returns the number of chunks: ceil(Size/ChunkSize), and 1 for an
// empty file (whose only chunk is empty and encrypts to a bare tag).
func (d *Descriptor) NumChunks() int { return numChunks(d.Size, int64(d.ChunkSize)) }

func numChunks(size, chunkSize int64) int {
	if size <= 0 || chunkSize <= 0 {
		return 1
	}
	return int((size + chunkSize - 1) / chunkSize)
}

// PlainRange returns the plaintext offset and length of chunk i, or (0, 0)
// for an index out of range. The only chunk of an empty file is (0, 0) too.
func (d *Descriptor) PlainRange(i int) (off int64, n int) {
	if i < 0 || i >= d.NumChunks() {
		return 0, 0
	}
	off = int64(i) * int64(d.ChunkSize)
	return off, int(min(int64(d.ChunkSize), d.Size-off))
}

// ChunkLen returns the ciphertext length of chunk i (its plaintext length
// plus Overhead), or 0 for an index out of range.
func (d *Descriptor) ChunkLen(i int) int {
	if i < 0 || i >= d.NumChunks() {
		return 0
	}
	_, n := d.PlainRange(i)
	return n + Overhead
}

// validate checks every field but the sealed header's content.
func (d *Descriptor) validate() error {
	if d.Version != Version && d.Version != VersionLive {
		return fmt.Errorf("unknown version %d: %w", d.Version, ErrBadDescriptor)
	}
	if err := checkChunkSize(int64(d.ChunkSize)); err != nil {
		return fmt.Errorf("%w: %w", err, ErrBadDescriptor)
	}
	if d.Size < 0 || d.Size > MaxSize {
		return fmt.Errorf("size %d out of range: %w", d.Size, ErrBadDescriptor)
	}
	if n := numChunks(d.Size, int64(d.ChunkSize)); n > MaxChunks {
		return fmt.Errorf("%d chunks is more than %d: %w", n, MaxChunks, ErrBadDescriptor)
	}
	if err := checkSealedHeaderLen(len(d.SealedHeader)); err != nil {
		return fmt.Errorf("%w: %w", err, ErrBadDescriptor)
	}
	return nil
}

func checkChunkSize(cs int64) error {
	if cs < MinChunkSize || cs > MaxChunkSize || bits.OnesCount64(uint64(cs)) != 1 {
		return fmt.Errorf("chunk size %d is not a power of two in [%d, %d]", cs, MinChunkSize, MaxChunkSize)
	}
	return nil
}

// fixedPart returns the descriptor encoding without the sealed header and
// its length: the additional data that binds the sealed header to it.
func (d *Descriptor) fixedPart() []byte {
	b := make([]byte, 0, descriptorFixedLen-2)
	b = append(b, d.Version)
	b = binary.BigEndian.AppendUint32(b, d.ChunkSize)
	b = binary.BigEndian.AppendUint64(b, uint64(d.Size))
	return append(b, d.Root[:]...)
}

// MarshalBinary returns the canonical encoding of the descriptor:
// version (1 byte) || chunk size (4, big endian) || size (8) || root (32) ||
// header length (2) || sealed header.
func (d *Descriptor) MarshalBinary() ([]byte, error) {
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("marshal descriptor: %w", err)
	}
	b := make([]byte, 0, descriptorFixedLen+len(d.SealedHeader))
	b = append(b, d.fixedPart()...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(d.SealedHeader)))
	return append(b, d.SealedHeader...), nil
}

// UnmarshalDescriptor decodes a descriptor received from anyone and checks
// that it hashes to want. It reads at most MaxDescriptorLen bytes and rejects
// anything non-canonical. Errors wrap ErrBadDescriptor.
func UnmarshalDescriptor(b []byte, want ContentID) (*Descriptor, error) {
	if len(b) < descriptorFixedLen || len(b) > MaxDescriptorLen {
		return nil, fmt.Errorf("unmarshal descriptor: bad length %d: %w", len(b), ErrBadDescriptor)
	}
	if b[0] != Version && b[0] != VersionLive {
		return nil, fmt.Errorf("unmarshal descriptor: unknown version %d: %w", b[0], ErrBadDescriptor)
	}
	d := &Descriptor{
		Version:   b[0],
		ChunkSize: binary.BigEndian.Uint32(b[1:5]),
		Size:      int64(binary.BigEndian.Uint64(b[5:13])),
	}
	copy(d.Root[:], b[13:45])
	hl := int(binary.BigEndian.Uint16(b[45:47]))
	if len(b) != descriptorFixedLen+hl {
		return nil, fmt.Errorf("unmarshal descriptor: header length %d does not match %d bytes: %w", hl, len(b), ErrBadDescriptor)
	}
	d.SealedHeader = append([]byte(nil), b[descriptorFixedLen:]...)
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("unmarshal descriptor: %w", err)
	}
	if got := ContentID(hashDomain(domainDescriptor, b)); got != want {
		return nil, fmt.Errorf("unmarshal descriptor: content id mismatch: %w", ErrBadDescriptor)
	}
	return d, nil
}
