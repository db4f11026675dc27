#!/bin/sh
# End to end: `guts workflow validate` on real files, its exit status, its
# FILE:LINE:COL output and its --json shape.
#
#   tests/cli/validate.sh GUTS_BIN
set -u
guts=$1
dir=$(mktemp -d)
out=$(mktemp -d)
trap 'rm -rf "$dir" "$out"' EXIT
fails=0
passes=0

check() {
	if [ "$1" = 0 ]; then
		passes=$((passes + 1))
	else
		fails=$((fails + 1))
		echo "FAIL: $2"
	fi
}

mkdir -p "$dir/.guts/workflows"
cat >"$dir/.guts/workflows/good.yml" <<'YML'
on: push
jobs:
  build:
    runs-on: default
    steps:
      - uses: actions/checkout@v4
      - run: make
YML
cat >"$dir/.guts/workflows/bad.yml" <<'YML'
on: pushh
jobs:
  build:
    runs-on: default
    steps:
      - runn: make
      - run: echo ${{ matrx.os }}
  test:
    needs: lint
    runs-on: default
    steps:
      - run: make test
YML

"$guts" workflow validate "$dir/.guts/workflows/good.yml" >"$dir/out" 2>&1
check $? "a valid file exits 0"
grep -q "good.yml: valid (1 job)" "$dir/out"
check $? "a valid file says so"

"$guts" workflow validate "$dir/.guts/workflows/good.yml" \
	"$dir/.guts/workflows/bad.yml" >"$dir/out" 2>"$dir/err"
check $([ $? = 1 ] && echo 0 || echo 1) "one bad file makes the exit status 1"
f=$dir/.guts/workflows/bad.yml
for want in \
	"$f:1:5: error: unknown event 'pushh'; did you mean 'push'?" \
	"$f:6:9: error: unexpected key 'runn' in a step; did you mean 'run'?" \
	"$f:7:23: error: Unrecognized named-value: 'matrx'" \
	"$f:9:12: error: job 'test' needs job 'lint', which does not exist" \
	"$f: 5 errors"; do
	grep -qF "$want" "$dir/err"
	check $? "stderr has: $want"
done

"$guts" workflow validate --json "$f" >"$dir/json"
check $([ $? = 1 ] && echo 0 || echo 1) "--json keeps the exit status"
node -e '
	const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
	const ok = r.file.endsWith("bad.yml") && r.valid === false &&
		r.errors.length === 5 && Array.isArray(r.warnings) &&
		r.errors.every(e => typeof e.message === "string" &&
			Number.isInteger(e.line) && Number.isInteger(e.col)) &&
		r.errors[0].line === 1 && r.errors[0].col === 5;
	process.exit(ok ? 0 : 1);
' "$dir/json"
check $? "--json prints {file, valid, errors[{message,line,col}], warnings}"

# A file name that is not UTF-8 used to crash --json (json_pack failed).
bad=$(printf '%s/bad\377name.yml' "$dir")
cp "$f" "$bad"
"$guts" workflow validate --json "$bad" >"$dir/json" 2>"$dir/err"
check $([ $? = 1 ] && echo 0 || echo 1) "--json with a non-UTF-8 file name exits 1"
node -e '
	const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
	process.exit(r.file.endsWith("bad\ufffdname.yml") &&
		r.errors.length === 5 ? 0 : 1);
' "$dir/json"
check $? "--json with a non-UTF-8 file name is valid JSON with every error"

# Called workflows: read from the repository, never from outside it.
w=$dir/.guts/workflows
printf 'on: workflow_call\njobs:\n  a:\n    runs-on: x\n    steps: [run: a]\n' \
	>"$w/called.yml"
printf 'on: push\njobs:\n  a:\n    runs-on: x\n    steps: [run: a]\n' \
	>"$out/outside.yml"
ln -s "$out/outside.yml" "$w/escape.yml"
for ref in called missing escape; do
	printf 'on: push\njobs:\n  a:\n    uses: ./.guts/workflows/%s.yml\n' \
		"$ref" >"$w/call-$ref.yml"
done
"$guts" workflow validate "$w/call-called.yml" >/dev/null 2>&1
check $? "a call to a workflow of the repository is valid"
"$guts" workflow validate "$w/call-missing.yml" >/dev/null 2>"$dir/err"
check $([ $? = 1 ] && echo 0 || echo 1) "a call to a missing workflow exits 1"
grep -qF "call-missing.yml:4:11: error: cannot read the called workflow: $dir/.guts/workflows/missing.yml: no such file" "$dir/err"
check $? "a call to a missing workflow is an error at the uses: value"
"$guts" workflow validate "$w/call-escape.yml" >/dev/null 2>"$dir/err"
check $([ $? = 1 ] && echo 0 || echo 1) "a call through a symlink out of the repository exits 1"
grep -qF "call-escape.yml:4:11: error: cannot read the called workflow: $dir/.guts/workflows/escape.yml leads outside the repository" "$dir/err"
check $? "a call through a symlink out of the repository is refused"

"$guts" workflow validate "$dir/nonexistent.yml" >/dev/null 2>"$dir/err"
check $([ $? = 1 ] && echo 0 || echo 1) "a missing file exits 1"
grep -q "no such file" "$dir/err"
check $? "a missing file is named"

"$guts" workflow validate >/dev/null 2>&1
check $([ $? = 2 ] && echo 0 || echo 1) "no file is a usage error (2)"
"$guts" workflow validate --reusable-dir >/dev/null 2>"$dir/err"
check $([ $? = 2 ] && echo 0 || echo 1) "--reusable-dir without a directory is a usage error (2)"
grep -q "reusable-dir needs a directory" "$dir/err"
check $? "--reusable-dir without a directory says so"
"$guts" workflow validate --help | grep -q "usage: guts workflow validate"
check $? "--help prints the usage"

echo "cli/validate: $passes passed, $fails failed"
[ $fails = 0 ]
