#!/bin/bash
# 1,000 trivial queued jobs through 2 runners (--runners 2): one push of a
# workflow with 4 matrix jobs of 250 legs each, every leg `run: "true"`;
# the time from right before `git push` to the run's completion gives
# jobs/s.  Baseline in the same run: 1,000 sequential
# `bwrap --ro-bind / / --dev /dev --proc /proc --unshare-pid true` (or
# `sh -c true` where bwrap does not work), as sandboxes/s.
#
#   bench/node/throughput.sh BUILD_DIR
# NAME_url, NAME_token and NAME_pid are set by bn_node.
# shellcheck disable=SC2154
set -eu
BN_NAME=throughput
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
bn_init "${1:-build}"
[ -x "$BN_BIN/guts-runner" ] ||
	{ echo "throughput: skipped, $BN_BIN/guts-runner is not built"; exit 0; }
LEGS=${BN_LEGS:-250}
JOBS=$((4 * LEGS))

now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# The baseline first, while no node is running.
base=(bwrap --ro-bind / / --dev /dev --proc /proc --unshare-pid true)
"${base[@]}" 2>/dev/null || base=(sh -c true)
t0=$(now_us)
for _ in $(seq "$JOBS"); do
	"${base[@]}"
done
t1=$(now_us)
base_us=$((t1 - t0))

bn_node n 2
work=$BN_TMP/m
bn_repo "$n_url" "$n_token" o/m "$work"
mkdir -p "$work/.guts/workflows"
{
	legs=$(seq -s, "$LEGS")
	echo "name: Throughput"
	echo "on: push"
	echo "jobs:"
	for j in a b c d; do
		cat <<YAML
  $j:
    runs-on: default
    strategy:
      matrix:
        i: [$legs]
    steps:
      - run: "true"
YAML
	done
} >"$work/.guts/workflows/many.yml"
bn_commit "$work" "$JOBS jobs"
sleep 1 # the runners' first long-polls are in

runners=""
for c in $(bn_children "$n_pid"); do
	[ "$(cat "/proc/$c/comm" 2>/dev/null)" = guts-runner ] && runners="$runners $c"
done
# shellcheck disable=SC2086
read -r node_cpu0 runners_cpu0 <<<"$(bn_cpu "$n_pid") $(bn_cpu $runners)"
t0=$(now_us)
git -C "$work" push -q origin main 2>/dev/null
tpush=$(now_us)
body=""
for _ in $(seq 3000); do
	body=$(bn_api "$n_url" "$n_token" GET /api/repos/o/m/runs/1 2>/dev/null) || true
	case $body in *'"status":"completed"'*) break ;; esac
	sleep 0.1
done
t1=$(now_us)
case $body in
*'"conclusion":"success"'*) ;;
*'"status":"completed"'*) bn_die "the run did not succeed: $body" ;;
*) bn_die "the run did not complete in 300 s: $body" ;;
esac

run_us=$((t1 - t0))
# shellcheck disable=SC2086
read -r node_cpu1 runners_cpu1 <<<"$(bn_cpu "$n_pid") $(bn_cpu $runners)"
echo "$JOBS trivial jobs through 2 embedded runners (4 matrix jobs x $LEGS legs, one push)"
printf '  baseline %s, %d sequential: %6.2f s  %7.1f sandboxes/s\n' \
	"${base[*]}" "$JOBS" "$(bn_calc "$base_us / 1e6")" "$(bn_calc "$JOBS * 1e6 / $base_us")"
printf '  push -> run completed: %.2f s (git push %.2f s)  %7.1f jobs/s  %.1f ms per job per runner\n' \
	"$(bn_calc "$run_us / 1e6")" "$(bn_calc "($tpush - $t0) / 1e6")" \
	"$(bn_calc "$JOBS * 1e6 / $run_us")" "$(bn_calc "2 * $run_us / 1e3 / $JOBS")"
printf '  ratio: %.3fx the baseline sandboxes/s\n' "$(bn_calc "$base_us / $run_us")"
printf '  CPU during the run: guts-node %.2f s, the 2 runners with their sandboxes %.2f s (of %.2f s wall x 2 cores)\n' \
	"$(bn_calc "$node_cpu1 - $node_cpu0")" "$(bn_calc "$runners_cpu1 - $runners_cpu0")" "$(bn_calc "$run_us / 1e6")"
