#!/bin/sh
# Allocation entry points: glibc's results, with and without hmo.
. "$SRCDIR/tests/lib.sh"
"$T/t_entry" || fail "t_entry fails without hmo: the test itself is wrong"
run_hmo "$T/t_entry" || fail "t_entry under libhmo"
HMO_TRACE="$WORK/tr" run_hmo "$T/t_entry" || fail "t_entry under libhmo with HMO_TRACE"
report_json "$WORK/r.json" "$WORK/tr"
[ "$(jget "$WORK/r.json" "call('posix_memalign', 'calls')")" -ge 24 ] || fail "posix_memalign calls not counted"
