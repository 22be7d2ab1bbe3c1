#!/usr/bin/env bash
# package-copyright.sh prints the copyright file of hydre's Debian package:
# hydre's notice, then the license of every Go module the binary links, as
# the module cache holds it (the binary carries their code).
# Usage: scripts/package-copyright.sh BINARY
set -euo pipefail
exe=$(realpath "$1")
cd "$(dirname "$0")/.."

declare -A dirs
while read -r mod dir; do
	dirs[$mod]=$dir
done < <(go list -m -f '{{.Path}}@{{.Version}} {{.Dir}}' all)

cat <<'HEAD'
hydre: share files by hash over Tor onion services
Source: https://github.com/hydre-p2p/hydre

Copyright: the hydre authors.
License: the project has not stated one yet.

The hydre binary links the Go modules below; each one's notice follows.
HEAD
go version -m "$exe" | awk '$1 == "dep" {print $2 "@" $3}' | while read -r mod; do
	dir=${dirs[$mod]:-}
	[ -n "$dir" ] || { echo "package-copyright: $mod is not in the module cache" >&2; exit 1; }
	printf '\n%s\n%s\n' "$mod" "${mod//?/-}"
	found=
	for f in "$dir"/LICENSE* "$dir"/LICENCE* "$dir"/COPYING* "$dir"/license* "$dir"/NOTICE*; do
		[ -f "$f" ] || continue
		printf '\n'
		found=1
		# Debian keeps the Apache license in /usr/share/common-licenses: a
		# package names it there instead of repeating its terms.
		awk '
			/^[[:space:]]*Apache License[[:space:]]*$/ { skip = 1 }
			skip && /END OF TERMS AND CONDITIONS/ {
				print "The Apache License, Version 2.0: its terms are in /usr/share/common-licenses/Apache-2.0."
				skip = 0
				next
			}
			!skip
		' "$f" | sed -e 's/[[:space:]]*$//'
	done
	[ -n "$found" ] || printf '\nNo license file in the module; see %s.\n' "https://pkg.go.dev/${mod%@*}"
done
