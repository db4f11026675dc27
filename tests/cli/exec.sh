#!/bin/sh
# End to end: `guts exec` running real workflows, in real processes, with
# and without the sandbox: exit statuses, the --json summary, env files
# and heredoc outputs, needs outputs, matrices with fail-fast, masking
# across reads, time-outs that kill whole trees (a setsid grandchild too),
# cancellation by signal, workflow commands and bad input.
#
#   tests/cli/exec.sh GUTS_BIN
set -u
guts=$1
case $guts in /*) ;; *) guts=$(pwd)/$guts ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export XDG_CACHE_HOME="$dir/cache"
fails=0
passes=0

check() {
	if [ "$1" = 0 ]; then
		passes=$((passes + 1))
	else
		fails=$((fails + 1))
		echo "FAIL: $2"
		[ -f "$dir/out" ] && sed 's/^/    /' "$dir/out" | tail -40
	fi
}

# Sandboxed runs need a working bubblewrap; otherwise run without.
sandbox=--no-sandbox
if command -v bwrap >/dev/null 2>&1 &&
	bwrap --ro-bind / / --dev /dev --proc /proc --unshare-pid true 2>/dev/null; then
	sandbox=
else
	echo "note: bubblewrap is not usable here; sandboxed cases run with --no-sandbox"
fi

wf() { # wf NAME <<YAML
	cat >"$dir/$1.yml"
}

run() { # run NAME [ARGS...]: exit status in $rc, output in $dir/out
	name=$1
	shift
	(cd "$dir" && "$guts" exec --workflow "$dir/$name.yml" "$@") >"$dir/out" 2>&1
	rc=$?
}

last_json() {
	tail -n 1 "$dir/out"
}

# --- success, --json shape, env layers and defaults -----------------------
wf basic <<'YML'
on: push
env:
  LAYER: workflow
  KEEP: wf
jobs:
  build:
    runs-on: default
    env:
      LAYER: job
    steps:
      - id: one
        run: |
          test "$CI" = true
          test "$GITHUB_ACTIONS" = true
          test "$LAYER" = step
          test "$KEEP" = wf
          test "$GITHUB_WORKSPACE" = "$GUTS_WORKSPACE"
          test "$(pwd)" = "$GITHUB_WORKSPACE"
          test -n "$RUNNER_TEMP" && test -d "$RUNNER_TEMP"
          test "$GITHUB_JOB" = build
          test "$GITHUB_EVENT_NAME" = push
          test -f "$GITHUB_EVENT_PATH"
          echo "greeting=hello" >> "$GITHUB_OUTPUT"
        env:
          LAYER: step
          GITHUB_SHA: not-allowed
      - run: test "${{ steps.one.outputs.greeting }}" = hello
      - run: test "$GITHUB_SHA" != not-allowed
YML
run basic $sandbox --json
[ "$rc" = 0 ]
check $? "basic: exit status $rc"
last_json | grep -q '"conclusion":"success"' &&
	last_json | grep -q '"steps":\[{"id":"one"'
check $? "basic: --json summary on the last line"

# --- heredoc outputs, GITHUB_ENV, GITHUB_PATH, needs outputs ---------------
wf needs <<'YML'
on: push
jobs:
  produce:
    runs-on: default
    outputs:
      multi: ${{ steps.p.outputs.multi }}
      single: ${{ steps.p.outputs.single }}
    steps:
      - id: p
        run: |
          {
            echo 'multi<<EOF_MARK'
            echo 'line one'
            echo 'line two'
            echo 'EOF_MARK'
            echo 'single=value=with=equals'
          } >> "$GITHUB_OUTPUT"
          echo 'FROM_ENV_FILE=yes' >> "$GITHUB_ENV"
          mkdir -p "$RUNNER_TEMP/bin"
          printf '#!/bin/sh\necho tool-ran\n' > "$RUNNER_TEMP/bin/mytool"
          chmod +x "$RUNNER_TEMP/bin/mytool"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
      - run: |
          test "$FROM_ENV_FILE" = yes
          mytool | grep -q tool-ran
  consume:
    needs: produce
    runs-on: default
    steps:
      - run: |
          test "${{ needs.produce.result }}" = success
          test "${{ needs.produce.outputs.single }}" = value=with=equals
          cat > expected <<'EOT'
          line one
          line two
          EOT
          printf '%s\n' "${{ needs.produce.outputs.multi }}" > got
          cmp expected got
YML
run needs $sandbox --json
[ "$rc" = 0 ]
check $? "needs: heredoc outputs through needs (rc $rc)"
last_json | grep -q '"multi":"line one\\nline two"'
check $? "needs: job outputs in --json"

# --- failure propagation, if:, continue-on-error ---------------------------
wf failing <<'YML'
on: push
jobs:
  a:
    runs-on: default
    steps:
      - id: bad
        run: exit 3
        continue-on-error: true
      - run: test "${{ steps.bad.outcome }}" = failure && test "${{ steps.bad.conclusion }}" = success
      - run: exit 1
      - run: echo SHOULD-NOT-RUN
      - if: failure()
        run: echo failure-handler-ran
      - if: always()
        run: echo always-ran
  b:
    needs: a
    runs-on: default
    steps:
      - run: echo B-SHOULD-NOT-RUN
  c:
    needs: a
    if: failure()
    runs-on: default
    steps:
      - run: echo c-ran-after-failure
YML
run failing $sandbox --json
[ "$rc" = 1 ] && ! grep -q '^\[.\] SHOULD-NOT-RUN' "$dir/out" &&
	! grep -q '^\[b\] B-SHOULD-NOT-RUN' "$dir/out" &&
	grep -q '^\[a\] failure-handler-ran' "$dir/out" && grep -q '^\[a\] always-ran' "$dir/out" &&
	grep -q '^\[c\] c-ran-after-failure' "$dir/out" &&
	grep -q 'Process completed with exit code 1' "$dir/out"
check $? "failing: exit 1, skips, if: failure()/always(), dependants"
last_json | grep -q '"id":"b","name":"b","matrix":null,"conclusion":"skipped"'
check $? "failing: the dependant job is skipped"

# --- matrix include/exclude, max-parallel, fail-fast -----------------------
wf matrix <<'YML'
on: push
jobs:
  m:
    runs-on: default
    strategy:
      max-parallel: 1
      matrix:
        os: [linux, bsd]
        v: [1, 2]
        exclude:
          - os: bsd
            v: 2
        include:
          - os: linux
            extra: yes
          - os: plan9
            v: 9
    steps:
      - run: echo "leg ${{ matrix.os }}-${{ matrix.v }}-${{ matrix.extra }} index ${{ strategy.job-index }}/${{ strategy.job-total }}"
YML
run matrix $sandbox --json
[ "$rc" = 0 ] && grep -q 'leg linux-1-yes index 0/4' "$dir/out" &&
	grep -q 'leg linux-2-yes index 1/4' "$dir/out" &&
	grep -q 'leg bsd-1- index 2/4' "$dir/out" &&
	grep -q 'leg plan9-9- index 3/4' "$dir/out" && ! grep -q 'leg bsd-2' "$dir/out"
check $? "matrix: include/exclude legs"

wf failfast <<'YML'
on: push
jobs:
  m:
    runs-on: default
    strategy:
      matrix:
        n: [fast-fail, slow]
    steps:
      - run: |
          if [ "${{ matrix.n }}" = fast-fail ]; then sleep 0.5; exit 1; fi
          sleep 30
          echo SLOW-FINISHED
YML
start=$(date +%s)
run failfast $sandbox --json --parallel 2
took=$(($(date +%s) - start))
[ "$rc" = 1 ] && ! grep -q SLOW-FINISHED "$dir/out" && [ "$took" -lt 20 ] &&
	last_json | grep -q '"name":"m (slow)","matrix":{"n":"slow"},"conclusion":"cancelled"'
check $? "fail-fast: the failing leg cancels its sibling (took ${took}s)"

# --- masking, across reads and in base64 -----------------------------------
wf mask <<'YML'
on: push
jobs:
  m:
    runs-on: default
    steps:
      - run: |
          printf 'half: s3cr'; sleep 0.3; printf 'et-value end\n'
          printf 's3cret-value' | base64
          echo "::add-mask::dynamic-xyz"
          echo "later dynamic-xyz here"
YML
run mask $sandbox --secret TOKEN=s3cret-value
[ "$rc" = 0 ] && ! grep -q 's3cret-value' "$dir/out" &&
	! grep -q "$(printf 's3cret-value' | base64)" "$dir/out" &&
	grep -q 'half: \*\*\* end' "$dir/out" && ! grep -q 'dynamic-xyz' "$dir/out" &&
	grep -q 'later \*\*\* here' "$dir/out"
check $? "mask: secrets split across reads, base64, ::add-mask::"

# --- workflow commands ------------------------------------------------------
wf commands <<'YML'
on: push
jobs:
  c:
    runs-on: default
    steps:
      - run: |
          echo "::group::My group"
          echo inside
          echo "::endgroup::"
          echo "::error file=app.c,line=7,col=3,title=Bad::it broke"
          echo "::warning::careful"
          echo "::notice::fyi"
          echo "::set-output name=old::style"
          echo "::stop-commands::tok123"
          echo "::error::not-a-command"
          echo "::tok123::"
        id: s
      - run: test "${{ steps.s.outputs.old }}" = style
      - run: echo "::set-env name=X::y"
YML
run commands $sandbox
[ "$rc" = 1 ] && grep -q 'My group' "$dir/out" &&
	grep -q 'Error: app.c:7:3: Bad: it broke' "$dir/out" &&
	grep -q 'Warning: careful' "$dir/out" && grep -q 'Notice: fyi' "$dir/out" &&
	grep -q '::error::not-a-command' "$dir/out" &&
	grep -q 'set-env. command is disabled' "$dir/out"
check $? "commands: groups, annotations, set-output, stop-commands, set-env refused"

# --- time-outs kill the whole tree, setsid grandchild included --------------
pidfile=$dir/grandchild.pid
wf timeout <<YML
on: push
jobs:
  t:
    runs-on: default
    steps:
      - timeout-minutes: 0.02
        run: |
          setsid sh -c 'echo \$\$ > $pidfile; exec sleep 1000' &
          sleep 1000
      - if: always()
        run: echo after-timeout
YML
start=$(date +%s)
run timeout --no-sandbox
took=$(($(date +%s) - start))
gpid=$(cat "$pidfile" 2>/dev/null)
[ "$rc" = 1 ] && [ -n "$gpid" ] && ! kill -0 "$gpid" 2>/dev/null &&
	grep -q 'step has timed out' "$dir/out" && grep -q after-timeout "$dir/out" &&
	[ "$took" -lt 30 ]
check $? "timeout: step tree killed incl. setsid grandchild $gpid (took ${took}s)"

# --- cancellation by SIGINT: always() steps still run ------------------------
wf cancel <<'YML'
on: push
jobs:
  c:
    runs-on: default
    steps:
      - run: echo started; sleep 1000
      - if: always()
        run: echo cleanup-ran
      - run: echo NOT-AFTER-CANCEL
YML
(cd "$dir" && exec "$guts" exec --workflow "$dir/cancel.yml" $sandbox) >"$dir/out" 2>&1 &
bg=$!
for _ in $(seq 300); do grep -q '^\[c\] started' "$dir/out" && break; sleep 0.1; done
kill -INT $bg
wait $bg
rc=$?
[ "$rc" = 1 ] && grep -q '^\[c\] cleanup-ran' "$dir/out" && ! grep -q '^\[c\] NOT-AFTER-CANCEL' "$dir/out" &&
	grep -q 'Run cancelled' "$dir/out"
check $? "cancel: SIGINT cancels, always() runs (rc $rc)"

# --- bad input ---------------------------------------------------------------
wf badshell <<'YML'
on: push
jobs:
  b:
    runs-on: default
    steps:
      - shell: fish-does-not-exist {0}
        run: echo hi
YML
run badshell $sandbox
[ "$rc" = 1 ] && grep -q "shell 'fish-does-not-exist' was not found" "$dir/out"
check $? "bad input: a missing shell is named"

wf badwd <<'YML'
on: push
jobs:
  b:
    runs-on: default
    steps:
      - working-directory: no/such/dir
        run: echo hi
YML
run badwd $sandbox
[ "$rc" = 1 ] && grep -q "working-directory 'no/such/dir' does not exist" "$dir/out"
check $? "bad input: a missing working-directory fails the step"

wf binary <<'YML'
on: push
jobs:
  b:
    runs-on: default
    steps:
      - run: |
          printf 'before\000after-nul\n'
          head -c 3000000 /dev/zero | tr '\0' x
          echo
          exec >&- 2>&-
          sleep 0.5
          true
YML
run binary $sandbox
[ "$rc" = 0 ] && grep -aq 'after-nul' "$dir/out" &&
	[ "$(grep -ac 'xxxxxxxxxx' "$dir/out")" -ge 40 ]
check $? "bad input: NUL bytes kept, a 3 MB line split, closed stdout does not hang"

printf 'on: pushh\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: true\n' >"$dir/invalid.yml"
run invalid
[ "$rc" = 2 ] && grep -q 'invalid.yml:1:5: error' "$dir/out"
check $? "invalid workflow: exit 2 in the validator's format"

(cd "$dir" && "$guts" exec --bogus) >"$dir/out" 2>&1
[ $? = 2 ]
check $? "usage error: exit 2"

run basic $sandbox --job nosuchjob
[ "$rc" = 2 ] && grep -q "no job 'nosuchjob'" "$dir/out"
check $? "--job with an unknown job: exit 2"

# --- inputs, vars, --env-file and --secret-file (dotenv) ----------------------
cat >"$dir/secrets.env" <<'ENV'
# a comment
MULTI="one\ntwo\nthree"
PLAIN=top-secret
ENV
cat >"$dir/vars.env" <<'ENV'
export FROM_FILE=file-value
ENV
wf inputs <<'YML'
on:
  workflow_dispatch:
    inputs:
      flag:
        type: boolean
      name:
        default: fallback
jobs:
  i:
    runs-on: default
    steps:
      - run: |
          test "${{ inputs.flag }}" = true
          test "${{ inputs.name }}" = fallback
          test "${{ github.event.inputs.flag }}" = true
          test "${{ vars.COLOR }}" = blue
          test "$FROM_FILE" = file-value
          test "${{ env.FROM_FILE }}" = file-value
          test "$(printf '%s\n' "${{ secrets.MULTI }}" | wc -l)" = 3
          echo "show ${{ secrets.PLAIN }} and ${{ secrets.MULTI }}"
YML
run inputs $sandbox --event workflow_dispatch --input flag=true --var COLOR=blue \
	--env-file "$dir/vars.env" --secret-file "$dir/secrets.env"
[ "$rc" = 0 ] && ! grep -q 'top-secret\|two' "$dir/out" &&
	grep -q '^\[i\] show \*\*\* and \*\*\*' "$dir/out"
check $? "inputs: typed inputs, vars, dotenv env and secret files, masked"

# --- a local reusable workflow: inputs, secrets, outputs ---------------------
mkdir -p "$dir/.github/workflows"
cat >"$dir/.github/workflows/lib.yml" <<'YML'
on:
  workflow_call:
    inputs:
      who:
        type: string
        required: true
    secrets:
      tok:
        required: true
    outputs:
      greeting:
        value: ${{ jobs.build.outputs.g }}
jobs:
  build:
    runs-on: default
    outputs:
      g: ${{ steps.g.outputs.g }}
    steps:
      - id: g
        run: |
          echo "g=hello ${{ inputs.who }}" >> "$GITHUB_OUTPUT"
          test "${{ secrets.tok }}" = sekret
          echo "called-secret ${{ secrets.tok }}"
YML
wf reuse <<'YML'
on: push
jobs:
  call:
    uses: ./.github/workflows/lib.yml
    with:
      who: world
    secrets:
      tok: ${{ secrets.TOKEN }}
  after:
    needs: call
    runs-on: default
    steps:
      - run: test "${{ needs.call.outputs.greeting }}" = "hello world"
YML
run reuse $sandbox --secret TOKEN=sekret --json
[ "$rc" = 0 ] && grep -q '^\[call / build\] called-secret \*\*\*' "$dir/out" &&
	last_json | grep -q '"id":"call/build","name":"call / build"'
check $? "reusable: a local workflow_call with inputs, secrets and outputs"

# --- sandbox: network none, pids and memory limits ---------------------------
if [ -z "$sandbox" ] && command -v node >/dev/null 2>&1; then
	node -e 'const s=require("net").createServer(c=>c.end("hi\n")).listen(0,"127.0.0.1",()=>{console.log(s.address().port)})' >"$dir/port" 2>&1 &
	listener=$!
	for _ in $(seq 50); do [ -s "$dir/port" ] && break; sleep 0.1; done
	port=$(cat "$dir/port")
	wf network <<YML
on: push
jobs:
  open:
    runs-on: default
    steps:
      - run: exec 3<>/dev/tcp/127.0.0.1/$port && echo CONNECTED-OPEN
  closed:
    runs-on: default
    sandbox:
      network: none
    steps:
      - run: |
          if exec 3<>/dev/tcp/127.0.0.1/$port; then echo CONNECTED-CLOSED; exit 1; fi
          echo refused-as-expected
YML
	run network
	kill $listener 2>/dev/null
	[ "$rc" = 0 ] && grep -q '^\[open\] CONNECTED-OPEN' "$dir/out" &&
		grep -q '^\[closed\] refused-as-expected' "$dir/out" &&
		grep -q 'no network' "$dir/out"
	check $? "sandbox: network: none cannot reach a listener on 127.0.0.1:$port"
else
	echo "skip: network: none needs bubblewrap and node (for the listener)"
fi

wf limits <<'YML'
on: push
jobs:
  bomb:
    runs-on: default
    sandbox:
      pids: 64
    steps:
      - shell: sh
        run: |
          # A bounded fork bomb: far more processes than the limit
          # allows (dash gives up at the first refused fork).
          for i in $(seq 300); do sleep 30 & done
          wait
  hog:
    runs-on: default
    sandbox:
      memory: 64M
    steps:
      - run: |
          # Hold ~400 MB in the shell: the memory limit must stop it.
          x=$(head -c 400000000 /dev/zero | tr '\0' x)
          echo "${#x}"
YML
run limits $sandbox
if grep -q 'pids 64' "$dir/out"; then
	grep -q '^\[bomb\] Error: The step hit the job.s process limit' "$dir/out" &&
		grep -q '^\[bomb\] Job failure' "$dir/out"
	check $? "limits: a fork bomb is stopped by the pids limit"
else
	echo "skip: no pids cgroup here (the sandbox line says what is in force)"
fi
if grep -q 'memory 64' "$dir/out"; then
	grep -q '^\[hog\] Error: The step was killed: it exceeded the job.s memory limit' "$dir/out" &&
		grep -q '^\[hog\] Job failure' "$dir/out"
	check $? "limits: a memory hog is stopped by the memory limit"
else
	echo "skip: no memory cgroup here (the sandbox line says what is in force)"
fi

# --- review regressions: untrusted steps against the executor ---------------
victim=$dir/victim
mkdir -p "$victim"
echo precious >"$victim/script.sh"
mkdir -p "$dir/hostsecret"
echo "using: gho_HOSTSECRET" >"$dir/hostsecret/creds"
wf tamper <<YML
on: push
jobs:
  t:
    runs-on: default
    steps:
      - run: |
          d=\$(dirname "\$GITHUB_OUTPUT"); mv "\$d" "\$d.old"; ln -s $victim "\$d"
          mkdir act; ln -s $dir/hostsecret/creds act/action.yml
      - if: always()
        run: echo second
      - if: always()
        uses: ./act
YML
run tamper --no-sandbox
[ "$rc" = 1 ] && [ "$(cat "$victim/script.sh")" = precious ] &&
	[ "$(ls "$victim")" = script.sh ] && ! grep -q HOSTSECRET "$dir/out" &&
	grep -q 'was replaced by an earlier step' "$dir/out" &&
	grep -q 'resolves outside the workspace' "$dir/out"
check $? "tamper: a swapped file-command dir and an action.yml link out are refused"

wf semantics <<'YML'
on: push
jobs:
  slow:
    runs-on: default
    timeout-minutes: 0.02
    steps:
      - run: sleep 30
      - if: always()
        run: echo cleanup-after-job-timeout
  named:
    runs-on: default
    steps:
      - name: deploy ${{ secrets.TOKEN }}
        run: echo "::error title=T-$TOK::body"
        env:
          TOK: ${{ secrets.TOKEN }}
  legs:
    runs-on: default
    strategy:
      matrix:
        v: [1, 2]
    outputs:
      out1: ${{ steps.s.outputs.out1 }}
      out2: ${{ steps.s.outputs.out2 }}
    steps:
      - id: s
        run: echo "out${{ matrix.v }}=value${{ matrix.v }}" >> "$GITHUB_OUTPUT"
  check:
    needs: legs
    runs-on: default
    steps:
      - run: test "${{ needs.legs.outputs.out1 }}-${{ needs.legs.outputs.out2 }}" = value1-value2
      - id: bad
        run: exit 1
      - if: fromJSON(steps.bad.outputs.nothing)
        run: echo never
  b:
    needs: check
    runs-on: default
    steps:
      - run: echo never
  notify:
    needs: b
    if: failure()
    runs-on: default
    steps:
      - run: echo notified-of-ancestor-failure
YML
run semantics $sandbox --secret TOKEN=hunter2 --json --parallel 4
! grep -q hunter2 "$dir/out" && grep -q '^\[slow\] cleanup-after-job-timeout' "$dir/out" &&
	grep -q 'exceeded the maximum execution time of 0.02 minutes' "$dir/out" &&
	grep -q '^\[check\] - Run echo never (skipped)' "$dir/out" &&
	grep -q '^\[notify\] notified-of-ancestor-failure' "$dir/out" &&
	! grep -q '^\[check\] ✗ Run echo never' "$dir/out"
check $? "semantics: cleanup after a job time-out, masked names and titles, matrix outputs, ancestor failure(), short-circuit if:"

# --- checkout: a real git checkout of HEAD -------------------------------------
repo=$dir/repo
mkdir -p "$repo/.guts/workflows"
cat >"$repo/.guts/workflows/ci.yml" <<'YML'
on: push
jobs:
  build:
    runs-on: default
    steps:
      - uses: actions/checkout@v4
      - run: |
          test -f hello.txt
          git log -1 --format=%s | grep -q 'first commit'
          test "$(git rev-parse HEAD)" = "$GITHUB_SHA"
YML
echo hi >"$repo/hello.txt"
(cd "$repo" && git init -q && git add -A &&
	git -c user.name=t -c user.email=t@e commit -qm 'first commit') >/dev/null 2>&1
(cd "$repo" && "$guts" exec $sandbox) >"$dir/out" 2>&1
rc=$?
[ "$rc" = 0 ]
check $? "checkout: the only workflow, real git checkout at HEAD (rc $rc)"

echo "exec: $passes passed, $fails failed"
[ "$fails" = 0 ]
