#!/usr/bin/env bash
# Catalog backends (run through bench/run, which sets QUIRE and BENCH_TMP):
#   10,000 files of 4 KiB: quire add into a fresh PostgreSQL catalog, and into a fresh MariaDB
#   catalog (throwaway servers started here on loopback ports, stopped at exit)  vs  the same into
#   a fresh SQLite catalog, measured in the same run.
# The ratio is SQLite's time / the server's: the target is at least 0.33 (a server backend at
# most 3x SQLite's time on loopback). A row is n/a when its server is not installed.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

data="$BENCH_TMP/catalog"
bench_small_files "$data/src"
settings="$data/settings.json"
sqlite="$data/cat.sqlite"
fresh_sqlite="rm -f '$sqlite' '$sqlite-wal' '$sqlite-shm' '$settings'"
add_sqlite=("$QUIRE" --catalog "$sqlite" --config "$settings" add --collection bench "$data/src")
row() { bench_row "add 10,000 x 4 KiB (PG)" "quire add, SQLite catalog" "$@"; }
maria_row() { bench_row "add 10,000 x 4K (MariaDB)" "quire add, SQLite catalog" "$@"; }
status=0

# time_server SERVER ROW URL FRESH: quire add into the server catalog at URL vs into SQLite, printed
# with the function ROW. FRESH (shell code) empties the server's database before every run; a
# first, untimed add is checked (all 10,000 files hashed).
time_server() {
    local server=$1 row_fn=$2 url=$3 fresh=$4 rt qt
    local add_server=("$QUIRE" --catalog "$url" --config "$settings" add --collection bench "$data/src")
    eval "$fresh"
    if ! "${add_server[@]}" >/dev/null 2>"$data/add.err" \
       || [[ $("$QUIRE" --catalog "$url" --config "$settings" ls bench | grep -c '^hashed') -ne 10000 ]]; then
        echo "catalog.sh: quire add into $server failed: $(head -c 300 "$data/add.err" | tr '\n' ' ')" >&2
        add_server=(false)
    fi
    read -r rt qt < <(bench_pair add_sqlite add_server "$fresh" "$fresh_sqlite")
    "$row_fn" "$rt" "$qt" $((10000 * 4096))
}

stop_pg() { :; }
stop_maria() { :; }
trap 'stop_pg; stop_maria' EXIT

run_pg() {
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
        echo "catalog.sh: PostgreSQL's initdb is needed (scripts/install-deps --test)" >&2
        row "n/a" "n/a"
        status=1
        return
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
    if ! "${as_server[@]}" "$bin/initdb" -D "$pg/data" -U postgres -A trust -E UTF8 --locale=C -N >"$data/initdb.log" 2>&1 \
       || ! "${as_server[@]}" "$bin/pg_ctl" -D "$pg/data" -l "$pg/log" -w -o "-p $port -k $pg -c listen_addresses=127.0.0.1" \
            start >"$data/pg_ctl.log" 2>&1; then
        echo "catalog.sh: the PostgreSQL server did not start: $(cat "$data/initdb.log" "$data/pg_ctl.log" "$pg/log" 2>/dev/null | tail -n 3 | tr '\n' ' ')" >&2
        row "n/a" "n/a"
        status=1
        return
    fi
    psql_do() { PGOPTIONS="-c client_min_messages=warning" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -c "$1" >/dev/null; }

    time_server PostgreSQL row "postgresql://postgres@127.0.0.1:$port/bench" \
        "rm -f '$settings'; psql_do 'DROP DATABASE IF EXISTS bench' && psql_do 'CREATE DATABASE bench'"
}

# MariaDB: mariadb-install-db into a folder here, mariadbd on a loopback port (as root with
# --user=root, which mariadbd allows), a user "quire" from 127.0.0.1 without a password.
run_maria() {
    local mdb="$data/mariadb" mport
    if ! command -v mariadbd >/dev/null && [[ ! -x /usr/sbin/mariadbd ]]; then
        echo "catalog.sh: MariaDB is needed (scripts/install-deps --test)" >&2
        maria_row "n/a" "n/a"
        status=1
        return
    fi
    local as_root=()
    [[ $(id -u) -eq 0 ]] && as_root=(--user=root)
    mkdir -p "$mdb"
    mport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
            || echo $((20000 + RANDOM % 20000)))
    if ! mariadb-install-db --no-defaults --datadir="$mdb/data" --auth-root-authentication-method=normal --skip-test-db \
            "${as_root[@]}" >"$data/mariadb-install.log" 2>&1; then
        echo "catalog.sh: mariadb-install-db failed: $(tail -n 3 "$data/mariadb-install.log" | tr '\n' ' ')" >&2
        maria_row "n/a" "n/a"
        status=1
        return
    fi
    PATH="$PATH:/usr/sbin" mariadbd --no-defaults --datadir="$mdb/data" --socket="$mdb/sock" --port="$mport" \
        --bind-address=127.0.0.1 --pid-file="$mdb/pid" --skip-name-resolve --innodb-buffer-pool-size=128M \
        --innodb-use-native-aio=0 "${as_root[@]}" >"$mdb/log" 2>&1 &
    maria_pid=$!
    stop_maria() { kill "$maria_pid" 2>/dev/null && wait "$maria_pid" 2>/dev/null; }
    maria_sql() { mariadb --no-defaults --socket="$mdb/sock" --user=root -e "$1" >/dev/null 2>&1; }
    for _ in $(seq 1 300); do
        maria_sql "SELECT 1" && break
        sleep 0.1
    done
    if ! maria_sql "CREATE USER 'quire'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'quire'@'127.0.0.1'"; then
        echo "catalog.sh: the MariaDB server did not start: $(tail -n 3 "$mdb/log" | tr '\n' ' ')" >&2
        maria_row "n/a" "n/a"
        status=1
        return
    fi
    time_server MariaDB maria_row "mysql://quire@127.0.0.1:$mport/bench" \
        "rm -f '$settings'; maria_sql 'DROP DATABASE IF EXISTS bench' && maria_sql 'CREATE DATABASE bench CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'"
}

run_pg
run_maria
exit $status
