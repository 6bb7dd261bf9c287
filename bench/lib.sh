# Shared helpers for the benchmark case files (bench/*.sh). Sourced, not run.
#
# A case file is a bash script that sources this file, makes its data under "$BENCH_TMP",
# times a reference command and the quire command with bench_pair (or single commands with
# bench_time) and prints one table row per case with bench_row.
# bench/run sets up the environment below, prints the table header and runs the case files.
#
#   QUIRE        the quire binary to measure (a release build)
#   BENCH_TMP    a scratch folder, removed by bench/run when it exits
#   BENCH_RUNS   timed runs per command (the best one counts); default 5
#
# Times are wall-clock seconds of the best of BENCH_RUNS runs after one untimed warm-up run:
# the best run is the one least disturbed by whatever else the machine is doing.

: "${BENCH_RUNS:=5}"

bench_have() { command -v "$1" >/dev/null 2>&1; }

# ms_to_s MS: milliseconds as seconds for a table row ("n/a" when empty).
ms_to_s() { [[ -n "$1" ]] && awk -v v="$1" 'BEGIN { printf "%.4f\n", v / 1000 }' || echo "n/a"; }

# json_num FILE KEY: a top-level number from a `quire gui --stats-json` file (no jq needed).
json_num() {
    sed -n "s/^    \"$2\": *\(-\{0,1\}[0-9.eE+-]*\),\{0,1\}$/\1/p" "$1" | head -n 1
}

# Prints the current time in seconds with nanoseconds.
bench_now() { date +%s.%N; }

# bench_time [--prepare 'shell code'] -- command [args...]
# Runs the command once to warm up, then BENCH_RUNS times, and prints the best wall time in
# seconds (e.g. 0.6823). The prepare code (e.g. removing a catalog) runs before every run and
# is not timed. Output of the command is discarded. Fails (status 1, prints "n/a") if the
# command fails.
bench_time() {
    local prepare=":"
    if [[ "$1" == "--prepare" ]]; then
        prepare=$2
        shift 2
    fi
    [[ "$1" == "--" ]] && shift

    local best="" i start end
    for ((i = 0; i <= BENCH_RUNS; i++)); do
        eval "$prepare"
        start=$(bench_now)
        if ! bench_run_quiet "$@"; then
            echo "n/a"
            return 1
        fi
        end=$(bench_now)
        ((i == 0)) && continue   # warm-up
        best=$(bench_min "$best" "$start" "$end")
    done
    echo "$best"
}

# bench_pair REF_ARRAY QUIRE_ARRAY [QUIRE_PREPARE [REF_PREPARE]]
# Times two commands given as the names of bash arrays, and prints "REF_SECONDS QUIRE_SECONDS"
# (best runs; "n/a" for a command that fails). The runs alternate (ref, quire, ref, quire...),
# so a burst of load elsewhere on the machine hits both alike. QUIRE_PREPARE and REF_PREPARE
# are shell code run, untimed, before each quire and each reference run: both sides
# must start from the same state (a server that already holds a file overwrites it for less work
# than it takes to create it).
bench_pair() {
    local -n _bench_ref=$1
    local -n _bench_quire=$2
    local prepare=${3:-:}
    local ref_prepare=${4:-:}

    local rbest="" qbest="" rfail=0 qfail=0 i
    for ((i = 0; i <= BENCH_RUNS; i++)); do   # run 0 warms up
        bench_pair_run "$i" "$ref_prepare" rbest rfail "${_bench_ref[@]}"
        bench_pair_run "$i" "$prepare" qbest qfail "${_bench_quire[@]}"
    done
    ((rfail)) && rbest="n/a"
    ((qfail)) && qbest="n/a"
    echo "$rbest $qbest"
}

# bench_pair_run RUN PREPARE BEST_VAR FAILED_VAR COMMAND...
# One of bench_pair's runs of one side, skipped once that side failed: PREPARE untimed, then the
# command timed. The time counts towards BEST_VAR from run 1 on; a failure sets FAILED_VAR to 1.
bench_pair_run() {
    local run=$1 prepare=$2
    local -n _bench_best=$3 _bench_failed=$4
    shift 4
    ((_bench_failed)) && return 0
    local start end
    eval "$prepare"
    start=$(bench_now)
    bench_run_quiet "$@" || _bench_failed=1
    end=$(bench_now)
    ((run > 0)) && _bench_best=$(bench_min "$_bench_best" "$start" "$end")
    return 0
}

# Runs a command with its output discarded; if it fails, says so on stderr with the first lines
# of its error output, so an "n/a" in the table can be explained.
bench_run_quiet() {
    local status=0
    "$@" >/dev/null 2>"$BENCH_TMP/.stderr" || status=$?
    if ((status != 0)); then
        echo "bench: '$*' failed (status $status): $(head -c 300 "$BENCH_TMP/.stderr" | tr '\n' ' ')" >&2
    fi
    return $status
}

# bench_min BEST START END: the smaller of BEST (may be empty) and END - START.
bench_min() {
    awk -v b="$1" -v s="$2" -v e="$3" 'BEGIN { t = e - s; if (b == "" || t < b) b = t; printf "%.4f\n", b }'
}

# Reads every file under the given paths once so that timings start with a warm page cache.
bench_warm() {
    find "$@" -type f -print0 | xargs -0 cat >/dev/null
}

# bench_row CASE REFERENCE REF_SECONDS QUIRE_SECONDS [BYTES]
# Prints one table row. ratio = reference time / quire time, i.e. quire's throughput relative to
# the reference: 1.00 is as fast, >= 0.9 is the goal, above 1 is faster. With BYTES, quire's
# throughput in MB/s is shown too. Either time may be "n/a".
bench_row() {
    local name=$1 ref=$2 reft=$3 quiret=$4 bytes=${5:-}
    awk -v n="$name" -v r="$ref" -v rt="$reft" -v qt="$quiret" -v b="$bytes" 'BEGIN {
        ratio = "n/a"; mbs = "";
        if (rt ~ /^[0-9.]+$/ && qt ~ /^[0-9.]+$/ && qt > 0) ratio = sprintf("%.2f", rt / qt);
        if (b != "" && qt ~ /^[0-9.]+$/ && qt > 0) mbs = sprintf("%.0f", b / qt / 1e6);
        printf "%-26s %-28s %9s %9s %7s %11s\n", n, r, rt, qt, ratio, mbs;
    }'
}

bench_header() {
    printf "%-26s %-28s %9s %9s %7s %11s\n" "case" "reference" "ref s" "quire s" "ratio" "quire MB/s"
    printf "%-26s %-28s %9s %9s %7s %11s\n" "----" "---------" "-----" "-------" "-----" "----------"
}

# bench_small_files DIR: makes DIR with 10,000 files of 4 KiB of random bytes, read once (warm).
bench_small_files() {
    mkdir -p "$1"
    head -c $((10000 * 4096)) /dev/urandom | (cd "$1" && split -b 4096 -a 5 -d - s)
    bench_warm "$1"
}

# bench_standalone NAME: lets the case file NAME run on its own as well as through bench/run.
# Through bench/run (BENCH_TMP set) it sets standalone=0. On its own it sets standalone=1, builds
# the release preset unless QUIRE names a binary, and makes the scratch folder BENCH_TMP (the
# case file removes it at exit).
bench_standalone() {
    standalone=0
    [[ -n "${BENCH_TMP:-}" ]] && return 0
    standalone=1
    if [[ -z "${QUIRE:-}" ]]; then
        local top
        top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
        (cd "$top" && { [[ -f build/release/CMakeCache.txt ]] || cmake --preset release >/dev/null; } \
            && cmake --build --preset release --target quire >/dev/null) || { echo "$1: release build failed" >&2; exit 1; }
        QUIRE=$top/build/release/bin/quire
    fi
    BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/quire-bench.XXXXXX")
    export BENCH_TMP QUIRE
}

# Makes a file of random bytes: bench_random_file PATH SIZE_MIB
bench_random_file() {
    head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"
}
