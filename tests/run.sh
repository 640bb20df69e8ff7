#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - every test of wskstack, in one command (Debian 12, as root: the lab
# tests make their own network namespaces and TAPs).
#
#   (a) default build (cc = gcc)     ctest (unit, lab, irp, install)
#   (b) ASan + UBSan build            ctest (all)
#   (c) TSan build                    ctest -L irp
#   (d) clang libFuzzer build         ctest -R fuzz   (only if clang exists)
#
# Phases run one after the other (builds -j2, ctest -j2).  The script exits
# non-zero if any phase failed, and its LAST line is
#   tests: N passed, N failed
# summed over every ctest run (a phase that could not build or run counts as
# one failure), so a run that executed nothing is visible.
#
# Build directories: $WSKSTACK_BUILD_ROOT (default ./build) for (a), and
# the same path with -asan, -tsan, -fuzz appended for the others.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=${WSKSTACK_BUILD_ROOT:-$repo/build}
jobs=${WSKSTACK_JOBS:-2}
export WSKSTACK_JOBS=$jobs

passed=0
failed=0
phase_fail=0
summary=()

log() { printf '\n==== %s ====\n' "$*"; }

# run_ctest NAME BUILD_DIR [CTEST ARGS...]: run ctest, add its counts.
run_ctest() {
    local name=$1 dir=$2
    shift 2
    local out
    out=$(mktemp)
    (cd "$dir" && ctest -j"$jobs" --output-on-failure "$@") 2>&1 | tee "$out"
    local rc=${PIPESTATUS[0]}
    local line
    line=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$out" | tail -n 1)
    rm -f "$out"
    if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
        local f=${BASH_REMATCH[1]} t=${BASH_REMATCH[2]}
        passed=$((passed + t - f))
        failed=$((failed + f))
        summary+=("$name: $((t - f)) passed, $f failed")
        if ((f > 0 || rc != 0)); then phase_fail=1; fi
    else
        # No summary line: nothing ran ("No tests were found") or ctest broke.
        failed=$((failed + 1))
        phase_fail=1
        summary+=("$name: no test ran (ctest exit $rc)")
    fi
}

# build NAME DIR [CMAKE OPTIONS...]: configure + build, count a failure.
build() {
    local name=$1 dir=$2
    shift 2
    log "$name: build $dir $*"
    if ! "$repo/tools/bootstrap.sh" "$dir" "$@"; then
        failed=$((failed + 1))
        phase_fail=1
        summary+=("$name: BUILD FAILED")
        return 1
    fi
}

log "packages"
if ! "$repo/tools/bootstrap.sh" --deps-only; then
    echo "tests: 0 passed, 1 failed"
    exit 1
fi

start=$(date +%s)

if build "gcc" "$root" -DWSKSTACK_SANITIZE=; then
    log "gcc: ctest (all)"
    run_ctest "gcc" "$root"
fi

if build "asan" "$root-asan" -DWSKSTACK_SANITIZE=address; then
    log "asan: ctest (all)"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_ctest "asan" "$root-asan"
fi

if build "tsan" "$root-tsan" -DWSKSTACK_SANITIZE=thread -DWSKSTACK_BENCH=OFF; then
    log "tsan: ctest -L irp"
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        run_ctest "tsan" "$root-tsan" -L irp
fi

if command -v clang >/dev/null 2>&1; then
    if build "fuzz" "$root-fuzz" -DCMAKE_C_COMPILER=clang -DWSKSTACK_FUZZ=ON -DWSKSTACK_BENCH=OFF; then
        log "fuzz: ctest -R fuzz"
        run_ctest "fuzz" "$root-fuzz" -R fuzz
    fi
else
    summary+=("fuzz: skipped (no clang)")
fi

log "summary ($(( $(date +%s) - start )) s)"
for s in "${summary[@]}"; do echo "  $s"; done
echo "tests: $passed passed, $failed failed"
if ((phase_fail || failed)); then
    exit 1
fi
exit 0
