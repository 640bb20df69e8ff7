#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# smoke.sh - the ctest smoke test of the benchmarks (bench_smoke, label
# bench): every benchmark runs with a tiny count and must exit 0 with
# exactly its result lines, in the format report.awk reads; report.awk
# must then print every section.  No timing is asserted: benchmarks are
# not timed tests.  Needs root like the lab tests (bench-tap makes a TAP
# and a veth pair; everything lives in the benchmarks' own namespaces).
#
#   smoke.sh BENCH_BINARY_DIR REPORT_AWK
set -uo pipefail

bin=$1
report=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

bad() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# run NAME EXPECTED_LINES REGEX CMD...: exit status 0, exactly
# EXPECTED_LINES "result" lines, every one matching REGEX.
run() {
    local name=$1 want=$2 re=$3
    shift 3
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        bad "$name: exit status $rc ($*)"
        cat "$tmp/$name.err"
        return
    fi
    local n
    n=$(grep -c '^result ' "$tmp/$name.out")
    if [[ $n -ne $want ]]; then
        bad "$name: $n result lines, expected $want"
        cat "$tmp/$name.out"
    fi
    if grep '^result ' "$tmp/$name.out" | grep -Evq "$re"; then
        bad "$name: a result line does not match $re"
        grep '^result ' "$tmp/$name.out" | grep -Ev "$re"
    fi
    cat "$tmp/$name.out" >>"$tmp/all.txt"
    echo "ok: $name ($n result lines)"
}

num='[0-9]+\.[0-9]'
tiny=(--count 300 --warmup 30)
trace_re="^result bench=trace variant=%s family=ipv(4|6) dir=(rx|tx) count=300 value=$num unit=ns/dgram cpu=$num\$"

# Three measurements of each kind from co and off (the report's noise
# estimate needs three), counted exactly.
# shellcheck disable=SC2059
run co 12 "$(printf "$trace_re" co)" "$bin/bench-trace-co" "${tiny[@]}" --repeats 3
# shellcheck disable=SC2059
run off 12 "$(printf "$trace_re" off)" "$bin/bench-trace" --mode off "${tiny[@]}" --repeats 3
# shellcheck disable=SC2059
run on 4 "$(printf "$trace_re" on)" "$bin/bench-trace" --mode on "${tiny[@]}" --cpu 0
run kernel 2 "^result bench=kernel variant=loopback family=ipv(4|6) dir=txrx count=300 value=$num unit=ns/dgram cpu=$num\$" \
    "$bin/bench-kernel" "${tiny[@]}"
run tap 3 "^result bench=tap variant=(wskstack|kernel-sendto|kernel-sendmmsg) family=ipv4 dir=tx count=300 value=$num unit=dgram/s\$" \
    "$bin/bench-tap" "${tiny[@]}"

run family6 1 "^result bench=kernel variant=loopback family=ipv6 " "$bin/bench-kernel" \
    "${tiny[@]}" --family 6

# The compiled-out build has no tracing to turn on.
"$bin/bench-trace-co" --mode on "${tiny[@]}" >/dev/null 2>&1
rc=$?
[[ $rc -eq 2 ]] || bad "bench-trace-co --mode on: exit status $rc, expected 2"

# The report has every section and a verdict for each of the four paths.
awk -f "$report" "$tmp/all.txt" >"$tmp/report.txt"
for want in '^== trace cost \(issue 6\)' '^trace compiled out ' '^tracing off ' \
            '^tracing on \(all; text\) ' '^off / compiled out \(CPU\) ' \
            '^tracing off vs compiled out, ipv4 rx: ' '^tracing off vs compiled out, ipv4 tx: ' \
            '^tracing off vs compiled out, ipv6 rx: ' '^tracing off vs compiled out, ipv6 tx: ' \
            '^tracing off vs compiled out, all four paths: ' \
            '^== the Linux kernel in the same run' '^wskstack \(rx \+ tx\) / kernel, tracing off ' \
            '^== real I/O' '^wskstack / kernel sendto ' '^wskstack / kernel sendmmsg x64 '; do
    grep -Eq "$want" "$tmp/report.txt" || bad "report: no line matching $want"
done
cat "$tmp/report.txt"

if ((fails)); then
    echo "bench smoke: $fails failure(s)"
    exit 1
fi
echo "bench smoke: ok"
