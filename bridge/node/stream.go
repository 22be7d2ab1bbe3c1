package node

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/hydre-p2p/hydre/bridge"
	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
)

// maxInfoBytes bounds the info dictionary a node may send (a 1 TiB torrent
// with 256 KiB pieces has 80 MiB of hashes; bridges refuse such sizes).
const maxInfoBytes = 16 << 20

// Stream reads a torrent's data from a bridge node while the node leeches
// it. Every piece is checked against the SHA-1 in the info dictionary,
// itself checked against the magnet's info-hash, so the node need not be
// trusted. Seeking reconnects from the piece holding the new offset.
type Stream struct {
	ctx    context.Context
	tr     onion.Transport
	addr   string
	magnet string
	ih     metainfo.Hash

	info  *metainfo.Info
	conn  net.Conn
	r     *bufio.Reader
	next  int    // next piece to read from the connection
	buf   []byte // verified bytes not yet returned
	piece []byte
	pos   int64
	links []FileLink
	// atEnd is set by a seek to the end: the connection is mid-stream, so
	// Read ends without reading the link.
	atEnd bool
	stop  func() bool // releases the conn's context hook
}

// ErrBadPiece is returned when a node sends data that fails its hash.
var ErrBadPiece = errors.New("bridge node sent a piece that fails its hash")

// OpenStream asks the node at addr to stream magnet's data.
func OpenStream(ctx context.Context, tr onion.Transport, addr, magnet string) (*Stream, error) {
	m, err := metainfo.ParseMagnetUri(magnet)
	if err != nil || len(magnet) > maxRequestLine-64 || strings.ContainsAny(magnet, "\r\n") {
		return nil, errors.New("bridge stream: want a magnet link of at most 4 KiB")
	}
	s := &Stream{ctx: ctx, tr: tr, addr: addr, magnet: magnet, ih: m.InfoHash}
	if err := s.connect(0, 0); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stream) connect(piece int, skip int64) error {
	if s.conn != nil {
		s.stop()
		s.conn.Close()
	}
	c, err := s.tr.Dial(s.ctx, s.addr, onion.DialOptions{Isolation: "bridge"})
	if err != nil {
		return fmt.Errorf("bridge stream: %w: %w", ErrUnreachable, err)
	}
	s.conn = c
	s.stop = context.AfterFunc(s.ctx, func() { c.Close() })
	s.atEnd = false
	if _, err := fmt.Fprintf(c, "%sstream %d %s\n", protoPrefix, piece, s.magnet); err != nil {
		return fmt.Errorf("bridge stream: %w", err)
	}
	s.r = bufio.NewReaderSize(c, 64<<10)
	line, err := s.readLine()
	if err != nil {
		return err
	}
	word, rest, _ := strings.Cut(line, " ")
	if word == "error" {
		return fmt.Errorf("bridge node: %s", Printable(rest))
	}
	size, err := strconv.Atoi(rest)
	if word != "info" || err != nil || size <= 0 || size > maxInfoBytes {
		return errors.New("bridge stream: node speaks another protocol")
	}
	ib := make([]byte, size)
	if _, err := io.ReadFull(s.r, ib); err != nil {
		return fmt.Errorf("bridge stream: read info: %w", err)
	}
	if metainfo.Hash(sha1.Sum(ib)) != s.ih {
		return errors.New("bridge stream: node sent metadata of another torrent")
	}
	if s.info == nil {
		var info metainfo.Info
		if err := bencode.Unmarshal(ib, &info); err != nil {
			return fmt.Errorf("bridge stream: bad metadata: %w", err)
		}
		if info.PieceLength <= 0 || len(info.Pieces) != 20*info.NumPieces() || info.TotalLength() <= 0 {
			return errors.New("bridge stream: bad metadata")
		}
		s.info = &info
	}
	s.next = piece
	s.buf = nil
	s.pos = int64(piece)*s.info.PieceLength + skip
	if skip > 0 {
		if err := s.fill(); err != nil {
			return err
		}
		s.buf = s.buf[skip:]
	}
	return nil
}

func (s *Stream) readLine() (string, error) {
	var b bytes.Buffer
	for b.Len() < maxRequestLine {
		c, err := s.r.ReadByte()
		if err != nil {
			return "", fmt.Errorf("bridge stream: node closed: %w", err)
		}
		if c == '\n' {
			return b.String(), nil
		}
		b.WriteByte(c)
	}
	return "", errors.New("bridge stream: line too long")
}

// fill reads and checks the next piece.
func (s *Stream) fill() error {
	p := s.info.Piece(s.next)
	size := int(p.Length())
	if cap(s.piece) < size {
		s.piece = make([]byte, size)
	}
	s.piece = s.piece[:size]
	if _, err := io.ReadFull(s.r, s.piece); err != nil {
		return fmt.Errorf("bridge stream: read piece %d: %w", s.next, err)
	}
	want := s.info.Pieces[20*s.next : 20*s.next+20]
	if sum := sha1.Sum(s.piece); !bytes.Equal(sum[:], want) {
		return fmt.Errorf("%w: piece %d", ErrBadPiece, s.next)
	}
	s.next++
	s.buf = s.piece
	return nil
}

// Read returns verified data; at the end it reads the node's answer.
func (s *Stream) Read(p []byte) (int, error) {
	if len(s.buf) == 0 {
		if s.next >= s.info.NumPieces() {
			if s.links == nil && !s.atEnd {
				var ans answerReader
				for s.links == nil {
					line, err := s.readLine()
					if err != nil {
						return 0, err
					}
					if s.links, err = ans.add(line); err != nil {
						return 0, fmt.Errorf("bridge stream: %w", err)
					}
				}
			}
			return 0, io.EOF
		}
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	s.pos += int64(n)
	return n, nil
}

// Seek moves the read position; a move outside the current piece
// reconnects to the node.
func (s *Stream) Seek(off int64, whence int) (int64, error) {
	off, err := hcrypto.SeekPosition(off, whence, s.pos, s.info.TotalLength())
	if err != nil {
		return s.pos, fmt.Errorf("bridge stream: %w", err)
	}
	if off > s.info.TotalLength() {
		return s.pos, errors.New("bridge stream: seek out of range")
	}
	if off == s.pos {
		return off, nil
	}
	if off == s.info.TotalLength() {
		s.buf, s.next, s.pos, s.atEnd = nil, s.info.NumPieces(), off, true
		return off, nil
	}
	pl := s.info.PieceLength
	if err := s.connect(int(off/pl), off%pl); err != nil {
		return s.pos, err
	}
	return off, nil
}

// Close closes the connection to the node.
func (s *Stream) Close() error {
	if s.conn == nil {
		return nil
	}
	s.stop()
	return s.conn.Close()
}

// Name returns the torrent's name.
func (s *Stream) Name() string { return s.info.BestName() }

// Size returns the torrent's total length.
func (s *Stream) Size() int64 { return s.info.TotalLength() }

// Files lists the torrent's files: a multi-file torrent's data is its
// files one after the other, in this order.
func (s *Stream) Files() []bridge.File {
	if !s.info.IsDir() {
		return []bridge.File{{Path: s.info.BestName(), Length: s.info.TotalLength()}}
	}
	var out []bridge.File
	var off int64
	for _, f := range s.info.UpvertedFiles() {
		path := strings.Join(append([]string{s.info.BestName()}, f.BestPath()...), "/")
		out = append(out, bridge.File{Path: path, Offset: off, Length: f.Length})
		off += f.Length
	}
	return out
}

// Links returns the node's answer, sent after the data: one hydre link per
// file (nil before the stream reached its end).
func (s *Stream) Links() []FileLink { return s.links }
