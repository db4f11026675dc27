# Shared by the node benchmarks (bash; sourced, not run).
#
#   . "$(dirname "$0")/lib.sh"; bn_init BUILD_DIR
#
# bn_init makes a temp dir and a trap that stops every process started
# through bn_spawn (SIGTERM, then SIGKILL after 10 s) and removes the dir.
# Nodes listen on 127.0.0.1:0; nginx gets a free port from the kernel.

BN_PIDS=""
BN_TMP=""
# The system's python3 starts in a tenth of the time of a pyenv shim.
BN_PY=python3
[ -x /usr/bin/python3 ] && BN_PY=/usr/bin/python3

bn_die() {
	echo "${BN_NAME:-bench}: $*" >&2
	exit 1
}

# bn_kill PID: SIGTERM, then SIGKILL after 10 s.  A node's embedded runners
# are killed at once: an idle one drains only when its 30 s `next` long-poll
# ends, and the node waits for them; the benchmarks are done with them.
bn_kill() {
	local p=$1 c kids i
	kids=$(bn_children "$p")
	kill -TERM "$p" 2>/dev/null || return 0
	for c in $kids; do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = guts-runner ] &&
			kill -KILL "$c" 2>/dev/null
	done
	for i in $(seq 200); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$p" 2>/dev/null; then
		kids="$kids $(bn_children "$p")"
		# shellcheck disable=SC2086
		kill -KILL "$p" $kids 2>/dev/null || true
	fi
	wait "$p" 2>/dev/null || true
}

bn_cleanup() {
	local p
	for p in $BN_PIDS; do
		bn_kill "$p"
	done
	BN_PIDS=""
	[ -n "$BN_TMP" ] && rm -rf "$BN_TMP"
	BN_TMP=""
}

bn_init() {
	BN_BUILD=$(cd "${1:-build}" && pwd) || bn_die "no build dir ${1:-build}"
	BN_BIN=$BN_BUILD/bin
	[ -x "$BN_BIN/guts-node" ] || bn_die "no $BN_BIN/guts-node"
	BN_TMP=$(mktemp -d /tmp/guts-bench.XXXXXX)
	trap bn_cleanup EXIT
	trap 'exit 130' INT TERM HUP PIPE
	# git must not read the user's or the system's config.
	export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
	export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost
	export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost
	export GIT_TERMINAL_PROMPT=0
}

# bn_spawn CMD...: start CMD in the background, remember its pid in BN_PID.
bn_spawn() {
	"$@" &
	BN_PID=$!
	BN_PIDS="$BN_PIDS $BN_PID"
}

# bn_stop PID: stop one process started by bn_spawn and wait for it.
bn_stop() {
	local p=$1 i rest=""
	bn_kill "$p"
	for i in $BN_PIDS; do
		[ "$i" = "$p" ] || rest="$rest $i"
	done
	BN_PIDS=$rest
}

# bn_node NAME RUNNERS [VAR=VALUE...]: start a guts-node with data in
# $BN_TMP/NAME; sets NAME_pid, NAME_url and NAME_token.
bn_node() {
	local name=$1 runners=$2 dir i url
	shift 2
	dir=$BN_TMP/$name
	mkdir -p "$dir"
	bn_spawn env "$@" "$BN_BIN/guts-node" --listen 127.0.0.1:0 \
		--data "$dir/data" --runners "$runners" --log-level warn \
		>"$dir/out" 2>"$dir/log"
	for i in $(seq 200); do
		url=$(sed -n 's/^guts-node listening on //p' "$dir/out" 2>/dev/null)
		[ -n "$url" ] && break
		kill -0 "$BN_PID" 2>/dev/null ||
			bn_die "guts-node did not start: $(tail -n 5 "$dir/log")"
		sleep 0.05
	done
	[ -n "$url" ] || bn_die "guts-node is not listening after 10 s"
	eval "${name}_pid=$BN_PID ${name}_url=$url"
	eval "${name}_token=$(cat "$dir/data/admin.token")"
}

# bn_api URL TOKEN METHOD PATH [JSON]: one API call; prints the body.
bn_api() {
	local url=$1 token=$2 method=$3 path=$4
	if [ $# -ge 5 ]; then
		curl -fsS -X "$method" -H "Authorization: Bearer $token" \
			-H 'Content-Type: application/json' -d "$5" "$url$path"
	else
		curl -fsS -X "$method" -H "Authorization: Bearer $token" "$url$path"
	fi
}

# bn_repo URL TOKEN OWNER/NAME WORKDIR: make the repository on the node and
# an empty local clone-to-be in WORKDIR whose `origin` pushes to it.
bn_repo() {
	local url=$1 token=$2 full=$3 work=$4
	bn_api "$url" "$token" POST /api/repos \
		"{\"owner\":\"${full%%/*}\",\"name\":\"${full#*/}\",\"visibility\":\"public\"}" \
		>/dev/null || bn_die "cannot create $full"
	mkdir -p "$work"
	git -C "$work" init -q -b main
	git -C "$work" remote add origin \
		"http://admin:$token@${url#http://}/$full.git"
}

# bn_commit WORKDIR MESSAGE: commit everything in WORKDIR.
bn_commit() {
	git -C "$1" add -A && git -C "$1" commit -qm "$2"
}

# bn_queued_run NAME: on node NAME, the repository o/r whose run 1 stays
# queued (no runner has the label nowhere); its JSON goes to
# $BN_TMP/NAME/run.json.
bn_queued_run() {
	local name=$1 url token work i
	eval "url=\$${name}_url token=\$${name}_token"
	work=$BN_TMP/$name/work
	bn_repo "$url" "$token" o/r "$work"
	mkdir -p "$work/.guts/workflows"
	cat >"$work/.guts/workflows/queued.yml" <<'YAML'
name: Queued
on: push
jobs:
  wait:
    runs-on: nowhere
    steps:
      - run: "true"
YAML
	bn_commit "$work" "a run that stays queued"
	git -C "$work" push -q origin main 2>/dev/null || bn_die "push to $name failed"
	for i in $(seq 100); do
		bn_api "$url" "$token" GET /api/repos/o/r/runs/1 >"$BN_TMP/$name/run.json" \
			2>/dev/null && return 0
		sleep 0.05
	done
	bn_die "run 1 did not appear on $name"
}

# bn_rss PID...: the summed VmRSS and VmHWM of the processes, in kB.
bn_rss() {
	local p rss=0 hwm=0 r h
	for p in "$@"; do
		r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		h=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		rss=$((rss + ${r:-0}))
		hwm=$((hwm + ${h:-0}))
	done
	echo "$rss $hwm"
}

# bn_cpu PID...: CPU seconds used by the processes and their reaped
# children (utime + stime + cutime + cstime).
bn_cpu() {
	local p t=0 v
	for p in "$@"; do
		# The fields after the command name, which may hold spaces.
		v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13 + $14 + $15}')
		t=$((t + ${v:-0}))
	done
	bn_calc "'%.2f' % ($t / $(getconf CLK_TCK).0)"
}

# bn_free_port: a port the kernel considers free right now.
bn_free_port() {
	"$BN_PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# bn_nginx DIR FILE: nginx serving FILE (as /FILE's name) from DIR, as the
# current user, with everything in DIR; sets nginx_pid and nginx_url.
bn_nginx() {
	local dir=$1 port i user=""
	command -v nginx >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
	command -v nginx >/dev/null 2>&1 ||
		bn_die "nginx is missing (scripts/deps.sh --bench installs it)"
	port=$(bn_free_port)
	# As root nginx would switch its workers to nobody, who cannot read
	# the temp dir.
	[ "$(id -u)" = 0 ] && user="user root;"
	mkdir -p "$dir/www" "$dir/tmp"
	cat >"$dir/nginx.conf" <<EOF
$user
daemon off;
master_process on;
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	default_type application/json;
	keepalive_requests 1000000;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	server {
		listen 127.0.0.1:$port;
		root $dir/www;
	}
}
EOF
	bn_spawn nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
	nginx_pid=$BN_PID
	nginx_url=http://127.0.0.1:$port
	for i in $(seq 100); do
		curl -s -o /dev/null "$nginx_url/" 2>/dev/null && return 0
		kill -0 "$nginx_pid" 2>/dev/null ||
			bn_die "nginx did not start: $(tail -n 5 "$dir/error.log")"
		sleep 0.05
	done
	bn_die "nginx is not listening after 5 s"
}

# bn_children PID: the pids of PID's children.
bn_children() {
	cat "/proc/$1/task/"*/children 2>/dev/null | tr ' ' '\n' | grep . || true
}

# bn_wrk URL [HEADER]: one wrk round (-t2 -c32 -d5s, keep-alive); prints
# requests/s, or fails when wrk saw errors or non-2xx answers.
bn_wrk() {
	local out
	if [ $# -ge 2 ]; then
		out=$(wrk -t2 -c32 -d"${BN_WRK_SECONDS:-5}"s -H "$2" "$1")
	else
		out=$(wrk -t2 -c32 -d"${BN_WRK_SECONDS:-5}"s "$1")
	fi || bn_die "wrk failed: $out"
	if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then
		echo "$out" >&2
		bn_die "wrk saw errors against $1"
	fi
	echo "$out" | awk '/^Requests\/sec:/ {print $2}'
}

# bn_stats: numbers on stdin (one a line) -> "median p90 min max n".
bn_stats() {
	"$BN_PY" -c 'import sys, statistics
v = sorted(float(x) for x in sys.stdin.read().split())
n = len(v)
p90 = v[min(n - 1, max(0, -(-9 * n // 10) - 1))]
print("%.1f %.1f %.1f %.1f %d" % (statistics.median(v), p90, v[0], v[-1], n))'
}

# bn_calc EXPR: python arithmetic, for ratios.
bn_calc() {
	"$BN_PY" -c "print($1)"
}

# bn_max A B: the larger of two numbers.
bn_max() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? a : b }'
}
