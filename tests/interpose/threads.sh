#!/bin/sh
# 8 threads x 1M mixed allocations with cross-thread frees; every call counted.
. "$SRCDIR/tests/lib.sh"
HMO_TRACE="$WORK/tr" timeout 300 env LD_PRELOAD="$LIBHMO" "$T/t_threads" || fail "t_threads (rc $?)"
report_json "$WORK/r.json" "$WORK/tr"
allocs=$(jget "$WORK/r.json" "sum(call(f, 'calls') for f in ('malloc', 'calloc', 'realloc', 'posix_memalign'))")
# Each thread made exactly 1,000,000 allocation calls; glibc adds a few of its own.
[ "$allocs" -ge 8000000 ] && [ "$allocs" -lt 8000100 ] || fail "counted $allocs allocation calls, expected 8,000,000 (+ a few of glibc's)"
frees=$(jget "$WORK/r.json" "call('free', 'calls')")
[ "$frees" -ge 8000000 ] || fail "counted $frees frees"
