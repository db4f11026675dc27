#!/bin/bash
# GET /api/repos/o/r/runs/1 on guts-node (--runners 0) under wrk -t2 -c32
# -d5s with keep-alive, against nginx serving the same JSON bytes as a
# static file in the same run.  Three rounds, interleaved, best of each.
# Target: guts >= 20% of nginx's requests/s (GUTS_THREADS=4, the default).
# GUTS_THREADS=2 is measured too; the requests carry the admin token as the
# CLI's do, and the default node is also measured without one (a public
# repository needs none).
#
#   bench/node/http.sh BUILD_DIR
# NAME_url, NAME_token and NAME_pid are set by bn_node.
# shellcheck disable=SC2154
set -eu
BN_NAME=http
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
bn_init "${1:-build}"
command -v wrk >/dev/null 2>&1 ||
	{ echo "http: skipped, wrk is missing (scripts/deps.sh --bench)"; exit 0; }
ROUNDS=${BN_ROUNDS:-3}

bn_node n4 0 GUTS_THREADS=4
bn_node n2 0 GUTS_THREADS=2
bn_queued_run n4
bn_queued_run n2
mkdir -p "$BN_TMP/nginx/www"
cp "$BN_TMP/n4/run.json" "$BN_TMP/nginx/www/run.json"
bn_nginx "$BN_TMP/nginx"

path=/api/repos/o/r/runs/1
declare -A best
for cfg in nginx n4 n4anon n2; do best[$cfg]=0; done
for _ in $(seq "$ROUNDS"); do
	for cfg in nginx n4 n4anon n2; do
		case $cfg in
		nginx) v=$(bn_wrk "$nginx_url/run.json") ;;
		n4) v=$(bn_wrk "$n4_url$path" "Authorization: Bearer $n4_token") ;;
		n4anon) v=$(bn_wrk "$n4_url$path") ;;
		n2) v=$(bn_wrk "$n2_url$path" "Authorization: Bearer $n2_token") ;;
		esac
		best[$cfg]=$(bn_max "$v" "${best[$cfg]}")
	done
done

size=$(wc -c <"$BN_TMP/nginx/www/run.json")
pct() { bn_calc "'%.1f%%' % (100.0 * $1 / ${best[nginx]})"; }
echo "GET $path ($size-byte JSON), wrk -t2 -c32 -d${BN_WRK_SECONDS:-5}s keep-alive, best of $ROUNDS"
printf '  baseline nginx, static file (2 workers): %9.0f req/s\n' "${best[nginx]}"
printf '  guts-node GUTS_THREADS=4, token:         %9.0f req/s  %s of nginx (target >= 20%%)\n' \
	"${best[n4]}" "$(pct "${best[n4]}")"
printf '  guts-node GUTS_THREADS=4, anonymous:     %9.0f req/s  %s of nginx\n' \
	"${best[n4anon]}" "$(pct "${best[n4anon]}")"
printf '  guts-node GUTS_THREADS=2, token:         %9.0f req/s  %s of nginx\n' \
	"${best[n2]}" "$(pct "${best[n2]}")"
