package node

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// A FileLink is one file of a bridge node's answer: the hydre link of the
// file's data and where the file sits in the torrent. A node shares every
// file of a torrent as a content of its own (a hydre content is one file).
type FileLink struct {
	// Path is the file's slash-separated path in a multi-file torrent, its
	// first element the torrent's name; "" for a single-file torrent, whose
	// link names the file itself.
	Path string
	Link string
}

// maxAnswerFiles bounds the files a requester accepts in one answer.
const maxAnswerFiles = 4096

// LocalDir returns the folder, relative to a download folder, that the
// file goes into: the directories of Path ("" for a file at the top). The
// path comes from a stranger's torrent through the node, so each element
// is made one safe local name (crypto.SanitizeName: no separator, no "..",
// no control character, no device name): the folder never leaves the
// download folder.
func (f FileLink) LocalDir() string {
	elems := strings.Split(f.Path, "/")
	dirs := make([]string, 0, len(elems))
	for _, e := range elems[:len(elems)-1] {
		dirs = append(dirs, hcrypto.SanitizeName(e))
	}
	return filepath.Join(dirs...)
}

// DisplayPath returns Path fit to show (Printable): the path comes from a
// stranger's torrent.
func (f FileLink) DisplayPath() string { return Printable(f.Path) }

// writeAnswer sends a node's answer for files (docs/bridge.md):
// "link <link>\n" for a single-file torrent, else one
// "link <link> <quoted path>\n" per file and "end <count>\n".
func writeAnswer(w io.Writer, files []FileLink) error {
	if len(files) == 1 && files[0].Path == "" {
		_, err := fmt.Fprintf(w, "link %s\n", files[0].Link)
		return err
	}
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "link %s %s\n", f.Link, strconv.Quote(f.Path))
	}
	fmt.Fprintf(&b, "end %d\n", len(files))
	_, err := io.WriteString(w, b.String())
	return err
}

// answerReader collects the lines of an answer. add returns the complete
// answer (or an error), or nil, nil while more lines are due.
type answerReader struct {
	files []FileLink
}

// errNotAnswer is returned by answerReader.add for a line that is not part
// of an answer; the caller decides what else it may be.
var errNotAnswer = errors.New("not an answer line")

func (a *answerReader) add(line string) ([]FileLink, error) {
	word, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	switch word {
	case "link":
		text, quoted, multi := strings.Cut(rest, " ")
		if _, err := hcrypto.ParseLink(text); err != nil {
			return nil, fmt.Errorf("bridge node sent a bad link: %w", err)
		}
		if !multi {
			if len(a.files) > 0 {
				return nil, errors.New("bridge node mixed single- and multi-file answers")
			}
			return []FileLink{{Link: text}}, nil
		}
		p, err := strconv.Unquote(quoted)
		if err != nil || p == "" {
			return nil, errors.New("bridge node sent a bad file path")
		}
		if len(a.files) >= maxAnswerFiles {
			return nil, fmt.Errorf("bridge node sent more than %d files", maxAnswerFiles)
		}
		a.files = append(a.files, FileLink{Path: p, Link: text})
		return nil, nil
	case "end":
		n, err := strconv.Atoi(rest)
		if err != nil || n != len(a.files) || n == 0 {
			return nil, fmt.Errorf("bridge node announced %q files and sent %d", rest, len(a.files))
		}
		return a.files, nil
	case "error":
		return nil, fmt.Errorf("bridge node: %s", Printable(rest))
	}
	return nil, errNotAnswer
}
