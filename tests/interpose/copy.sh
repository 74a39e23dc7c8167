#!/bin/sh
# Copy hooks: exact copies, _chk semantics, every form counted.
. "$SRCDIR/tests/lib.sh"
"$T/t_copy" 2>"$WORK/err0" || { cat "$WORK/err0"; fail "t_copy without hmo"; }
HMO_STATS="$WORK/s" run_hmo "$T/t_copy" 2>"$WORK/err" || { cat "$WORK/err"; fail "t_copy under libhmo"; }
grep -q "buffer overflow detected" "$WORK/err" || fail "the overflowing __memcpy_chk did not report"
# 18 sizes x 9 offsets of each _chk form, exactly.
for f in __memcpy_chk __memmove_chk __memset_chk; do
	[ "$(field "$WORK/s" $f 1)" = 162 ] || fail "$f counted $(field "$WORK/s" $f 1) times, expected 162"
done
[ "$(field "$WORK/s" memcpy 4)" -ge 1 ] || fail "the 1 MiB memcpy not counted as large"
# The large copies are timed: the summary gives their bandwidth.
grep -Eq '^hmo: copies of at least 1M: [0-9,]+ calls, .* at [0-9]+\.[0-9][0-9] GB/s$' "$WORK/s" ||
	{ cat "$WORK/s"; fail "no bandwidth line for the large copies"; }
grep '^hmo: copies of at least' "$WORK/s" | grep -q ' at 0\.00 GB/s' && fail "large copies at 0 GB/s"
exit 0
