#!/bin/sh
# Allocations before hmo's constructor; no dlerror() state left by hmo.
. "$SRCDIR/tests/lib.sh"
EXTRA_PRELOAD="$LIBS/libearly.so" run_hmo "$T/t_early" || fail "t_early under libhmo"
EXTRA_PRELOAD="$LIBS/libearly.so" HMO_TRACE="$WORK/tr" run_hmo "$T/t_early" || fail "traced"
report_json "$WORK/r.json" "$WORK/tr"
# libearly's calls came before hmo's constructor (and before its tracer started) and
# are counted all the same.
[ "$(jget "$WORK/r.json" "call('malloc', 'calls')")" -ge 2 ] || fail "early mallocs not counted"
[ "$(jget "$WORK/r.json" "call('malloc', 'large_calls')")" -ge 1 ] || fail "the early 3 MiB malloc not counted as large"
[ "$(jget "$WORK/r.json" "call('posix_memalign', 'calls')")" -ge 1 ] || fail "early posix_memalign not counted"
