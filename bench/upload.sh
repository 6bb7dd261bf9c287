#!/usr/bin/env bash
# Upload benchmarks against a local Apache mod_dav server (started here from
# tests/apache/dav.conf.in on a free loopback port, Basic auth, stopped at exit), over http and
# over https (mod_ssl + mod_http2, a certificate from a throwaway CA made here with openssl;
# Quire trusts it through --ca-file, curl through --cacert):
#   1. one 1 GiB file:         quire push  vs  curl -T           (+ quire's peak RSS during it)
#   2. 1,000 files of 64 KiB:  quire push  vs  one curl invocation uploading all of them
#                                             (a config file with 1,000 upload-file/url pairs:
#                                             curl -T a URL_a -T b URL_b ..., one connection)
#   3. (https) the window while it adds and uploads the same 1,000 files: `quire gui
#      --quit-when-idle --stats-json` under xvfb-run (after one unmeasured empty window), the UI
#      thread's worst and 99th-percentile lateness (target: max <= 16 ms, one frame). Skipped
#      without xvfb-run.
# BENCH_SCHEMES (default "http https") picks the schemes.
# Times are the push alone: the catalog is made fresh and the files are added (hashed) before
# each quire run, untimed; the server's copies are removed before each run.
#
# Through bench/run (bench/run upload), which sets QUIRE, BENCH_TMP and BENCH_RUNS, or
# standalone: bench/upload.sh (builds the release preset when QUIRE is not set).
# Needs apache2 (with mod_dav), curl, sqlite3 and GNU time (/usr/bin/time); as root, Apache's
# children run as www-data. The server's files go to /dev/shm when it has room (so the disk does
# not dominate), else to the scratch folder.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$here/lib.sh"

bench_standalone upload.sh

for tool in /usr/sbin/apache2 curl /usr/bin/time sqlite3; do
    if [[ ! -x "$tool" ]] && ! command -v "$tool" >/dev/null; then
        echo "upload.sh: '$tool' is needed (scripts/install-deps --test)" >&2
        bench_row "upload 1 GiB (WebDAV)" "curl -T" "n/a" "n/a"
        bench_row "upload 1,000 x 64 KiB" "curl -K (one connection)" "n/a" "n/a"
        exit 1
    fi
done

data="$BENCH_TMP/upload"
server="$data/server"
# The server writes into memory (/dev/shm) when it has room for the 1 GiB file twice: the disk
# would otherwise dominate both timings (and vary with whatever else writes to it).
docs="$data/docs"
shm_dir=""
if [[ -d /dev/shm && -w /dev/shm ]] && (( $(df -Pk /dev/shm | awk 'NR == 2 { print $4 }') > 3 * 1024 * 1024 )); then
    shm_dir=$(mktemp -d /dev/shm/quire-bench.XXXXXX)
    docs="$shm_dir/docs"
fi
mkdir -p "$server/davlock" "$docs" "$data/src"
chmod 755 "$BENCH_TMP" "$data" "$server" "$docs" "$server/davlock" ${shm_dir:+"$shm_dir"}

apache_pid=""
stop_apache() {
    if [[ -n "$apache_pid" ]] && kill -0 "$apache_pid" 2>/dev/null; then
        kill -TERM "$apache_pid"
        wait "$apache_pid" 2>/dev/null
    fi
    apache_pid=""
}
cleanup() {
    stop_apache
    if [[ -n "$shm_dir" ]]; then rm -rf "$shm_dir"; fi
    if ((standalone)); then rm -rf "$BENCH_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the server ----------------------------------------------------------------------------------
user=bench
password='bench-pass'
printf '%s:{SHA}%s\n' "$user" "$(printf '%s' "$password" | openssl dgst -sha1 -binary | base64)" >"$server/htpasswd"
user_line="" group_line=""
if [[ $(id -u) -eq 0 ]]; then
    user_line="User www-data"
    group_line="Group www-data"
    chown www-data:www-data "$docs" "$server/davlock"
fi

# A throwaway CA and a server certificate for 127.0.0.1, for the https cases.
make_certificates() {
    local d="$server/tls"
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Quire bench CA" \
        -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1 || return 1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 || return 1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$d/ext.cnf"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
        -extfile "$d/ext.cnf" -out "$d/server.crt" >/dev/null 2>&1 || return 1
    chmod 644 "$d/server.key"
}

start_apache() {   # SCHEME
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
           || echo $((20000 + RANDOM % 20000)))
    sed -e "s#@SERVER_ROOT@#$server#g; s#@DOC_ROOT@#$docs#g; s#@PORT@#$port#g; s#@HOST@#127.0.0.1#g" \
        -e "s#@MODULES@#/usr/lib/apache2/modules#g; s#@USER_LINE@#$user_line#; s#@GROUP_LINE@#$group_line#" \
        -e "/^@[A-Z_]*@$/d" \
        "$root/tests/apache/dav.conf.in" >"$server/dav.conf"
    curl_tls=()
    local defines=()
    if [[ "$1" == https ]]; then
        # The template's https (mod_ssl, tls/server.crt) and HTTP/2 (mod_http2) parts.
        defines=(-DQUIRE_TLS -DQUIRE_HTTP2)
        curl_tls=(--cacert "$server/tls/ca.pem")
    fi
    : >"$server/access.log"
    /usr/sbin/apache2 -f "$server/dav.conf" -d "$server" "${defines[@]}" -DFOREGROUND >"$server/stdout.log" 2>&1 &
    apache_pid=$!
    base="$1://127.0.0.1:$port"
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "${curl_tls[@]}" -u "$user:$password" "$base/" && break
        sleep 0.1
    done
    if ! curl -sf -o /dev/null "${curl_tls[@]}" -u "$user:$password" -X PROPFIND -H 'Depth: 0' "$base/"; then
        echo "upload.sh: Apache did not start: $(cat "$server/error.log" "$server/stdout.log" 2>/dev/null | tail -5)" >&2
        return 1
    fi
}

# The requests Apache logged (tests/apache/dav.conf.in's access log) from line $1 on, by method:
# "PUT 1002, MKCOL 1, ...". Printed under a case as what quire sent for it.
log_lines() { wc -l <"$server/access.log" 2>/dev/null || echo 0; }
requests_since() {
    tail -n +"$(($1 + 1))" "$server/access.log" 2>/dev/null \
        | awk -F'\t' '{ n[$2]++ } END { for (m in n) { printf "%s%s %d", sep, m, n[m]; sep = ", " } }'
}
note_row() {   # LABEL TEXT
    printf "%-26s %s\n" "  $1" "$2"
}

# --- quire's side: settings, catalog and a remote profile (the password from the environment) ----
export QUIRE_PASSWORD_BENCH=$password
settings="$data/settings.json"
catalog="$data/catalog.sqlite"
q=("$QUIRE" --config "$settings" --catalog "$catalog")

# A fresh catalog with one collection holding SOURCE, hashed and ready to push; the server's
# copy of the collection removed. Untimed. (`quire add` uploads at once when the collection has
# a remote, so the collection gets its remote only after the files are added.)
prepare_push() {   # COLLECTION SOURCE
    rm -f "$catalog" "$catalog-wal" "$catalog-shm"
    rm -rf "${docs:?}/$1"
    "${q[@]}" collections create "$1" >/dev/null
    "${q[@]}" add --collection "$1" "$2" >/dev/null
    sqlite3 "$catalog" "UPDATE collections SET remote = 'bench' WHERE name = '$1'"
}

run_cases() {   # SCHEME
    local scheme=$1
    if ! start_apache "$scheme"; then
        bench_row "upload 1 GiB ($scheme)" "curl -T" "n/a" "n/a"
        bench_row "1,000 x 64 KiB ($scheme)" "curl -K (one connection)" "n/a" "n/a"
        return 1
    fi
    rm -f "$settings"
    local ca=()
    [[ "$scheme" == https ]] && ca=(--ca-file "$server/tls/ca.pem")
    if ! "${q[@]}" remote add bench --kind webdav --url "$base/" --user "$user" "${ca[@]}" >/dev/null 2>"$data/remote.err"; then
        echo "upload.sh: 'quire remote add' failed: $(head -c 300 "$data/remote.err")" >&2
        stop_apache
        return 1
    fi
    # --- 1. one 1 GiB file ----------------------------------------------------------------------------
    bench_random_file "$data/src/big.bin" 1024
    bench_warm "$data/src/big.bin"
    curl_big=(curl -sf -o /dev/null "${curl_tls[@]}" -u "$user:$password" -T "$data/src/big.bin" "$base/curl-big.bin")
    quire_big=("${q[@]}" push big)
    read -r rt qt < <(bench_pair curl_big quire_big "prepare_push big '$data/src/big.bin'" "rm -f '$docs/curl-big.bin'")
    if [[ "$qt" != n/a ]] && ! cmp -s "$data/src/big.bin" "$docs/big/big.bin"; then
        echo "upload.sh: the uploaded 1 GiB file differs from the source" >&2
        qt=n/a
    fi
    bench_row "upload 1 GiB ($scheme)" "curl -T" "$rt" "$qt" $((1024 * 1024 * 1024))

    # Peak memory of one push of the 1 GiB file, and the requests it made.
    prepare_push big "$data/src/big.bin"
    mark=$(log_lines)
    if /usr/bin/time -v "${quire_big[@]}" >/dev/null 2>"$data/time.txt"; then
        rss_kib=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$data/time.txt")
        awk -v k="$rss_kib" 'BEGIN { printf "%-26s %-28s %9s %9s %7s %11s\n", "  quire peak RSS", "(target < 100 MiB)", "", "", "", sprintf("%.1f MiB", k / 1024) }'
        note_row "quire requests" "$(requests_since "$mark")"
    else
        echo "upload.sh: the measured push failed: $(tail -3 "$data/time.txt")" >&2
    fi
    rm -f "$data/src/big.bin" "$docs/curl-big.bin"
    rm -rf "${docs:?}/big"

    # --- 2. 1,000 files of 64 KiB ------------------------------------------------------------------
    rm -rf "$data/src/small" "${docs:?}/curl-small"
    mkdir -p "$data/src/small"
    head -c $((1000 * 65536)) /dev/urandom | (cd "$data/src/small" && split -b 65536 -a 4 -d - s)
    bench_warm "$data/src/small"
    # Before each curl run, like before each quire run, the server's copies are removed: creating
    # 1,000 files costs Apache about half as much CPU again as overwriting them (measured here:
    # 0.53 against 0.37 s), so a reference that overwrites the previous run's files has less
    # work to do.
    fresh_curl_small() {
        rm -rf "${docs:?}/curl-small"
        curl -sf -o /dev/null "${curl_tls[@]}" -u "$user:$password" -X MKCOL "$base/curl-small/"
    }
    {
        echo "user = \"$user:$password\""
        echo "silent"
        echo "fail"
        [[ -n "${curl_tls[*]}" ]] && echo "cacert = \"$server/tls/ca.pem\""
        for f in "$data"/src/small/s*; do
            echo "upload-file = \"$f\""
            echo "url = \"$base/curl-small/$(basename "$f")\""
            echo "output = \"/dev/null\""
        done
    } >"$data/curl-small.conf"
    curl_small=(curl -K "$data/curl-small.conf")
    quire_small=("${q[@]}" push small)
    read -r rt qt < <(bench_pair curl_small quire_small "prepare_push small '$data/src/small'" fresh_curl_small)
    if [[ "$qt" != n/a ]] && [[ $(find "$docs/small" -type f | wc -l) -ne 1000 ]]; then
        echo "upload.sh: quire did not upload the 1,000 files" >&2
        qt=n/a
    fi
    bench_row "1,000 x 64 KiB ($scheme)" "curl -K (one connection)" "$rt" "$qt" $((1000 * 65536))
    # What the server allows: curl sending the same files 8 at a time (-Z), against the same
    # sequential curl run. A row of its own, for reading the one above: quire cannot be faster
    # than the server can take the files.
    local zt
    zt=$(bench_time --prepare fresh_curl_small -- curl -Z --parallel-max 8 -K "$data/curl-small.conf")
    bench_row "  server ceiling" "curl -Z (8 at once) vs -K" "$rt" "$zt"
    # What one push of the 1,000 files asks of the server (untimed), and the processor time it
    # costs on both sides: with client and server on the same cores, no run can be shorter than
    # their sum divided by the cores (the CPU floor), however many connections it uses.
    prepare_push small "$data/src/small"
    mark=$(log_lines)
    local before
    before=$(server_cpu_seconds)
    if /usr/bin/time -f "%U %S" -o "$data/cpu.txt" "${quire_small[@]}" >/dev/null 2>&1; then
        note_row "quire requests" "$(requests_since "$mark")"
        cpu_row "quire" "$(awk '{ print $1 + $2 }' "$data/cpu.txt")" "$before" "$(server_cpu_seconds)"
    fi
    fresh_curl_small
    before=$(server_cpu_seconds)
    if /usr/bin/time -f "%U %S" -o "$data/cpu.txt" "${curl_small[@]}" >/dev/null 2>&1; then
        cpu_row "curl -K" "$(awk '{ print $1 + $2 }' "$data/cpu.txt")" "$before" "$(server_cpu_seconds)"
    fi
    if [[ "$scheme" == https ]]; then
        window_during_push "$data/src/small"
    fi
    rm -rf "$data/src/small" "${docs:?}/small" "${docs:?}/curl-small"
    stop_apache
}

# Processor time (user + system, seconds) used so far by the running Apache's processes and the
# children they have waited for.
server_cpu_seconds() {
    # /proc/PID/stat after the command name: state ppid ... utime(13) stime(14) cutime(15) cstime(16).
    cat /proc/[0-9]*/stat 2>/dev/null | sed 's/^\([0-9]*\) (.*) /\1 /' \
        | awk -v p="$apache_pid" -v hz="$(getconf CLK_TCK)" \
            '$1 == p || $3 == p { t += $13 + $14 + $15 + $16 } END { printf "%.2f\n", t / hz }'
}
cpu_row() {   # WHO CLIENT_SECONDS SERVER_BEFORE SERVER_AFTER
    local cores
    cores=$(nproc)
    note_row "CPU, $1" "$(awk -v c="$2" -v a="$3" -v b="$4" -v n="$cores" \
        'BEGIN { s = b - a; printf "%.2f s client + %.2f s Apache = %.2f s: floor %.2f s on %d cores", c, s, c + s, (c + s) / n, n }')"
}

# The window adding SOURCE to a collection of the remote and uploading it (case 3).
window_during_push() {   # SOURCE
    if ! bench_have xvfb-run; then
        echo "upload.sh: xvfb-run is not installed: the window case is skipped" >&2
        return 0
    fi
    rm -f "$catalog" "$catalog-wal" "$catalog-shm" "$data/ui.json"
    rm -rf "${docs:?}/small"
    "${q[@]}" collections create small >/dev/null
    sqlite3 "$catalog" "UPDATE collections SET remote = 'bench' WHERE name = 'small'"
    # One display server for both windows: an empty one first, unmeasured (a display server that
    # has just started sets itself up while its first client paints; see bench/ui.sh), then the
    # measured push.
    local warm="$data/ui-warmup"
    mkdir -p "$warm"
    if ! QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" bash -c '
            "$1" --catalog "$2/c.sqlite" --config "$2/s.json" gui --quit-when-idle >/dev/null 2>&1
            shift 2
            exec "$@"' warmup "$QUIRE" "$warm" \
            "${q[@]}" gui --quit-when-idle --stats-json "$data/ui.json" --collection small "$1" \
            >"$data/ui.log" 2>&1; then
        echo "upload.sh: quire gui failed: $(head -c 400 "$data/ui.log" | tr '\n' ' ')" >&2
        return 1
    fi
    rm -rf "$warm"
    local uploaded
    uploaded=$(find "$docs/small" -type f 2>/dev/null | wc -l)
    if [[ "$uploaded" -ne 1000 ]]; then
        echo "upload.sh: the window uploaded $uploaded of the 1,000 files" >&2
        return 1
    fi
    local max p99
    max=$(json_num "$data/ui.json" max_lateness_ms)
    p99=$(json_num "$data/ui.json" p99_lateness_ms)
    echo "upload.sh: window during the push: max ${max} ms, p99 ${p99} ms," \
         "$(json_num "$data/ui.json" elapsed_ms) ms in all; load average $(json_num "$data/ui.json" load_average)" >&2
    bench_row "window push: UI max late" "target <= 16 ms" 0.0160 "$(ms_to_s "$max")"
    bench_row "window push: UI p99 late" "target <= 16 ms" 0.0160 "$(ms_to_s "$p99")"
}

status=0
for scheme in ${BENCH_SCHEMES:-http https}; do
    if [[ "$scheme" == https ]] && [[ ! -f "$server/tls/server.crt" ]] && ! make_certificates; then
        echo "upload.sh: openssl could not make the test certificates" >&2
        status=1
        continue
    fi
    run_cases "$scheme" || status=1
done
exit $status
