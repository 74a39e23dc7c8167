#!/bin/sh
# hmo over an allocator that re-enters hmo's mmap and copy hooks.
. "$SRCDIR/tests/lib.sh"
EXTRA_PRELOAD="$LIBS/libreenter.so" HMO_STATS="$WORK/s" run_hmo "$T/t_reenter" \
	|| fail "t_reenter under libhmo over libreenter"
# The next allocator's own mmap went through hmo's hook and was counted.
[ "$(field "$WORK/s" mmap 1)" -ge 1 ] || fail "mmap made by the next allocator not counted"
[ "$(field "$WORK/s" malloc 1)" -ge 4000 ] || fail "mallocs not counted"
[ "$(field "$WORK/s" memset 1)" -ge 4000 ] || fail "memsets not counted"
