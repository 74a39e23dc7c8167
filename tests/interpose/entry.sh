#!/bin/sh
# Allocation entry points: glibc's results, with and without hmo.
. "$SRCDIR/tests/lib.sh"
"$T/t_entry" || fail "t_entry fails without hmo: the test itself is wrong"
run_hmo "$T/t_entry" || fail "t_entry under libhmo"
HMO_STATS="$WORK/s" run_hmo "$T/t_entry" || fail "t_entry under libhmo with HMO_STATS"
[ "$(field "$WORK/s" posix_memalign 1)" -ge 24 ] || fail "posix_memalign calls not counted"
