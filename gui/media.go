package gui

import (
	"mime"
	"path/filepath"
	"strings"

	"github.com/hydre-p2p/hydre/swarm"
)

// mediaExtensions are the file name endings a media player plays, for a
// content whose media type says nothing (a sharer without mime.types).
var mediaExtensions = map[string]bool{
	".mp4": true, ".m4v": true, ".mkv": true, ".webm": true, ".avi": true, ".mov": true,
	".mpg": true, ".mpeg": true, ".ts": true, ".ogv": true, ".wmv": true, ".flv": true, ".3gp": true,
	".mp3": true, ".m4a": true, ".aac": true, ".flac": true, ".ogg": true, ".oga": true, ".opus": true,
	".wav": true, ".wma": true, ".aiff": true, ".mka": true,
}

// playable reports whether a player can play the content: an audio or
// video media type, or a name ending as media files do. Play is offered
// for these only (a disk image or a text file is not played).
func playable(st swarm.Status) bool {
	mt, _, _ := mime.ParseMediaType(st.MediaType)
	if strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/") ||
		mt == "application/ogg" || mt == "application/x-matroska" {
		return true
	}
	return mediaExtensions[strings.ToLower(filepath.Ext(st.Name))]
}
