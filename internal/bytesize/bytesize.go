// Package bytesize writes byte counts for people, the one way the command
// line and the desktop app both show sizes and rates ("1.5 MiB"). It
// imports nothing of hydre's.
package bytesize

import "fmt"

// Format writes n bytes with a binary prefix and one decimal, as file
// managers do: "512 B", "1.0 KiB", "1.5 MiB", "3.0 GiB".
func Format(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
