#!/bin/sh
# Copy hooks: exact copies, _chk semantics, every form counted.
. "$SRCDIR/tests/lib.sh"
"$T/t_copy" 2>"$WORK/err0" || { cat "$WORK/err0"; fail "t_copy without hmo"; }
mkdir "$WORK/tr"	# a directory: the child that overflows has its own traces
HMO_STATS="$WORK/s" HMO_TRACE="$WORK/tr" T_STATS="$WORK/stats" run_hmo "$T/t_copy" 2>"$WORK/err" ||
	{ cat "$WORK/err"; fail "t_copy under libhmo"; }
grep -q "buffer overflow detected" "$WORK/err" || fail "the overflowing __memcpy_chk did not report"
report_json "$WORK/r.json" "$WORK/tr"
# 18 sizes x 9 offsets of each _chk form, exactly (the child that overflows aborts
# before its counters are written).
for f in __memcpy_chk __memmove_chk __memset_chk; do
	n=$(jget "$WORK/r.json" "call('$f', 'calls')")
	[ "$n" = 162 ] || fail "$f counted $n times, expected 162"
done
[ "$(jget "$WORK/r.json" "call('memcpy', 'large_calls')")" -ge 1 ] || fail "the 1 MiB memcpy not counted as large"
# The large copies are timed: hmo_stats and the summary give their bandwidth.
[ "$(jget "$WORK/stats" "j['large_copy_calls'] >= 1 and j['large_copy_ns'] > 0 and j['large_copy_gbps'] >= 0.01")" = 1 ] ||
	{ cat "$WORK/stats"; fail "the large copies were not timed, or at under 0.01 GB/s"; }
grep -Eq '^hmo: copies of at least 1M: [0-9,]+ calls, .* at [0-9]+\.[0-9][0-9] GB/s$' "$WORK/s" ||
	{ cat "$WORK/s"; fail "no bandwidth line for the large copies"; }
exit 0
