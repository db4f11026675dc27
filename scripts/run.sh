#!/bin/sh
# make run: a node on 127.0.0.1:8080 with data in ./var and one embedded
# runner, plus a demo/hello repository whose first push runs a workflow.
# The node stays in the foreground; Ctrl-C stops it (its runner drains).
set -eu

BIN=${1:-build/bin}
LISTEN=${GUTS_LISTEN:-127.0.0.1:8080}
DATA=${GUTS_DATA:-./var}
URL="http://$LISTEN"
LOG="$DATA/node.log"

mkdir -p "$DATA"
"$BIN/guts-node" --listen "$LISTEN" --data "$DATA" --runners 1 >"$DATA/node.out" 2>"$LOG" &
NODE=$!
trap 'kill -TERM $NODE 2>/dev/null; wait $NODE 2>/dev/null; exit 0' INT TERM

i=0
until grep -q "listening on" "$DATA/node.out" 2>/dev/null; do
	if ! kill -0 $NODE 2>/dev/null; then
		echo "run: guts-node did not start; $LOG says:" >&2
		tail -n 20 "$LOG" >&2
		exit 1
	fi
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "run: guts-node is not listening after 10s" >&2; exit 1; }
	sleep 0.1
done
TOKEN=$(cat "$DATA/admin.token")
export GUTS_URL="$URL" GUTS_TOKEN="$TOKEN"

# The demo repository, pushed once.
if ! "$BIN/guts" repo view demo/hello >/dev/null 2>&1; then
	"$BIN/guts" repo create demo/hello >/dev/null
	WORK=$(mktemp -d)
	mkdir -p "$WORK/.guts/workflows"
	cat >"$WORK/.guts/workflows/hello.yml" <<'YAML'
name: Hello
on: [push, workflow_dispatch]
jobs:
  greet:
    runs-on: default
    steps:
      - uses: actions/checkout@v4
      - run: echo "Hello from Guts CI on $(uname -s)"
      - run: ls -la
      - name: Show some colour
        run: |
          echo "Colours, a group, a notice and a summary table:"
          printf '\033[1;32mbuild ok\033[0m  \033[33mwarnings: 0\033[0m  \033[36m%s\033[0m\n' "$(date -u +%H:%M:%S)"
          echo "::group::The environment"
          echo "runner: $RUNNER_NAME, os: $RUNNER_OS"
          echo "ref: $GITHUB_REF, sha: $GITHUB_SHA"
          echo "::endgroup::"
          for c in 31 32 33 34 35 36; do printf '\033[%sm##### colour %s\033[0m\n' "$c" "$c"; done
          printf '\033[38;5;208m256 colours\033[0m and \033[38;2;120;90;255mtruecolor\033[0m\n'
          echo "::notice title=Demo::This run was started by make run"
          {
            echo '### Demo summary'
            echo '| check | result |'
            echo '|---|---|'
            echo '| build | passed |'
            echo '| tests | 2 of 2 |'
          } >>"$GITHUB_STEP_SUMMARY"
  test:
    needs: greet
    runs-on: default
    strategy:
      matrix:
        shell: [sh, bash]
    steps:
      - run: echo "testing with ${{ matrix.shell }}"
YAML
	printf '# hello\n\nA demo repository for Guts CI.\n' >"$WORK/README.md"
	(
		cd "$WORK"
		git init -q -b main
		git add -A
		git -c user.name=Guts -c user.email=guts@localhost commit -qm "Hello, Guts CI"
		git push -q "http://admin:$TOKEN@$LISTEN/demo/hello.git" main
	)
	rm -rf "$WORK"
fi

cat <<MSG

  guts-node is running at $URL (data in $DATA, log in $LOG)

  web UI:       $URL/  (the demo run: $URL/demo/hello/actions)

  admin token:  $TOKEN
  try:          export GUTS_URL=$URL GUTS_TOKEN=\$(cat $DATA/admin.token)
                $BIN/guts run list -R demo/hello
                $BIN/guts run view 1 -R demo/hello
                $BIN/guts run logs 1 -R demo/hello
  clone:        git clone $URL/demo/hello.git

  Ctrl-C stops the node.
MSG
wait $NODE
