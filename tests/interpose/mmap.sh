#!/bin/sh
# Foreign mappings pass through; every call is counted.
. "$SRCDIR/tests/lib.sh"
"$T/t_mmap" || fail "t_mmap without hmo"
HMO_TRACE="$WORK/tr" run_hmo "$T/t_mmap" || fail "t_mmap under libhmo"
report_json "$WORK/r.json" "$WORK/tr"
[ "$(jget "$WORK/r.json" "call('mremap', 'calls')")" -ge 3 ] || fail "mremap calls not counted"
[ "$(jget "$WORK/r.json" "call('mmap64', 'large_calls')")" -ge 1 ] || fail "the 64 MiB mmap64 not counted as large"
# HMO_MMAP=advise: with the pool's frames on THP, the program's own large anonymous
# mappings get huge-page advice (t_mmap's 64 MiB mmap64 and its 2 MiB reservation),
# but not the heap of a program's allocator that maps through these hooks
# (jemalloc, preloaded after libhmo). Only the summary counts the advice (advised,
# in tests/lib.sh).
HMO_HUGEPAGES=thp HMO_STATS="$WORK/thp" run_hmo "$T/t_mmap" || fail "t_mmap, HMO_HUGEPAGES=thp"
n=$(advised "$WORK/thp")
[ "$n" -ge 1 ] || { cat "$WORK/thp"; fail "the program's own 64 MiB mapping was not advised"; }
# With frames on 4 KiB pages, none: a fresh huge page costs the program what it
# would have cost the pool.
HMO_HUGEPAGES=off HMO_STATS="$WORK/off" run_hmo "$T/t_mmap" || fail "t_mmap, HMO_HUGEPAGES=off"
[ "$(advised "$WORK/off")" -eq 0 ] || { cat "$WORK/off"; fail "mappings advised with HMO_HUGEPAGES=off"; }
# auto, in a process that never uses the pool: no advice, and neither the probe nor
# the boot's record (nothing is chosen, nothing said).
mkdir -m 700 "$WORK/run"
XDG_RUNTIME_DIR="$WORK/run" HMO_STATS="$WORK/s" run_hmo "$T/t_mmap" || fail "t_mmap, auto"
[ "$(advised "$WORK/s")" -eq 0 ] || { cat "$WORK/s"; fail "auto advised mappings before the pool chose its pages"; }
grep -q '^hmo: frame pool: frames on ' "$WORK/s" && { cat "$WORK/s"; fail "a choice said by a process that never used the pool"; }
[ -z "$(ls -A "$WORK/run")" ] || { ls -l "$WORK/run"; fail "the boot's record was touched by a process that never used the pool"; }
jemalloc=$(ldconfig -p | awk '/libjemalloc.so.2 / { print $NF; exit }')
if [ -n "$jemalloc" ]; then
	HMO_HUGEPAGES=thp HMO_STATS="$WORK/j" EXTRA_PRELOAD="$jemalloc" run_hmo "$T/t_mmap" ||
		fail "t_mmap with jemalloc"
	[ "$(advised "$WORK/j")" -eq "$n" ] ||
		{ cat "$WORK/j"; fail "with jemalloc, $(advised "$WORK/j") mappings advised, the program made $n"; }
else
	echo "no libjemalloc.so.2: the allocator's own mappings are not checked"
fi
exit 0
