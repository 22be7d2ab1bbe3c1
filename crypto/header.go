package crypto

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Header is the sealed metadata of a content. Only the key opens it.
type Header struct {
	Name      string    // file name, sanitized (SanitizeName)
	Size      int64     // plaintext size in bytes
	MediaType string    // e.g. "video/mp4"; sanitized, may be empty
	ChunkSize int       // plaintext bytes per chunk
	Created   time.Time // creation time, second precision, UTC; zero if unset
	// ManifestLen is, for a collection (collection.go), the length of its
	// manifest at the start of the plaintext; 0 for a single file.
	ManifestLen int64
}

// Collection reports whether the header is a collection's.
func (h Header) Collection() bool { return h.ManifestLen > 0 }

// Header encoding (plaintext, before sealing):
//
//	format (1) = 1 || size (8) || chunk size (4) || created (8, Unix seconds, 0 = unset)
//	|| name length (2) || name || media type length (1) || media type
//	|| zero padding to a multiple of headerBlock bytes.
//
// A collection's header is format 2: the same fields, then its manifest's
// length (4) before the padding.
//
// The padding hides the length of the name from blind hosts.
const (
	headerFormat       = 1
	headerFormatColl   = 2
	headerFixedLen     = 1 + 8 + 4 + 8 + 2 + 1
	headerBlock        = 256
	maxHeaderBlocks    = 8
	maxHeaderNameLen   = 1024 // accepted on the way in; SanitizeName bounds it to MaxNameBytes
	maxMediaTypeLen    = 255
	minSealedHeaderLen = headerBlock + Overhead
	maxSealedHeaderLen = maxHeaderBlocks*headerBlock + Overhead
)

func checkSealedHeaderLen(n int) error {
	if n < minSealedHeaderLen || n > maxSealedHeaderLen || (n-Overhead)%headerBlock != 0 {
		return fmt.Errorf("sealed header length %d is not k*%d+%d with 1 <= k <= %d", n, headerBlock, Overhead, maxHeaderBlocks)
	}
	return nil
}

// encodeHeader returns the padded plaintext encoding of h, whose fields must
// already be sanitized and bounded.
func encodeHeader(h Header) []byte {
	var created int64
	if !h.Created.IsZero() {
		created = h.Created.Unix()
	}
	n := headerFixedLen + len(h.Name) + len(h.MediaType) + 4
	b := make([]byte, 0, (n+headerBlock-1)/headerBlock*headerBlock+Overhead)
	if h.Collection() {
		b = append(b, headerFormatColl)
	} else {
		b = append(b, headerFormat)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(h.Size))
	b = binary.BigEndian.AppendUint32(b, uint32(h.ChunkSize))
	b = binary.BigEndian.AppendUint64(b, uint64(created))
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.Name)))
	b = append(b, h.Name...)
	b = append(b, byte(len(h.MediaType)))
	b = append(b, h.MediaType...)
	if h.Collection() {
		b = binary.BigEndian.AppendUint32(b, uint32(h.ManifestLen))
	}
	for len(b)%headerBlock != 0 {
		b = append(b, 0)
	}
	return b
}

// decodeHeader parses a padded plaintext header strictly, then sanitizes it.
func decodeHeader(b []byte) (Header, error) {
	if len(b) < headerFixedLen || len(b)%headerBlock != 0 {
		return Header{}, fmt.Errorf("bad length %d", len(b))
	}
	if b[0] != headerFormat && b[0] != headerFormatColl {
		return Header{}, fmt.Errorf("unknown header format %d", b[0])
	}
	var h Header
	h.Size = int64(binary.BigEndian.Uint64(b[1:9]))
	h.ChunkSize = int(binary.BigEndian.Uint32(b[9:13]))
	if created := int64(binary.BigEndian.Uint64(b[13:21])); created != 0 {
		h.Created = time.Unix(created, 0).UTC()
	}
	rest := b[21:]
	nl := int(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if nl > maxHeaderNameLen || nl+1 > len(rest) {
		return Header{}, fmt.Errorf("bad name length %d", nl)
	}
	name := string(rest[:nl])
	rest = rest[nl:]
	ml := int(rest[0])
	rest = rest[1:]
	if ml > len(rest) {
		return Header{}, fmt.Errorf("bad media type length %d", ml)
	}
	media := string(rest[:ml])
	rest = rest[ml:]
	if b[0] == headerFormatColl {
		if len(rest) < 4 {
			return Header{}, fmt.Errorf("no manifest length")
		}
		h.ManifestLen = int64(binary.BigEndian.Uint32(rest))
		rest = rest[4:]
		if h.ManifestLen < manifestFixedLen || h.ManifestLen > MaxManifestLen {
			return Header{}, fmt.Errorf("manifest length %d out of range [%d, %d]", h.ManifestLen, manifestFixedLen, MaxManifestLen)
		}
		if h.ChunkSize <= 0 || ManifestRegion(h.ManifestLen, int64(h.ChunkSize)) > h.Size {
			return Header{}, fmt.Errorf("manifest longer than the content")
		}
	}
	if len(rest) >= headerBlock {
		return Header{}, fmt.Errorf("padding longer than a block")
	}
	for _, c := range rest {
		if c != 0 {
			return Header{}, fmt.Errorf("non-zero padding")
		}
	}
	h.Name = SanitizeName(name)
	h.MediaType = SanitizeMediaType(media)
	return h, nil
}

// sealHeader encrypts the header of d under k. The nonce is fixed (domain
// 0x01, index 0): a key seals exactly one header. The additional data is the
// descriptor's fixed part, which binds the header to this content.
func sealHeader(k Key, d *Descriptor, h Header) []byte {
	plain := encodeHeader(h)
	n := nonceFor(nonceHeader, 0)
	return newAEAD(k).Seal(plain[:0], n[:], plain, d.fixedPart())
}

// OpenHeader decrypts and authenticates the sealed header with k, checks
// that it agrees with the descriptor (size and chunk size) and sanitizes the
// name and media type. Errors wrap ErrBadHeader.
func (d *Descriptor) OpenHeader(k Key) (Header, error) {
	if err := checkSealedHeaderLen(len(d.SealedHeader)); err != nil {
		return Header{}, fmt.Errorf("open header: %w: %w", err, ErrBadHeader)
	}
	n := nonceFor(nonceHeader, 0)
	plain, err := newAEAD(k).Open(nil, n[:], d.SealedHeader, d.fixedPart())
	if err != nil {
		return Header{}, fmt.Errorf("open header: authentication failed (wrong key or altered): %w", ErrBadHeader)
	}
	h, err := decodeHeader(plain)
	if err != nil {
		return Header{}, fmt.Errorf("open header: %w: %w", err, ErrBadHeader)
	}
	if h.Size != d.Size || h.ChunkSize != int(d.ChunkSize) {
		return Header{}, fmt.Errorf("open header: size or chunk size differs from the descriptor: %w", ErrBadHeader)
	}
	return h, nil
}
