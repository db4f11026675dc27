#!/bin/sh
# Build the libFuzzer targets and run each for a while, one after another.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Corpora live in build-fuzz/corpus-<target>/ (kept between runs) and are
# seeded from the conformance kit when it exists.  A crash, leak or hang
# stops the run with libFuzzer's report and a reproducer file.
set -eu
secs=${1:-60}
[ $# -gt 0 ] && shift
kit=${CONFORMANCE:-../shared/conformance}

make fuzz >/dev/null
targets=${*:-$(cd build-fuzz/fuzz && ls fuzz_*)}
for t in $targets; do
	corpus=build-fuzz/corpus-$t
	mkdir -p "$corpus"
	case $t in
	fuzz_workflow)
		[ -d "$kit/workflows/corpus" ] && cp -n "$kit"/workflows/corpus/*.y*ml "$corpus"/ 2>/dev/null || true
		;;
	fuzz_action)
		if [ -d "$kit/runs/act" ]; then
			find "$kit/runs/act" -name 'action.y*ml' | while read -r f; do
				cp -n "$f" "$corpus/$(echo "$f" | tr / _)" 2>/dev/null || true
			done
		fi
		;;
	fuzz_dotenv)
		for f in .secrets .env; do
			[ -f "$kit/runs/act/secrets/$f" ] && cp -n "$kit/runs/act/secrets/$f" "$corpus/act$f" 2>/dev/null || true
		done
		;;
	fuzz_expr)
		if [ -f "$kit/expressions/cases.jsonl" ] && [ -z "$(ls -A "$corpus")" ]; then
			node -e '
				const fs = require("fs");
				const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
				lines.forEach((l, i) => fs.writeFileSync(process.argv[2] + "/seed" + i, JSON.parse(l).expr));
			' "$kit/expressions/cases.jsonl" "$corpus"
		fi
		;;
	esac
	echo "== $t for ${secs}s"
	"build-fuzz/fuzz/$t" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 "$corpus" 2>&1 |
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE|==[0-9]+==ERROR|SUMMARY)' || true
done
