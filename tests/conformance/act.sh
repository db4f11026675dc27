#!/bin/sh
# Run act's runner cases (51 workflows from nektos/act, listed in
# runs/cases.tsv) through `guts exec`, each in a scratch workspace.
#
#   tests/conformance/act.sh GUTS_BIN CONFORMANCE_DIR
#
# Fails when a case fails that tests/conformance/act-known-failures.txt
# does not list (each entry says why), and prints the pass rate.
set -eu

bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
kit=$2
here=$(cd "$(dirname "$0")" && pwd)
known=$here/act-known-failures.txt

if [ ! -f "$kit/runs/cases.tsv" ]; then
	echo "conformance/act: $kit not found; skipped"
	exit 0
fi

out=$(mktemp)
cache=$(mktemp -d)
trap 'rm -rf "$out" "$cache"' EXIT
# Sandboxed when bubblewrap works here, as users run it.
sandbox=--no-sandbox
if command -v bwrap >/dev/null 2>&1 &&
	bwrap --ro-bind / / --dev /dev --proc /proc --unshare-pid true 2>/dev/null; then
	sandbox=
fi
XDG_CACHE_HOME=$cache node "$kit/tools/run-act-suite.mjs" \
	--impl "$bin exec $sandbox" --jobs 2 --timeout 120 -v >"$out" 2>&1 || true

summary=$(tail -n 1 "$out")
case $summary in
'{'*) ;;
*)
	cat "$out"
	echo "conformance/act: the driver did not finish" >&2
	exit 1
	;;
esac

failed=$(sed -n 's/^FAIL  *\([^ ]*\).*/\1/p' "$out" | sort -u)
unexpected=""
for id in $failed; do
	grep -q "^$id[[:space:]]" "$known" || unexpected="$unexpected $id"
done
stale=""
for id in $(sed -n 's/^\([^#[:space:]][^[:space:]]*\).*/\1/p' "$known"); do
	echo "$failed" | grep -qx "$id" || stale="$stale $id"
done
total=$(grep -c . "$kit/runs/cases.tsv")
total=$((total - 1))
nfail=$(echo "$failed" | grep -c . || true)
echo "conformance/act: $((total - nfail))/$total runner cases pass ($((100 * (total - nfail) / total))%; $nfail known differences)${sandbox:+ (no sandbox: bubblewrap unusable)}"
[ -z "$stale" ] || echo "conformance/act: now passing, drop from the known list:$stale"
if [ -n "$unexpected" ]; then
	for id in $unexpected; do
		grep -A30 "^FAIL  *$id " "$out" | head -40
	done
	echo "conformance/act: unexpected failures:$unexpected" >&2
	exit 1
fi
