#!/usr/bin/env bash
# Uploads to an S3 server on loopback: moto_server (Python's moto), started here with its
# signature checking on (an IAM user and key, then POST /moto-api/reset-auth), stopped at the end.
# Both sides sign every request with the same key (Signature Version 4):
#   1. one 1 GiB file:         quire push (a multipart upload, parts in parallel lanes)
#                              vs  curl --aws-sigv4 -T (one PUT)      (+ quire's peak RSS)
#   2. 1,000 files of 64 KiB:  quire push  vs  one curl invocation uploading all of them
#                              (curl -K with a url/upload-file pair per file, one connection)
# Before every run, of either tool, the bucket's copies are deleted: both start from the same state.
# Needs moto_server, curl (7.75+ for --aws-sigv4), sqlite3 and GNU time (/usr/bin/time).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
PATH=$PATH:$HOME/.local/bin   # where pip install --user puts moto_server

bench_standalone s3.sh

na_rows() {
    bench_row "S3 upload 1 GiB" "curl --aws-sigv4 -T" "n/a" "n/a"
    bench_row "S3 1,000 x 64 KiB" "curl -K (one connection)" "n/a" "n/a"
}
for tool in moto_server curl /usr/bin/time sqlite3; do
    if [[ ! -x "$tool" ]] && ! command -v "$tool" >/dev/null; then
        echo "s3.sh: '$tool' is needed (scripts/install-deps --test)" >&2
        na_rows
        exit 1
    fi
done

data="$BENCH_TMP/s3"
mkdir -p "$data/src"
moto_pid=""
cleanup() {
    [[ -n "$moto_pid" ]] && kill "$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null
    if ((standalone)); then rm -rf "$BENCH_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the server ----------------------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" >"$data/moto.log" 2>&1 &
moto_pid=$!
endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 200); do
    curl -s -o /dev/null "$endpoint/moto-api/" && break
    sleep 0.1
done
# moto routes by the service named in the Authorization header (not checked before reset-auth).
iam() {
    curl -sf -X POST -H "Authorization: AWS4-HMAC-SHA256 Credential=AKIAQUIRE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0" \
        --data "$1&Version=2010-05-08" "$endpoint/"
}
if ! iam "Action=CreateUser&UserName=bench" >/dev/null \
    || ! iam "Action=PutUserPolicy&UserName=bench&PolicyName=all&PolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D" >/dev/null; then
    echo "s3.sh: moto_server did not take the IAM set-up: $(tail -5 "$data/moto.log")" >&2
    na_rows
    exit 1
fi
keys=$(iam "Action=CreateAccessKey&UserName=bench")
key=$(sed -n 's:.*<AccessKeyId>\([^<]*\)</AccessKeyId>.*:\1:p' <<<"$keys")
secret=$(sed -n 's:.*<SecretAccessKey>\([^<]*\)</SecretAccessKey>.*:\1:p' <<<"$keys")
curl -sf -X POST -H 'Content-Type: text/plain' --data 0 "$endpoint/moto-api/reset-auth" >/dev/null
# curl 7.88 signs for S3 only with the payload hash header given (moto requires it, as AWS does).
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$key:$secret" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
bucket=bench
if ! curl -sf -o /dev/null "${sig[@]}" -X PUT "$endpoint/$bucket"; then
    echo "s3.sh: could not create the bucket with signature checking on" >&2
    na_rows
    exit 1
fi
# The keys under a prefix (ListObjectsV2; curl 7.88 signs a query as written, so the parameters
# are given in AWS's canonical order and the prefix has no character that needs encoding).
keys_under() {   # PREFIX
    curl -sf "${sig[@]}" "$endpoint/$bucket?list-type=2&max-keys=1000&prefix=$1" \
        | grep -o '<Key>[^<]*</Key>' | sed 's:</\{0,1\}Key>::g'
}
# Deletes every object under a prefix, in one curl invocation.
empty_prefix() {   # PREFIX
    local k
    {
        echo 'silent'
        echo 'request = "DELETE"'
        echo 'output = "/dev/null"'
        echo "aws-sigv4 = \"aws:amz:us-east-1:s3\""
        echo "user = \"$key:$secret\""
        echo 'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"'
        while read -r k; do
            [[ -n "$k" ]] && echo "url = \"$endpoint/$bucket/$k\""
        done < <(keys_under "$1")
    } >"$data/delete.conf"
    grep -q '^url' "$data/delete.conf" && curl -K "$data/delete.conf"
    return 0
}

# --- quire's side ----------------------------------------------------------------------------------
export QUIRE_PASSWORD_BENCH=$secret
settings="$data/settings.json"
catalog="$data/catalog.sqlite"
q=("$QUIRE" --config "$settings" --catalog "$catalog")
if ! "${q[@]}" remote add bench --kind s3 --url "$endpoint" --bucket "$bucket" --user "$key" >/dev/null 2>"$data/remote.err"; then
    echo "s3.sh: 'quire remote add' failed: $(head -c 300 "$data/remote.err")" >&2
    na_rows
    exit 1
fi
prepare_push() {   # COLLECTION SOURCE
    rm -f "$catalog" "$catalog-wal" "$catalog-shm"
    "${q[@]}" collections create "$1" >/dev/null
    "${q[@]}" add --collection "$1" "$2" >/dev/null
    sqlite3 "$catalog" "UPDATE collections SET remote = 'bench' WHERE name = '$1'"
}
note_row() { printf "%-26s %s\n" "  $1" "$2"; }

# --- 1. one 1 GiB file ----------------------------------------------------------------------------
bench_random_file "$data/src/big.bin" 1024
bench_warm "$data/src/big.bin"
curl_big=(curl -sf -o /dev/null "${sig[@]}" -T "$data/src/big.bin" "$endpoint/$bucket/curl-big.bin")
quire_big=("${q[@]}" push big)
read -r rt qt < <(bench_pair curl_big quire_big "empty_prefix big; prepare_push big '$data/src/big.bin'" "empty_prefix curl-big")
if [[ "$qt" != n/a ]] && ! curl -sf "${sig[@]}" "$endpoint/$bucket/big/big.bin" | cmp -s - "$data/src/big.bin"; then
    echo "s3.sh: the uploaded 1 GiB object differs from the source" >&2
    qt=n/a
fi
bench_row "S3 upload 1 GiB" "curl --aws-sigv4 -T" "$rt" "$qt" $((1024 * 1024 * 1024))
# The same file as one PUT (multipart off: resumeThresholdMiB above its size): what the transport
# does on its own, where the server's assembly of parts (CompleteMultipartUpload) does not count.
q_single=("$QUIRE" --config "$data/single.json" --catalog "$catalog")
cp "$settings" "$data/single.json"
"${q_single[@]}" --version >/dev/null
sed -i 's/^{/{\n    "settings\/uploads\/resumeThresholdMiB": 2048,/' "$data/single.json"
quire_single=("${q_single[@]}" push big)
read -r rt1 qt1 < <(bench_pair curl_big quire_single "empty_prefix big; prepare_push big '$data/src/big.bin'" "empty_prefix curl-big")
bench_row "  as one PUT" "curl --aws-sigv4 -T" "$rt1" "$qt1" $((1024 * 1024 * 1024))
empty_prefix big
prepare_push big "$data/src/big.bin"
if /usr/bin/time -v "${quire_big[@]}" >/dev/null 2>"$data/time.txt"; then
    rss_kib=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$data/time.txt")
    awk -v k="$rss_kib" 'BEGIN { printf "%-26s %-28s %9s %9s %7s %11s\n", "  quire peak RSS", "(target < 100 MiB)", "", "", "", sprintf("%.1f MiB", k / 1024) }'
else
    echo "s3.sh: the measured push failed: $(tail -3 "$data/time.txt")" >&2
fi
empty_prefix big
empty_prefix curl-big
rm -f "$data/src/big.bin"

# --- 2. 1,000 files of 64 KiB ---------------------------------------------------------------------
mkdir -p "$data/src/small"
head -c $((1000 * 65536)) /dev/urandom | (cd "$data/src/small" && split -b 65536 -a 4 -d - s)
bench_warm "$data/src/small"
{
    echo "silent"
    echo "fail"
    echo "output = \"/dev/null\""
    echo "aws-sigv4 = \"aws:amz:us-east-1:s3\""
    echo "user = \"$key:$secret\""
    echo "header = \"x-amz-content-sha256: UNSIGNED-PAYLOAD\""
    for f in "$data"/src/small/s*; do
        echo "upload-file = \"$f\""
        echo "url = \"$endpoint/$bucket/curl-small/$(basename "$f")\""
    done
} >"$data/curl-small.conf"
curl_small=(curl -K "$data/curl-small.conf")
quire_small=("${q[@]}" push small)
read -r rt qt < <(bench_pair curl_small quire_small "empty_prefix small; prepare_push small '$data/src/small'" "empty_prefix curl-small")
stored=$(keys_under small | wc -l)
if [[ "$qt" != n/a && "$stored" -ne 1000 ]]; then
    echo "s3.sh: quire's push left $stored of 1,000 objects" >&2
    qt=n/a
fi
bench_row "S3 1,000 x 64 KiB" "curl -K (one connection)" "$rt" "$qt" $((1000 * 65536))
note_row "server" "moto_server $(python3 -c 'import moto; print(moto.__version__)' 2>/dev/null) on 127.0.0.1, signature checking on"
