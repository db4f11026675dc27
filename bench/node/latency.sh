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
# shellcheck source-path=SCRIPTDIR source=lib.sh
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

# job_log RUN FILE: the log of RUN's (only) job into FILE.
job_log() {
	local job
	job=$(bn_api "$n_url" "$n_token" GET "/api/repos/o/ci/runs/$1/jobs" | first_id)
	bn_api "$n_url" "$n_token" GET "/api/repos/o/ci/jobs/$job/logs" >"$2"
	grep -qE '^[^ ]+ [0-9]{19}$' "$2" ||
		bn_die "no date +%s%N line in the log of job $job"
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
: >"$BN_TMP/ci.times"
mkdir "$BN_TMP/logs"
for i in $(seq "$N"); do
	echo "$i" >"$plain/n"
	bn_commit "$plain" "push $i"
	t0=$(now_us)
	git -C "$plain" push -q origin main 2>/dev/null
	t1=$(now_us)
	echo "$((t1 - t0))" >>"$BN_TMP/base"

	echo "$i" >"$ci/n"
	bn_commit "$ci" "push $i"
	sha=$(git -C "$ci" rev-parse HEAD)
	t0=$(now_us)
	git -C "$ci" push -q origin main 2>/dev/null
	t1=$(now_us)
	echo "$t0 $t1" >>"$BN_TMP/ci.times"
	job_log "$(wait_run "$sha")" "$BN_TMP/logs/$i"
done

# The job log's timestamps (the runner's clock, this machine's) split the
# latency: the runner's first line (the lease is in), `##[step 1]` (the
# sandbox is up), and the time the step printed.
"$BN_PY" - "$BN_TMP" "$N" <<'PY'
import datetime, re, statistics, sys

tmp, n = sys.argv[1], int(sys.argv[2])
def ms(us):
    return us / 1000.0
def ts(line):
    t = datetime.datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return round(t.timestamp() * 1e6)
def med(v):
    return statistics.median(v)
def p90(v):
    v = sorted(v)
    return v[min(len(v) - 1, -(-9 * len(v) // 10) - 1)]

base = [ms(int(x)) for x in open(tmp + "/base").read().split()]
push, lease, step, lat = [], [], [], []
for i, row in enumerate(open(tmp + "/ci.times").read().splitlines(), 1):
    t0, t1 = (int(x) for x in row.split())
    lines = open("%s/logs/%d" % (tmp, i)).read().splitlines()
    first = ts(lines[0])
    s1 = next(ts(l) for l in lines if " ##[step 1]" in l)
    printed = next(int(l.split(" ", 1)[1]) // 1000 for l in lines
                   if re.match(r"^\S+ [0-9]{19}$", l))
    push.append(ms(t1 - t0))
    lease.append(ms(first - t0))
    step.append(ms(s1 - t0))
    lat.append(ms(printed - t0))

print("push -> first step running (%d pushes, --runners 1; ms from right before git push)" % n)
print("  baseline git push, no workflows:      median %7.1f  p90 %7.1f" % (med(base), p90(base)))
print("  push -> step running (date +%%s%%N):    median %7.1f  p90 %7.1f  "
      "(min %.1f, max %.1f; target median < 100)" % (med(lat), p90(lat), min(lat), max(lat)))
print("  difference %.1f ms, ratio %.2fx the bare push" % (med(lat) - med(base), med(lat) / med(base)))
print("  where it goes (medians): git push with a workflow exits %.1f; the runner's first"
      " log line %.1f; ##[step 1] (sandbox up) %.1f; the step's date %.1f"
      % (med(push), med(lease), med(step), med(lat)))
PY
