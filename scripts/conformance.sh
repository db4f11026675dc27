#!/bin/sh
# Run the conformance suites in ../shared/conformance (see its README)
# against our binaries.  Skips with a clear message when the kit is absent.
#
#   scripts/conformance.sh GUTS_BIN [CONFORMANCE_DIR]
set -eu

bin=$1
kit=${2:-../shared/conformance}
here=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -d "$kit" ]; then
	echo "conformance: $kit does not exist; skipped (it lives beside the repository as shared/conformance)"
	exit 0
fi
if ! command -v node >/dev/null 2>&1; then
	echo "conformance: node is needed to run the suites (scripts/deps.sh installs it)" >&2
	exit 1
fi

rc=0
for suite in expr parser act; do
	if [ -x "$here/tests/conformance/$suite.sh" ]; then
		"$here/tests/conformance/$suite.sh" "$bin" "$kit" || rc=1
	fi
done
exit $rc
