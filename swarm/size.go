package swarm

import "fmt"

// FormatSize writes n bytes for people, with a binary prefix and one
// decimal as file managers do: "512 B", "1.0 KiB", "1.5 MiB", "3.0 GiB". It
// is the one way the command line and the desktop app show the sizes and
// rates of Status.
func FormatSize(n int64) string {
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
