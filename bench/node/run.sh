#!/bin/sh
# The node benchmarks, each against a baseline measured in the same run:
#
#   http.sh        GET a run under wrk, against nginx serving the same bytes
#   rss.sh         guts-node's resident memory, against sleep and nginx
#   latency.sh     push -> first step running, against a bare git push
#   throughput.sh  1,000 queued jobs through 2 runners, against bare bwrap
#   artifacts.sh   1 GiB upload vs openssl sha256; dedup; 10k-file restore vs tar
#   ws.sh          1,000 WebSocket followers of a 10,000 lines/s job vs 1 follower
#
#   bench/node/run.sh [BUILD_DIR]
#
# A benchmark that cannot run here says so and is skipped; one that breaks
# is reported and the others still run.  No timing is asserted.
set -u
build=${1:-build}
dir=$(dirname "$0")
status=0

for b in http rss latency throughput artifacts ws; do
	echo "== node/$b"
	if ! "$dir/$b.sh" "$build"; then
		echo "node/$b: failed" >&2
		status=1
	fi
done
exit $status
