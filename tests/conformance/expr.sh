#!/bin/sh
# Run the conformance kit's expression suite against `guts expr --jsonl`.
#
#   tests/conformance/expr.sh GUTS_BIN CONFORMANCE_DIR
#
# Two runs of tools/run-expr-suite.mjs: the official cases with nektos/act's
# rows (--act), then the official cases with --strict-messages.  Prints the
# driver's summary lines, and exits 1 when a case fails that is not listed in
# tests/conformance/expr-known-failures.txt (one case id per line, then
# "# reason").  A missing CONFORMANCE_DIR (or node) is a skip, exit 0.  The kit
# may be read-only: the driver writes nothing there.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 GUTS_BIN CONFORMANCE_DIR" >&2
	exit 2
fi
bin=$1
kit=$2
here=$(cd "$(dirname "$0")" && pwd)
known="$here/expr-known-failures.txt"

if [ ! -d "$kit" ]; then
	echo "conformance/expr: SKIP: no conformance kit at '$kit'"
	exit 0
fi
if ! command -v node >/dev/null 2>&1; then
	echo "conformance/expr: SKIP: node is not installed (the kit's drivers need it)"
	exit 0
fi
case $bin in
/*) ;;
*) bin="$(pwd)/$bin" ;;
esac
if [ ! -x "$bin" ]; then
	echo "conformance/expr: $bin is not an executable" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/guts-expr-conf.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# Known failures: strip comments and the "# reason" part.  Case ids contain
# '#' (basic.json:case#0) but never " #".
sed -e 's/[[:space:]][[:space:]]*#.*$//' -e '/^#/d' -e '/^[[:space:]]*$/d' \
	"$known" 2>/dev/null | sort -u >"$tmp/known"

status=0
for mode in act strict; do
	if [ $mode = act ]; then
		flags="--act"
	else
		flags="--strict-messages"
	fi
	echo "conformance/expr: run-expr-suite.mjs $flags"
	node "$kit/tools/run-expr-suite.mjs" $flags -v \
		--impl "'$bin' expr --jsonl" >"$tmp/$mode.out" 2>&1
	rc=$?
	# The driver's summary: per-file totals and the JSON line.
	grep -E '^(== |\{"suite")|timed out|returned [0-9]+ lines' "$tmp/$mode.out"
	if [ $rc -ge 2 ] || ! grep -q '^{"suite"' "$tmp/$mode.out"; then
		echo "conformance/expr: the driver could not run (exit $rc):"
		tail -n 20 "$tmp/$mode.out"
		status=1
		continue
	fi
	# "FAIL <source> <id>[ (skipped upstream for typescript)]"; -v lists
	# the cases upstream skips too, and they count here.
	sed -n '/^FAIL /{s/^FAIL [^ ]* //;s/ (skipped upstream for typescript)$//;p;}' \
		"$tmp/$mode.out" | sort -u >"$tmp/$mode.failed"
	comm -23 "$tmp/$mode.failed" "$tmp/known" >"$tmp/$mode.new"
	if [ -s "$tmp/$mode.new" ]; then
		echo "conformance/expr: $(wc -l <"$tmp/$mode.new") unexpected failure(s) ($flags):"
		while IFS= read -r id; do
			echo "  $id"
			grep -F -A3 "FAIL " "$tmp/$mode.out" |
				grep -F -A3 " $id" | sed -n '2,4p' | sed 's/^/  /'
		done <"$tmp/$mode.new"
		status=1
	fi
	comm -13 "$tmp/$mode.failed" "$tmp/known" >"$tmp/$mode.fixed"
	if [ -s "$tmp/$mode.fixed" ] && [ $mode = act ]; then
		echo "conformance/expr: note: listed as known failures but passing" \
			"in this run (remove them if they pass everywhere):"
		sed 's/^/  /' "$tmp/$mode.fixed"
	fi
done
if [ $status -eq 0 ]; then
	echo "conformance/expr: OK"
fi
exit $status
