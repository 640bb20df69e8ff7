#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - build the benchmarks (Release) and run every one of them, then
# print the table (bench/report.awk).  Debian 12, as root: the benchmarks
# make private network namespaces, a TAP and a veth pair, which disappear
# with them.  Nothing is installed beyond tools/bootstrap.sh's packages.
#
#   bench/run.sh [--rounds N] [--count N] [--tap-count N] [--payload B]
#
#   --rounds N     rounds of the memdev/kernel benchmarks (default 7, at least 5)
#   --count N      datagrams per measurement (default 200000)
#   --tap-count N  datagrams per TAP/veth measurement (default 200000)
#   --payload B    UDP payload bytes (default 18, as PERF-NOTES)
#
# One round runs, one process each, bench-trace-co, bench-trace --mode off,
# bench-trace --mode on (with a quarter of --count) and bench-kernel,
# starting with a different one in every round so that none always runs
# first or last.  They all run on the
# machine's last CPU (--cpu): one CPU, so the numbers are the work done per
# datagram, not the luck of cross-CPU wake-ups.  bench-tap then runs --rounds
# repeats (unpinned: its receivers need a CPU of their own).
#
# Build directory: ${WSKSTACK_BUILD_ROOT:-./build}-bench (Release); the raw
# result lines are kept in results.txt there.  Exit status 0 if every
# benchmark ran and passed its own checks.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=${WSKSTACK_BUILD_ROOT:-$repo/build}
build=$root-bench
jobs=${WSKSTACK_JOBS:-2}
rounds=7
count=200000
tap_count=200000
payload=18

usage() {
    sed -n '9,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
}
number() { [[ $2 =~ ^[0-9]+$ ]] && (($2 >= $3)) || { echo "run.sh: $1: bad value '$2'" >&2; exit 2; }; }
while (($#)); do
    case $1 in
        --rounds) number "$1" "${2:-}" 5; rounds=$2; shift 2 ;;
        --count) number "$1" "${2:-}" 1000; count=$2; shift 2 ;;
        --tap-count) number "$1" "${2:-}" 1000; tap_count=$2; shift 2 ;;
        --payload) number "$1" "${2:-}" 1; payload=$2; shift 2 ;;
        *) usage ;;
    esac
done

if [[ $(id -u) -ne 0 ]]; then
    echo "run.sh: run as root (the benchmarks make network namespaces, a TAP and a veth pair)" >&2
    exit 1
fi

echo "==== packages" >&2
"$repo/tools/bootstrap.sh" --deps-only >&2 || exit 1

echo "==== build $build (Release)" >&2
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DWSKSTACK_SANITIZE= >&2 || exit 1
cmake --build "$build" -j"$jobs" --target bench-trace bench-trace-co bench-kernel bench-tap >&2 ||
    exit 1

bin=$build/bench
out=$build/results.txt
: >"$out"
cpu=$(($(nproc) - 1))
common=(--warmup $((count / 10)) --payload "$payload" --cpu "$cpu")
# Tracing on costs ten times more per datagram: a quarter of the count
# keeps the round short (the result is per datagram either way).
runs=("$bin/bench-trace-co --count $count" "$bin/bench-trace --mode off --count $count"
      "$bin/bench-trace --mode on --count $((count / 4))" "$bin/bench-kernel --count $count")
failed=0
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)

for ((r = 0; r < rounds; r++)); do
    echo "==== round $((r + 1))/$rounds" >&2
    for ((i = 0; i < ${#runs[@]}; i++)); do
        cmd=${runs[$(((r + i) % ${#runs[@]}))]}
        # $cmd is a program and its options: split on purpose.
        # shellcheck disable=SC2086
        if ! $cmd "${common[@]}" >>"$out"; then
            echo "run.sh: FAILED: $cmd" >&2
            failed=1
        fi
    done
done

echo "==== bench-tap ($rounds repeats)" >&2
if ! "$bin/bench-tap" --count "$tap_count" --warmup $((tap_count / 10)) --payload "$payload" \
        --repeats "$rounds" >>"$out"; then
    echo "run.sh: FAILED: bench-tap" >&2
    failed=1
fi

echo
echo "wskstack benchmarks: $(nproc) CPUs, Linux $(uname -r), payload $payload B," \
     "$rounds rounds in $(($(date +%s) - start)) s"
echo "load average at start $load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg)" \
     "(differences under the round-to-round spread are noise)"
echo
awk -f "$repo/bench/report.awk" "$out"
echo "raw results: $out"
if ((failed)); then
    echo "run.sh: some benchmarks FAILED (see above)"
    exit 1
fi
exit 0
