// Package gui is hydre's desktop app, a Fyne window over the engine
// (package swarm): a Tor status area, then screens to share files (drop
// them on the window), download links with progress and play them while
// they arrive, drive the discreet BitTorrent bridge, and change settings.
//
// The app talks to the engine API only: it never imports onion or any
// BitTorrent library. The command line starts Tor and the engine through
// Options.Start, so the app can show Tor's bootstrap and reconnect after a
// settings change. Engine calls run off the UI thread; every update from
// another goroutine goes through fyne.Do, and progress events are merged so
// the UI is refreshed a few times a second at most.
package gui
