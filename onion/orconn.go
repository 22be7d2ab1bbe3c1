package onion

import (
	"fmt"

	"github.com/cretz/bine/control"
)

// Why tor cannot reach the network. A tor that cannot connect to any
// relay says so in its bootstrap events only for some failures: on a
// computer with no network, connect() fails at once ("Network is
// unreachable") and tor's bootstrap stays at "0% starting" without a
// warning. Its ORCONN events carry the reason of every failed connection
// to a relay (control-spec, "ORCONN"), which Bootstrap adds to the
// bootstrap event as its Warning while tor has none of its own.

// orconnReasons words the reasons of failed connections to relays.
var orconnReasons = map[string]string{
	"NOROUTE":        "no route to the network (is this computer offline?)",
	"CONNECTREFUSED": "relays refuse the connection (the network may block Tor)",
	"TIMEOUT":        "connections to relays time out (the network may block Tor)",
	"IOERROR":        "connections to relays are cut (the network may block Tor)",
	"IDENTITY":       "a relay answered with the wrong identity (something on the network interferes)",
	"RESOURCELIMIT":  "this computer has run out of connections",
	"PT_MISSING":     "the bridge's transport program is missing",
}

// orconnWarning returns the warning a failed connection to a relay gives
// the bootstrap, "" for any other ORCONN event.
func orconnWarning(ev *control.ORConnEvent) string {
	if ev.Status != "FAILED" || ev.Reason == "" {
		return ""
	}
	why, ok := orconnReasons[ev.Reason]
	if !ok {
		why = "they fail"
	}
	return fmt.Sprintf("cannot connect to relays: %s [%s]", why, ev.Reason)
}
