#!/usr/bin/env bash
# bench-check.sh checks that scripts/bench.sh empties no folder it did not
# make: given a file, or a folder holding something and no .hydre-bench
# mark, it exits 2 before running anything, and the folder keeps its files.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/hydre-bench-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
	echo "bench-check: FAIL: $*" >&2
	exit 1
}
mkdir "$work/theirs" "$work/theirs/sub"
echo keep >"$work/theirs/notes.md"
echo keep >"$work/theirs/sub/data"
echo keep >"$work/a-file"
for target in "$work/theirs" "$work/a-file" theirs; do
	rc=0
	(cd "$work" && "$OLDPWD/scripts/bench.sh" "$target") >"$work/out" 2>&1 || rc=$?
	[ "$rc" = 2 ] || { cat "$work/out" >&2; fail "bench.sh $target exited $rc, want 2"; }
	grep -q 'not empty and was not made by bench.sh\|is not a folder' "$work/out" ||
		fail "bench.sh $target: $(cat "$work/out")"
done
[ "$(cat "$work/theirs/notes.md" "$work/theirs/sub/data" "$work/a-file")" = "$(printf 'keep\nkeep\nkeep')" ] ||
	fail "a refused folder lost files"
[ ! -e "$work/theirs/.hydre-bench" ] || fail "bench.sh marked a folder it refused"
echo "bench-check: bench.sh refuses a file and folders it did not make: ok"
