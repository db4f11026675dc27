#!/bin/bash
# Artifacts on guts-node, each against a baseline from the same run:
#
#  1. Uploading one 1 GiB file (PUT …/blobs/SHA over loopback, curl) in
#     MB/s, against `openssl speed -evp sha256` (16 KiB blocks): the node
#     hashes every byte it stores, so hashing speed bounds it.  Target
#     >= 300 MB/s and >= 80% of the hash speed... of what the issue asks;
#     the figures say where we are.
#  2. Re-uploading identical content: the blob bytes the protocol asks for
#     (`missing`) on a second artifact with the same files.  Target ~0.
#  3. Restoring 10,000 small files (about 4 KiB each) from the node
#     (`guts artifact download`: a tar.gz built from verified blobs,
#     extracted and checked against the manifest), against `tar -xzf` of
#     the same files from a local tarball.  A ratio.
#
#   bench/node/artifacts.sh BUILD_DIR      (BN_SIZE_MB=1024, BN_FILES=10000)
# shellcheck disable=SC2154
set -eu
BN_NAME=artifacts
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
bn_init "${1:-build}"
SIZE_MB=${BN_SIZE_MB:-1024}
NFILES=${BN_FILES:-10000}

bn_node a 0
bn_queued_run a
api="$a_url/api/repos/o/r"
auth="Authorization: Bearer $a_token"

# manifest_for DIR: the manifest JSON of every file under DIR.
manifest_for() {
	"$BN_PY" - "$1" <<'PY'
import hashlib, json, os, sys
root = sys.argv[1]
out = []
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        h = hashlib.sha256()
        with open(p, 'rb') as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b''):
                h.update(chunk)
        out.append({'path': os.path.relpath(p, root), 'mode': os.stat(p).st_mode & 0o777,
                    'size': os.path.getsize(p), 'sha256': h.hexdigest()})
out.sort(key=lambda e: e['path'].encode())
print(json.dumps(out))
PY
}

# upload NAME DIR: the whole protocol; prints "missing_count missing_bytes secs".
upload() {
	local name=$1 dir=$2 id bytes=0 t0 t1 h f n=0
	manifest_for "$dir" >"$BN_TMP/files.json"
	"$BN_PY" -c 'import json,sys; print(json.dumps({"name": sys.argv[1], "files": json.load(open(sys.argv[2]))}))' \
		"$name" "$BN_TMP/files.json" >"$BN_TMP/req.json"
	curl -fsS -H "$auth" -H 'Content-Type: application/json' \
		--data-binary "@$BN_TMP/req.json" "$api/runs/1/artifacts" >"$BN_TMP/up.json"
	id=$("$BN_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["upload"]["id"])' "$BN_TMP/up.json")
	# "sha path" for each missing blob (one path per content).
	"$BN_PY" -c 'import json,sys
files = {e["sha256"]: e["path"] for e in json.load(open(sys.argv[1]))}
for h in json.load(open(sys.argv[2]))["upload"]["missing"]:
    print(h, files[h])' "$BN_TMP/files.json" "$BN_TMP/up.json" >"$BN_TMP/missing.txt"
	t0=$(date +%s.%N)
	if [ "$(wc -l <"$BN_TMP/missing.txt")" -le 1 ]; then
		# One big blob: curl -T streams it (--data-binary @f would
		# read it all first).
		while read -r h f; do
			curl -fsS -T "$dir/$f" -H "$auth" \
				-H 'Content-Type: application/octet-stream' \
				"$api/blobs/$h" >/dev/null
			bytes=$((bytes + $(stat -c %s "$dir/$f")))
			n=$((n + 1))
		done <"$BN_TMP/missing.txt"
	else
		# Many small ones: one keep-alive connection, as a runner does.
		read -r n bytes < <("$BN_PY" - "$a_url" "$a_token" "$dir" "$BN_TMP/missing.txt" <<'PY'
import http.client, os, sys, urllib.parse
url, token, root, listing = sys.argv[1:5]
u = urllib.parse.urlsplit(url)
c = http.client.HTTPConnection(u.hostname, u.port)
n = total = 0
for line in open(listing):
    h, f = line.split(' ', 1)
    data = open(os.path.join(root, f.rstrip('\n')), 'rb').read()
    c.request('PUT', '/api/repos/o/r/blobs/' + h, body=data,
              headers={'Authorization': 'Bearer ' + token,
                       'Content-Type': 'application/octet-stream'})
    r = c.getresponse(); r.read()
    if r.status not in (200, 201):
        sys.exit('PUT %s: %d' % (h, r.status))
    n += 1; total += len(data)
print(n, total)
PY
)
	fi
	t1=$(date +%s.%N)
	curl -fsS -X POST -H "$auth" -H 'Content-Type: application/json' -d '{}' \
		"$api/uploads/$id/finalize" >/dev/null
	echo "$n $bytes $(bn_calc "$t1 - $t0")"
}

# 1. One big file.
mkdir -p "$BN_TMP/big"
head -c "$((SIZE_MB << 20))" /dev/urandom >"$BN_TMP/big/blob.bin"
read -r _ bytes secs < <(upload big "$BN_TMP/big")
up_mbs=$(bn_calc "round($bytes / $secs / 1e6, 1)")
hash_mbs=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null |
	awk '/^sha256/ {v=$NF; sub(/k$/, "", v); print v * 1000 / 1e6}')
echo "upload ${SIZE_MB} MiB: ${up_mbs} MB/s; openssl sha256 (16 KiB): ${hash_mbs} MB/s;" \
	"upload/hash = $(bn_calc "round($up_mbs / $hash_mbs, 3)") (target: >= 300 MB/s)"
# The blob store's own hashing and storing, against the same openssl run.
if [ -x "$BN_BUILD/bench/bench_blobstore" ]; then
	out=$("$BN_BUILD/bench/bench_blobstore" "$SIZE_MB")
	g_hash=$(echo "$out" | awk '/^hash/ {print $2}')
	g_store=$(echo "$out" | awk '/^store/ {print $2}')
	echo "blob store: hashing ${g_hash} MB/s = $(bn_calc "round(100 * $g_hash / $hash_mbs)")% of openssl" \
		"(target >= 80%); hash + write + fsync ${g_store} MB/s"
fi

# 2. The same content again, under another name.
read -r count bytes _ < <(upload big-again "$BN_TMP/big")
echo "re-upload of identical content: $count blobs, $bytes bytes sent (target ~0)"

# 3. 10,000 small files: download from the node vs tar -x locally.
mkdir -p "$BN_TMP/many"
"$BN_PY" - "$BN_TMP/many" "$NFILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, 'd%03d' % (i // 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'f%05d.txt' % i), 'wb') as f:
        f.write(os.urandom(2048).hex().encode())
PY
upload many "$BN_TMP/many" >/dev/null
tar -czf "$BN_TMP/many.tar.gz" -C "$BN_TMP/many" .
best_tar=999999
best_guts=999999
for _ in 1 2 3; do
	rm -rf "$BN_TMP/x1" "$BN_TMP/x2"
	mkdir -p "$BN_TMP/x1" "$BN_TMP/x2"
	t0=$(date +%s.%N)
	tar -xzf "$BN_TMP/many.tar.gz" -C "$BN_TMP/x1"
	t1=$(date +%s.%N)
	"$BN_BIN/guts" artifact download 1 many -D "$BN_TMP/x2" -R o/r \
		--url "$a_url" --token "$a_token" >/dev/null
	t2=$(date +%s.%N)
	best_tar=$(bn_calc "min($best_tar, $t1 - $t0)")
	best_guts=$(bn_calc "min($best_guts, $t2 - $t1)")
done
diff -r "$BN_TMP/many" "$BN_TMP/x2" >/dev/null || bn_die "the download differs"
echo "restore $NFILES files: guts artifact download $(bn_calc "round($best_guts, 3)") s," \
	"tar -xzf $(bn_calc "round($best_tar, 3)") s; ratio $(bn_calc "round($best_guts / $best_tar, 2)")"
