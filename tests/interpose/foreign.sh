#!/bin/sh
# Pointers hmo did not hand out are forwarded, never inspected.
. "$SRCDIR/tests/lib.sh"
"$T/t_foreign" || fail "t_foreign without hmo"
HMO_STATS="$WORK/s" run_hmo "$T/t_foreign" || fail "t_foreign under libhmo"
[ "$(field "$WORK/s" free 1)" -ge 27 ] || fail "frees of foreign pointers not counted"
