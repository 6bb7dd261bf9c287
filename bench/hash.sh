#!/usr/bin/env bash
# Hashing benchmarks (run through bench/run, which sets QUIRE and BENCH_TMP):
#   1. one 1 GiB file:        quire hash        vs  openssl dgst -sha256
#   2. 64 files of 16 MiB:    quire hash        vs  sha256sum
#   3. 10,000 files of 4 KiB: quire add (into a fresh SQLite catalog)
#                                               vs  find | xargs -0 sha256sum
# Each prints one row; a command that fails or does not exist yet shows n/a.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

data="$BENCH_TMP/hash"
mkdir -p "$data"

# 1. One big file: single-stream throughput of the hashing loop against OpenSSL's own tool.
bench_random_file "$data/big" 1024
bench_warm "$data/big"
ref=$(openssl dgst -sha256 -r "$data/big" | cut -c1-64)
got=$("$QUIRE" hash "$data/big" 2>/dev/null | cut -c1-64)
if [[ "$ref" != "$got" ]]; then
    echo "hash.sh: quire hash and openssl disagree on the 1 GiB file ($got vs $ref)" >&2
    quire_cmd=(false)
else
    quire_cmd=("$QUIRE" hash "$data/big")
fi
ref_cmd=(openssl dgst -sha256 "$data/big")
read -r rt qt < <(bench_pair ref_cmd quire_cmd)
bench_row "hash 1 GiB file" "openssl dgst -sha256" "$rt" "$qt" $((1024 * 1024 * 1024))
rm -f "$data/big"

# 2. Many medium files: quire hashes them in parallel on the CPU pool.
mkdir -p "$data/medium"
for i in $(seq -w 1 64); do
    bench_random_file "$data/medium/f$i" 16
done
bench_warm "$data/medium"
cd "$data/medium"
if ! cmp -s <(sha256sum f*) <("$QUIRE" hash f* 2>/dev/null); then
    echo "hash.sh: quire hash and sha256sum print different output for the 64 files" >&2
    quire_cmd=(false)
else
    quire_cmd=("$QUIRE" hash f*)
fi
ref_cmd=(sha256sum f*)
read -r rt qt < <(bench_pair ref_cmd quire_cmd)
cd - >/dev/null
bench_row "hash 64 x 16 MiB" "sha256sum" "$rt" "$qt" $((64 * 16 * 1024 * 1024))
rm -rf "$data/medium"

# 3. Many small files through the whole ingest pipeline (walk, hash, catalog writes).
bench_small_files "$data/small"
catalog="$data/cat.sqlite"
settings="$data/settings.json"
fresh="rm -f '$catalog' '$catalog-wal' '$catalog-shm' '$settings'"
add=("$QUIRE" --catalog "$catalog" --config "$settings" add --collection bench "$data/small")
eval "$fresh"
if ! "${add[@]}" >/dev/null 2>"$data/add.err"; then
    echo "hash.sh: quire add is not available yet ($(head -c 200 "$data/add.err" | tr '\n' ' '))" >&2
    add=(false)
fi
ref_cmd=(bash -c 'find "$1" -type f -print0 | xargs -0 sha256sum >/dev/null' _ "$data/small")
read -r rt qt < <(bench_pair ref_cmd add "$fresh")
bench_row "add 10,000 x 4 KiB" "find | xargs -0 sha256sum" "$rt" "$qt" $((10000 * 4096))
rm -rf "$data/small" "$catalog" "$catalog-wal" "$catalog-shm" "$settings"
