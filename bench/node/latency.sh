#!/bin/bash
# Push -> first step running, on a node with one embedded runner
# (--runners 1).  Each of 20 pushes adds a commit to a repository whose
# workflow's first step is `run: date +%s%N` (no checkout); the clock is read
# right before `git push`, and the step's printed time comes from the job's
# log once the run completed.  Target: median under 100 ms.
# Baseline in the same run, interleaved: 20 `git push`es of the same kind of
# commit to a repository with no workflows on the same node, timed from the
# same point to git's exit (what git itself costs).
#
#   bench/node/latency.sh BUILD_DIR
# NAME_url, NAME_token and NAME_pid are set by bn_node.
# shellcheck disable=SC2154
set -eu
BN_NAME=latency
. "$(dirname "$0")/lib.sh"
bn_init "${1:-build}"
[ -x "$BN_BIN/guts-runner" ] ||
	{ echo "latency: skipped, $BN_BIN/guts-runner is not built"; exit 0; }
N=${BN_PUSHES:-20}

# Microseconds since the epoch, without a fork.
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

bn_node n 1
ci=$BN_TMP/ci
plain=$BN_TMP/plain
bn_repo "$n_url" "$n_token" o/ci "$ci"
bn_repo "$n_url" "$n_token" o/plain "$plain"
mkdir -p "$ci/.guts/workflows"
cat >"$ci/.guts/workflows/latency.yml" <<'YAML'
name: Latency
on: push
jobs:
  first:
    runs-on: default
    steps:
      - run: date +%s%N
YAML

# first_id JSON: the first "id" in a JSON object or array of them.
first_id() { grep -o '"id":[0-9]*' | head -n 1 | cut -d: -f2; }

# wait_run SHA: the id of the o/ci run of SHA once it completed.
wait_run() {
	local sha=$1 id="" body i
	for i in $(seq 1200); do
		if [ -z "$id" ]; then
			body=$(bn_api "$n_url" "$n_token" GET "/api/repos/o/ci/runs?per_page=1")
			case $body in *"\"head_sha\":\"$sha\""*) id=$(echo "$body" | first_id) ;; esac
		else
			body=$(bn_api "$n_url" "$n_token" GET "/api/repos/o/ci/runs/$id")
			case $body in *'"status":"completed"'*)
				case $body in *'"conclusion":"success"'*) ;;
				*) bn_die "run $id did not succeed: $body" ;;
				esac
				echo "$id"
				return 0
				;;
			esac
		fi
		sleep 0.05
	done
	bn_die "the run of $sha did not complete in 60 s"
}

# step_time RUN: the nanoseconds `date +%s%N` printed in RUN's job.
step_time() {
	local job t
	job=$(bn_api "$n_url" "$n_token" GET "/api/repos/o/ci/runs/$1/jobs" | first_id)
	t=$(bn_api "$n_url" "$n_token" GET "/api/repos/o/ci/jobs/$job/logs" |
		grep -oE '^[^ ]+ [0-9]{19}$' | head -n 1 | cut -d' ' -f2)
	[ -n "$t" ] || bn_die "no date +%s%N line in the log of job $job"
	echo "$t"
}

# The first push of each (the branch's creation) warms both up, runner too.
echo 0 >"$plain/n"
bn_commit "$plain" "push 0"
git -C "$plain" push -q origin main 2>/dev/null
echo 0 >"$ci/n"
bn_commit "$ci" "push 0"
git -C "$ci" push -q origin main 2>/dev/null
wait_run "$(git -C "$ci" rev-parse HEAD)" >/dev/null

: >"$BN_TMP/base"
: >"$BN_TMP/lat"
: >"$BN_TMP/cipush"
for i in $(seq "$N"); do
	echo "$i" >"$plain/n"
	bn_commit "$plain" "push $i"
	t0=$(now_us)
	git -C "$plain" push -q origin main 2>/dev/null
	t1=$(now_us)
	echo "$(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100))" >>"$BN_TMP/base"

	echo "$i" >"$ci/n"
	bn_commit "$ci" "push $i"
	sha=$(git -C "$ci" rev-parse HEAD)
	t0=$(now_us)
	git -C "$ci" push -q origin main 2>/dev/null
	t1=$(now_us)
	echo "$(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100))" >>"$BN_TMP/cipush"
	run=$(wait_run "$sha")
	ts=$(step_time "$run")
	d=$((ts / 1000 - t0))
	echo "$((d / 1000)).$((d % 1000 / 100))" >>"$BN_TMP/lat"
done

read -r lmed lp90 lmin lmax _ <<<"$(bn_stats <"$BN_TMP/lat")"
read -r bmed bp90 _ _ _ <<<"$(bn_stats <"$BN_TMP/base")"
read -r cmed _ _ _ _ <<<"$(bn_stats <"$BN_TMP/cipush")"
echo "push -> first step running ($N pushes, --runners 1; ms)"
printf '  baseline git push, no workflows: median %7.1f  p90 %7.1f\n' "$bmed" "$bp90"
printf '  git push with a workflow:        median %7.1f\n' "$cmed"
printf '  push -> step running:            median %7.1f  p90 %7.1f  (min %.1f, max %.1f; target median < 100)\n' \
	"$lmed" "$lp90" "$lmin" "$lmax"
printf '  difference %.1f ms, ratio %.2fx the bare push\n' \
	"$(bn_calc "$lmed - $bmed")" "$(bn_calc "$lmed / $bmed")"
