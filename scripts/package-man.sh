#!/usr/bin/env bash
# package-man.sh prints hydre's manual page (roff) from the binary's own
# help: `hydre help` and `hydre help COMMAND` for each command it lists, so
# that the page says what the installed version does.
# Usage: scripts/package-man.sh BINARY
set -euo pipefail
exe=$1

# roff: a backslash is written \e, and a line that starts with . or ' is a
# request unless \& comes first.
esc() { sed -e 's/\\/\\e/g' -e 's/^[.'"'"']/\\\&&/'; }

version=$("$exe" version | awk '{print $NF}')
cat <<HEAD
.TH HYDRE 1 "" "hydre $version" "User Commands"
.SH NAME
hydre \\- share files by hash over Tor onion services
.SH SYNOPSIS
.B hydre
[\\fIglobal options\\fR] [\\fIcommand\\fR] [\\fIarguments\\fR]
.SH DESCRIPTION
.nf
HEAD
"$exe" help 2>&1 | esc
echo ".fi"
echo ".SH COMMANDS"
"$exe" help 2>&1 | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}' |
	while read -r cmd; do
		echo ".SS $cmd"
		echo ".nf"
		"$exe" help "$cmd" 2>&1 | esc
		echo ".fi"
	done
cat <<'TAIL'
.SH SEE ALSO
.BR tor (1),
https://github.com/hydre-p2p/hydre
TAIL
