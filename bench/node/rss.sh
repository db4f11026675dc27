#!/bin/bash
# Resident memory of an idle guts-node (--runners 0, default GUTS_THREADS):
# VmRSS and VmHWM from /proc/PID/status after start, and again after a
# wrk -t2 -c32 -d5s load on GET /api/repos/o/r/runs/1.  Target: under 20 MB.
# Baselines measured in the same run: `sleep`, and nginx (master + 2
# workers) after the same load on the same JSON as a static file.
#
#   bench/node/rss.sh BUILD_DIR
# NAME_url, NAME_token and NAME_pid are set by bn_node.
# shellcheck disable=SC2154
set -eu
BN_NAME=rss
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
bn_init "${1:-build}"
BUDGET=20480 # kB

mb() { bn_calc "'%.1f MB' % ($1 / 1024.0)"; }
of_budget() { bn_calc "'%.2f' % ($1 / $BUDGET.0)"; }

bn_spawn sleep 600
sleep_pid=$BN_PID
bn_node n 0
sleep 1 # let it settle: the first scheduler tick, the store's caches
read -r start_rss start_hwm <<<"$(bn_rss "$n_pid")"
read -r sleep_rss _ <<<"$(bn_rss "$sleep_pid")"
bn_stop "$sleep_pid"

bn_queued_run n
read -r push_rss push_hwm <<<"$(bn_rss "$n_pid")"
path=/api/repos/o/r/runs/1
node_rps=
if command -v wrk >/dev/null 2>&1; then
	node_rps=$(bn_wrk "$n_url$path" "Authorization: Bearer $n_token")
fi
read -r load_rss load_hwm <<<"$(bn_rss "$n_pid")"
threads=$(awk '/^Threads:/ {print $2}' "/proc/$n_pid/status")

nginx_rss=
if command -v wrk >/dev/null 2>&1 && { command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null 2>&1; then
	mkdir -p "$BN_TMP/nginx/www"
	cp "$BN_TMP/n/run.json" "$BN_TMP/nginx/www/run.json"
	bn_nginx "$BN_TMP/nginx"
	bn_wrk "$nginx_url/run.json" >/dev/null
	# shellcheck disable=SC2046
	read -r nginx_rss _ <<<"$(bn_rss "$nginx_pid" $(bn_children "$nginx_pid"))"
fi

echo "guts-node RSS (--runners 0, $threads threads; budget 20 MB = 20480 kB; ratios are VmHWM / budget)"
printf '  baseline sleep:                          VmRSS %6d kB\n' "$sleep_rss"
[ -n "$nginx_rss" ] &&
	printf '  baseline nginx master+2 workers, loaded: VmRSS %6d kB\n' "$nginx_rss"
printf '  after start (idle 1 s):                  VmRSS %6d kB  VmHWM %6d kB  %s of budget (target < 1.00), %sx sleep\n' \
	"$start_rss" "$start_hwm" "$(of_budget "$start_hwm")" "$(bn_calc "'%.1f' % ($start_rss / $sleep_rss)")"
printf '  after a push (run 1 queued):             VmRSS %6d kB  VmHWM %6d kB  %s of budget\n' \
	"$push_rss" "$push_hwm" "$(of_budget "$push_hwm")"
if [ -n "$node_rps" ]; then
	printf '  after wrk -t2 -c32 -d5s:                 VmRSS %6d kB  VmHWM %6d kB  %s of budget (target < 1.00)' \
		"$load_rss" "$load_hwm" "$(of_budget "$load_hwm")"
	[ -n "$nginx_rss" ] && printf ', %sx nginx' "$(bn_calc "'%.2f' % ($load_rss / $nginx_rss)")"
	printf ' (%.0f req/s)\n' "$node_rps"
else
	echo "  after load: skipped, wrk is missing (scripts/deps.sh --bench)"
fi
