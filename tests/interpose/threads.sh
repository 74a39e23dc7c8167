#!/bin/sh
# 8 threads x 1M mixed allocations with cross-thread frees; every call counted.
. "$SRCDIR/tests/lib.sh"
HMO_STATS="$WORK/s" timeout 300 env LD_PRELOAD="$LIBHMO" "$T/t_threads" || fail "t_threads (rc $?)"
allocs=0
for f in malloc calloc realloc posix_memalign; do
	allocs=$((allocs + $(field "$WORK/s" $f 1)))
done
# Each thread made exactly 1,000,000 allocation calls; glibc adds a few of its own.
[ "$allocs" -ge 8000000 ] && [ "$allocs" -lt 8000100 ] || fail "counted $allocs allocation calls, expected 8,000,000 (+ a few of glibc's)"
[ "$(field "$WORK/s" free 1)" -ge 8000000 ] || fail "counted $(field "$WORK/s" free 1) frees"
