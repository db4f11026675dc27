#!/bin/sh
# Install the Debian packages Guts CI needs to build and test.  Idempotent: it
# only asks apt for what is missing.  As root it runs apt-get itself, through
# sudo when that works without a password, and otherwise prints the command.
#
#   scripts/deps.sh           install what is missing
#   scripts/deps.sh --check   exit 1 when something is missing, install nothing
#   scripts/deps.sh --bench   also the benchmarks' packages (make bench)
set -eu

check=0
bench=0
for arg in "$@"; do
	case $arg in
	--check) check=1 ;;
	--bench) bench=1 ;;
	*)
		echo "usage: scripts/deps.sh [--check] [--bench]" >&2
		exit 2
		;;
	esac
done

PACKAGES="
build-essential
cmake
pkg-config
git
clang
libclang-rt-14-dev
clang-format
libyaml-dev
libjansson-dev
libssl-dev
libcmocka-dev
libcurl4-openssl-dev
libmicrohttpd-dev
libsqlite3-dev
sqlite3
libgit2-dev
libzstd-dev
libarchive-dev
libwslay-dev
zlib1g-dev
libcmark-gfm-dev
libcmark-gfm-extensions-dev
unzip
chromium
bubblewrap
"

# Only the node benchmarks (bench/node/) use these: a load generator and a
# static web server to measure against.  make test does not install them.
BENCH_PACKAGES="
wrk
nginx-light
"
[ "$bench" = 1 ] && PACKAGES="$PACKAGES $BENCH_PACKAGES"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

# The conformance drivers need Node.js 20 or newer; any install will do.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"

if [ -z "$missing" ]; then
	exit 0
fi
if [ "$check" = 1 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	exit 1
fi

echo "deps: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo -n"
else
	echo "deps: not root; run this as root:" >&2
	echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# An old package list can miss packages; refresh it once, then install.
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done" >&2
