#!/usr/bin/env bash
# Catalog backends (run through bench/run, which sets QUIRE and BENCH_TMP):
#   10,000 files of 4 KiB: quire add into a fresh PostgreSQL catalog (a throwaway server started
#   here on a loopback port, stopped at exit)  vs  the same into a fresh SQLite catalog.
# The ratio is SQLite's time / PostgreSQL's: the target is at least 0.33 (a server backend at most
# 3x SQLite's time on loopback). Skipped (n/a) without PostgreSQL's initdb.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

data="$BENCH_TMP/catalog"
mkdir -p "$data/src"
row() { bench_row "add 10,000 x 4 KiB (PG)" "quire add, SQLite catalog" "$@"; }

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    echo "catalog.sh: PostgreSQL's initdb is needed (scripts/install-deps --test)" >&2
    row "n/a" "n/a"
    exit 1
fi

# The server runs as the postgres user when this runs as root (initdb refuses root).
as_server=()
pg="$data/pg"
mkdir -p "$pg"
if [[ $(id -u) -eq 0 ]]; then
    as_server=(runuser -u postgres --)
    chown postgres "$pg"
    chmod 755 "$BENCH_TMP" "$data"
    # Some container images keep /dev/null from the postgres user, which initdb needs: then the
    # server runs in a user namespace that maps root to the postgres uid (as tests/support/pgserver).
    if ! "${as_server[@]}" sh -c ': > /dev/null' 2>/dev/null; then
        as_server=(unshare --user "--map-user=$(id -u postgres)" "--map-group=$(id -g postgres)" --)
        chown root "$pg"   # outside the namespace the server is still root, the folder's owner
    fi
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
       || echo $((20000 + RANDOM % 20000)))
stop_pg() { "${as_server[@]}" "$bin/pg_ctl" -D "$pg/data" -m immediate -w stop >/dev/null 2>&1; }
trap stop_pg EXIT
if ! "${as_server[@]}" "$bin/initdb" -D "$pg/data" -U postgres -A trust -E UTF8 --locale=C -N >"$data/initdb.log" 2>&1 \
   || ! "${as_server[@]}" "$bin/pg_ctl" -D "$pg/data" -l "$pg/log" -w -o "-p $port -k $pg -c listen_addresses=127.0.0.1" \
        start >"$data/pg_ctl.log" 2>&1; then
    echo "catalog.sh: the PostgreSQL server did not start: $(cat "$data/initdb.log" "$data/pg_ctl.log" "$pg/log" 2>/dev/null | tail -n 3 | tr '\n' ' ')" >&2
    row "n/a" "n/a"
    exit 1
fi
psql_do() { PGOPTIONS="-c client_min_messages=warning" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -c "$1" >/dev/null; }

head -c $((10000 * 4096)) /dev/urandom | (cd "$data/src" && split -b 4096 -a 5 -d - s)
bench_warm "$data/src"
settings="$data/settings.json"
sqlite="$data/cat.sqlite"
url="postgresql://postgres@127.0.0.1:$port/bench"
fresh_sqlite="rm -f '$sqlite' '$sqlite-wal' '$sqlite-shm' '$settings'"
fresh_pg="rm -f '$settings'; psql_do 'DROP DATABASE IF EXISTS bench' && psql_do 'CREATE DATABASE bench'"
add_sqlite=("$QUIRE" --catalog "$sqlite" --config "$settings" add --collection bench "$data/src")
add_pg=("$QUIRE" --catalog "$url" --config "$settings" add --collection bench "$data/src")

eval "$fresh_pg"
if ! "${add_pg[@]}" >/dev/null 2>"$data/add.err" \
   || [[ $("$QUIRE" --catalog "$url" --config "$settings" ls bench | grep -c '^hashed') -ne 10000 ]]; then
    echo "catalog.sh: quire add into PostgreSQL failed: $(head -c 300 "$data/add.err" | tr '\n' ' ')" >&2
    add_pg=(false)
fi
read -r rt qt < <(bench_pair add_sqlite add_pg "$fresh_pg" "$fresh_sqlite")
row "$rt" "$qt" $((10000 * 4096))
