package main

import (
	"errors"
	"fmt"
	"strings"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// checkLinkArg checks the LINK of a command before tor starts: a hydre
// link, whole (its checksum catches a typo), or with viaBridge a magnet
// link for the bridge node to fetch. cmd names the command for the hint
// given to a magnet without a bridge.
func checkLinkArg(cmd, arg string, viaBridge bool) error {
	if strings.HasPrefix(strings.ToLower(arg), "magnet:") {
		switch {
		case viaBridge:
			return nil
		case cmd == "stream":
			return usageError{"a magnet link is not a hydre link: play it through a hidden bridge node with 'hydre get --bridge ONION --stream MAGNET'"}
		default:
			return usageError{"a magnet link is fetched through a hidden bridge node: add --bridge ONION"}
		}
	}
	if _, err := hcrypto.ParseLink(arg); err != nil {
		return usageError{linkMessage(arg, err)}
	}
	return nil
}

// linkMessage says once what is wrong with a link that hcrypto.ParseLink
// refused (its error names the operation and the sentinel, which the
// command's own prefix makes redundant), and calls a link that ends too
// early truncated. It never quotes the link.
func linkMessage(arg string, err error) string {
	msg := err.Error()
	if !errors.Is(err, hcrypto.ErrBadLink) {
		return msg
	}
	msg = strings.TrimPrefix(msg, "parse link: ")
	msg = strings.TrimSuffix(msg, ": "+hcrypto.ErrBadLink.Error())
	lastChar := fmt.Sprintf("position %d: not canonical base32", len(arg))
	switch {
	case strings.Contains(msg, "too short"):
		return "bad link: truncated (" + strings.TrimSuffix(msg, " (truncated?)") + "): copy the whole link"
	case strings.Contains(msg, lastChar) || strings.Contains(msg, "not whole base32"):
		// Base32 of whole bytes cannot end so: a link cut short, or
		// one with a character too many.
		return "bad link: truncated or with a character added (its length is wrong): copy the whole link"
	}
	return "bad link: " + msg
}
