#!/bin/bash
# 1,000 WebSocket clients follow one job whose step prints 10,000 lines/s
# (docs/websocket.md; target: p99 delivery latency under 250 ms).  The
# step paces itself by the clock (perl), BN_WS_SECONDS long (10).
# Baseline in the same run: the same job followed by 1 client; the ratio
# of the p99s is the cost of the fan-out.  Also the node's RSS before the
# clients connect and at its peak while they follow.
#
#   bench/node/ws.sh BUILD_DIR
# NAME_url, NAME_token and NAME_pid are set by bn_node.
# shellcheck disable=SC2154
set -eu
BN_NAME=ws
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
bn_init "${1:-build}"
CLIENT=${1:-build}/bench/bench_ws
[ -x "$BN_BIN/guts-runner" ] ||
	{ echo "ws: skipped, $BN_BIN/guts-runner is not built"; exit 0; }
[ -x "$CLIENT" ] || { echo "ws: skipped, $CLIENT is not built"; exit 0; }
command -v perl >/dev/null || { echo "ws: skipped, no perl"; exit 0; }
N=${BN_WS_CLIENTS:-1000}
SECS=${BN_WS_SECONDS:-10}
RATE=${BN_WS_RATE:-10000}
# 1,000 sockets for the clients, and as many for the node.
ulimit -n 8192 2>/dev/null || true

bn_node n 1 GUTS_WS_QUEUE_MAX=${BN_WS_QUEUE_MAX:-1048576}
work=$BN_TMP/work
bn_repo "$n_url" "$n_token" o/ws "$work"
mkdir -p "$work/.guts/workflows"
cat >"$work/.guts/workflows/lines.yml" <<YAML
name: Lines
on: workflow_dispatch
jobs:
  print:
    runs-on: default
    steps:
      - run: sleep 2
      - run: >-
          perl -MTime::HiRes=time,sleep -e '\$|=1; my \$t0=time; my \$n=0;
          while ((my \$el=time-\$t0) < $SECS) { my \$want=int(\$el*$RATE);
          print "line \$n of the bench: lorem ipsum dolor sit amet\\n" while \$n++ < \$want;
          sleep 0.002 }'
YAML
bn_commit "$work" "a step that prints $RATE lines/s"
git -C "$work" push -q origin main 2>/dev/null || bn_die "push failed"
host=${n_url#http://}
port=${host##*:}

# follow CLIENTS: dispatch a run, wait for its job, follow it with CLIENTS.
follow() {
	local clients=$1 body job="" i
	bn_api "$n_url" "$n_token" POST /api/repos/o/ws/runs \
		'{"workflow":"lines.yml","ref":"main"}' >"$BN_TMP/run.json" ||
		bn_die "dispatch failed"
	local run
	run=$(grep -o '"id":[0-9]*' "$BN_TMP/run.json" | head -n 1 | cut -d: -f2)
	for i in $(seq 400); do
		body=$(bn_api "$n_url" "$n_token" GET "/api/repos/o/ws/runs/$run/jobs")
		job=$(echo "$body" | grep -o '"id":[0-9]*' | head -n 1 | cut -d: -f2)
		case $body in *'"status":"in_progress"'*) break ;; esac
		sleep 0.05
	done
	[ -n "$job" ] || bn_die "no job for run $run"
	"$CLIENT" 127.0.0.1 "$port" "$job" "$clients" "$n_pid" "$n_token"
}

echo "ws: baseline, 1 client, $RATE lines/s for ${SECS}s"
base=$(follow 1) || bn_die "the baseline failed: $base"
echo "$base" | sed 's/^/  /'
echo "ws: $N clients"
many=$(follow "$N") || bn_die "$N clients failed: $many"
echo "$many" | sed 's/^/  /'
p99() { sed -n 's/.*p99 \([0-9.]*\).*/\1/p'; }
b=$(echo "$base" | p99)
m=$(echo "$many" | p99)
echo "ws: p99 with $N clients / p99 with 1 client = $(bn_calc "'%.2f' % ($m / max($b, 0.1))") (target: p99 under 250 ms)"
