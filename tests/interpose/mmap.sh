#!/bin/sh
# Foreign mappings pass through; every call is counted.
. "$SRCDIR/tests/lib.sh"
"$T/t_mmap" || fail "t_mmap without hmo"
HMO_STATS="$WORK/s" run_hmo "$T/t_mmap" || fail "t_mmap under libhmo"
[ "$(field "$WORK/s" mremap 1)" -ge 3 ] || fail "mremap calls not counted"
[ "$(field "$WORK/s" mmap64 4)" -ge 1 ] || fail "the 64 MiB mmap64 not counted as large"
# HMO_MMAP=advise: the program's own large anonymous mappings get huge-page advice
# (t_mmap's 64 MiB mmap64 and its 2 MiB reservation), but not the heap of a program's
# allocator that maps through these hooks (jemalloc, preloaded after libhmo).
advised() { awk '/^hmo: mmap: / { print $3; found = 1 } END { if (!found) print 0 }' "$1"; }
n=$(advised "$WORK/s")
[ "$n" -ge 1 ] || { cat "$WORK/s"; fail "the program's own 64 MiB mapping was not advised"; }
jemalloc=$(ldconfig -p | awk '/libjemalloc.so.2 / { print $NF; exit }')
if [ -n "$jemalloc" ]; then
	HMO_STATS="$WORK/j" EXTRA_PRELOAD="$jemalloc" run_hmo "$T/t_mmap" || fail "t_mmap with jemalloc"
	[ "$(advised "$WORK/j")" -eq "$n" ] ||
		{ cat "$WORK/j"; fail "with jemalloc, $(advised "$WORK/j") mappings advised, the program made $n"; }
else
	echo "no libjemalloc.so.2: the allocator's own mappings are not checked"
fi
exit 0
