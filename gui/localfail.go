package gui

import (
	"path/filepath"
	"strings"

	"github.com/hydre-p2p/hydre/swarm"
)

// A download that fails for a local reason (its folder refuses the file,
// the disk is full) is stopped by the engine at once (StateFailed, the
// error in Status.Err) rather than left waiting for peers. Its row says
// so in plain words, with what to do, and Retry (Engine.Resume) tries
// again once the cause is fixed.

// localFailures are the local causes a failed download's error names, by
// the text of the system's error, and what a person can do about each.
var localFailures = []struct{ errText, say string }{
	{"no space left on device", "The disk is full: free some space, then Retry (or choose another download folder in Settings)"},
	{"disk quota exceeded", "Your disk quota is used up: free some space, then Retry"},
	{"permission denied", "hydre may not write in %s: allow it, then Retry (or choose another download folder in Settings)"},
	{"operation not permitted", "hydre may not write in %s: allow it, then Retry (or choose another download folder in Settings)"},
	{"read-only file system", "%s is on a read-only disk: choose another download folder in Settings, then Retry"},
}

// failureText says why a content failed, in plain words for a local cause
// (the engine's error after it, in brackets), else the engine's error.
func failureText(st swarm.Status) string {
	for _, f := range localFailures {
		if strings.Contains(st.Err, f.errText) {
			say := f.say
			if strings.Contains(say, "%s") {
				say = strings.Replace(say, "%s", folderOf(st), 1)
			}
			return say + " (" + st.Err + ")"
		}
	}
	return st.Err
}

// folderOf names the folder of a content's file, or "its folder" before
// one is known.
func folderOf(st swarm.Status) string {
	if st.Path == "" {
		return "the download folder"
	}
	return filepath.Dir(st.Path)
}
