#!/bin/sh
# The frame pool on explicit hugetlb pages, and its fallback when they run out.
# Reserves 16 pages of 2 MiB for the test and gives the old count back afterwards.
HMO_TEST_LOCK=-x	# alone: no other test's libhmo may take the pages reserved here
. "$SRCDIR/tests/lib.sh"
knob=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
[ "$(id -u)" -eq 0 ] || skip "reserving hugetlb pages needs root"
old=$(cat "$knob" 2>/dev/null) || skip "no 2 MiB hugetlb pages on this kernel ($knob)"
restore() { echo "$old" >"$knob" 2>/dev/null; rm -rf "$WORK"; }
trap restore EXIT
echo $((old + 16)) >"$knob" 2>/dev/null || skip "cannot write $knob here"
[ "$(cat "$knob")" -ge $((old + 16)) ] || skip "the kernel found no memory for 16 hugetlb pages"

HMO_STATS="$WORK/h" run_hmo "$T/t_pool" hugetlb || { cat "$WORK/h"; fail "t_pool hugetlb"; }
grep -q 'on 2 MiB hugetlb pages' "$WORK/h" || { cat "$WORK/h"; fail "no hugetlb backing reported"; }
grep -q 'hugetlb pages ran out' "$WORK/h" || { cat "$WORK/h"; fail "no fallback reported when the pages ran out"; }
# hmo_alloc's backing flags: hugetlb pages or ENOMEM; or never hugetlb pages.
"$T/t_api" hugetlb >"$WORK/a" 2>&1 || { cat "$WORK/a"; fail "t_api hugetlb"; }
cat "$WORK/a"
# HMO_HUGEPAGES=thp leaves the reserved pages alone.
HMO_HUGEPAGES=thp HMO_STATS="$WORK/t" run_hmo "$T/t_pool" cache || fail "t_pool cache with HMO_HUGEPAGES=thp"
grep -q 'hugetlb' "$WORK/t" && { cat "$WORK/t"; fail "HMO_HUGEPAGES=thp used hugetlb pages"; }
exit 0
