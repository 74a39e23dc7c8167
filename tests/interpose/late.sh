#!/bin/sh
# Calls after hmo's destructor; the summary is written exactly once.
. "$SRCDIR/tests/lib.sh"
EXTRA_PRELOAD="$LIBS/liblate.so" HMO_STATS=1 run_hmo "$T/t_late" 2>"$WORK/err" \
	|| { cat "$WORK/err"; fail "t_late"; }
grep -q '^late ok$' "$WORK/err" || { cat "$WORK/err"; fail "liblate's destructor"; }
[ "$(grep -c '^hmo: pid' "$WORK/err")" -eq 1 ] || { cat "$WORK/err"; fail "summary not written exactly once"; }
# liblate ran after hmo's destructor: its line comes after the summary.
tail -n 1 "$WORK/err" | grep -q '^late ok$' || { cat "$WORK/err"; fail "liblate's destructor ran before hmo's"; }
