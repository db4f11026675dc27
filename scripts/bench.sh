#!/bin/sh
# Run every benchmark in bench/, then the node's in bench/node/ when
# guts-node is built; each prints its figures and a ratio against a baseline
# measured in the same run.
#
#   scripts/bench.sh [BUILD_DIR]
set -eu
build=${1:-build}
kit=${CONFORMANCE:-../shared/conformance}

for b in "$build"/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	case $(basename "$b") in
	bench_workflow) "$b" "$kit/workflows/corpus" ;;
	*) "$b" ;;
	esac
done

if [ -x "$build/bin/guts-node" ]; then
	"$(dirname "$0")/../bench/node/run.sh" "$build"
fi
