#!/bin/sh
# Allocations before hmo's constructor; no dlerror() state left by hmo.
. "$SRCDIR/tests/lib.sh"
EXTRA_PRELOAD="$LIBS/libearly.so" run_hmo "$T/t_early" || fail "t_early under libhmo"
EXTRA_PRELOAD="$LIBS/libearly.so" HMO_STATS="$WORK/s" run_hmo "$T/t_early" || fail "with HMO_STATS"
# libearly's calls came before hmo's constructor and are counted all the same.
[ "$(field "$WORK/s" malloc 1)" -ge 2 ] || fail "early mallocs not counted"
[ "$(field "$WORK/s" malloc 4)" -ge 1 ] || fail "the early 3 MiB malloc not counted as large"
[ "$(field "$WORK/s" posix_memalign 1)" -ge 1 ] || fail "early posix_memalign not counted"
