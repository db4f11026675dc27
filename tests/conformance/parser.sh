#!/bin/sh
# Run the workflow-parser conformance suite (195 official cases + 31
# real-world workflows) against `guts workflow validate --json`.
#
#   tests/conformance/parser.sh GUTS_BIN CONFORMANCE_DIR
#
# Fails when a case fails that tests/conformance/parser-known-failures.txt
# does not list (each entry says why), or when a corpus file is not valid.
set -eu

bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
kit=$2
here=$(cd "$(dirname "$0")" && pwd)
known=$here/parser-known-failures.txt

if [ ! -d "$kit/workflows" ]; then
	echo "conformance/parser: $kit not found; skipped"
	exit 0
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The driver runs the command per case in a scratch repository, with
# $CONFORMANCE_REUSABLE_DIR naming where remote reusable workflows are.
impl="$bin workflow validate --json --syntax-only --reusable-dir \"\$CONFORMANCE_REUSABLE_DIR\""
node "$kit/tools/run-parser-suite.mjs" --impl "$impl" --jobs 2 -v >"$out" 2>&1 || true

summary=$(tail -n 1 "$out")
case $summary in
'{"suite":"workflow-parser"'*) ;;
*)
	cat "$out"
	echo "conformance/parser: the driver did not finish" >&2
	exit 1
	;;
esac

failed=$(sed -n 's/^FAIL case \([^ :]*\).*/\1/p' "$out" | sort -u)
unexpected=""
for id in $failed; do
	grep -q "^$id[[:space:]]" "$known" || unexpected="$unexpected $id"
done
stale=""
for id in $(sed -n 's/^\([^#[:space:]][^[:space:]]*\).*/\1/p' "$known"); do
	echo "$failed" | grep -qx "$id" || stale="$stale $id"
done

total=195
nfail=$(echo "$failed" | grep -c . || true)
echo "conformance/parser: $((total - nfail))/$total cases agree with the expected verdict and lines ($nfail known differences)"
echo "conformance/parser: corpus $(echo "$summary" | sed 's/.*"corpus":{"total":\([0-9]*\),"pass":\([0-9]*\).*/\2\/\1 valid/')"
[ -z "$stale" ] || echo "conformance/parser: now passing, drop from the known list:$stale"
if echo "$summary" | grep -q '"corpus":{[^}]*"fail":[1-9]'; then
	grep '^FAIL corpus' "$out" || true
	echo "conformance/parser: a real-world workflow was rejected" >&2
	exit 1
fi
if [ -n "$unexpected" ]; then
	for id in $unexpected; do
		grep -A3 "^FAIL case $id" "$out"
	done
	echo "conformance/parser: unexpected failures:$unexpected" >&2
	exit 1
fi
