#!/bin/sh
# Pointers hmo did not hand out are forwarded, never inspected.
. "$SRCDIR/tests/lib.sh"
"$T/t_foreign" || fail "t_foreign without hmo"
HMO_TRACE="$WORK/tr" run_hmo "$T/t_foreign" || fail "t_foreign under libhmo"
report_json "$WORK/r.json" "$WORK/tr"
[ "$(jget "$WORK/r.json" "call('free', 'calls')")" -ge 27 ] || fail "frees of foreign pointers not counted"
