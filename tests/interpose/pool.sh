#!/bin/sh
# The frame pool: what it serves, how it backs it, and what it leaves alone.
. "$SRCDIR/tests/lib.sh"
# THP backing throughout, also while hugetlb.sh (which may run beside this test)
# has hugetlb pages reserved: what is checked here is the THP path.
HMO_HUGEPAGES=thp
export HMO_HUGEPAGES

# What the pool served, from hmo_stats (t_pool writes it to T_STATS); what only the
# summary says (what was released, where it is resident, advice), from the summary.
"$T/t_pool" entry || fail "t_pool entry without hmo"
T_STATS="$WORK/s" run_hmo "$T/t_pool" entry || { cat "$WORK/s"; fail "t_pool entry under hmo"; }
n=$(jget "$WORK/s" "j['frames']")
# Every frame-sized call of t_pool entry: 2 sizes x 8 calls, 40 in the calloc loop,
# 5 in the realloc sequence (small->frame, grow, shrink, reallocarray, malloc(T)),
# 18 alignments and 2 around madvise.
[ "${n:-0}" -ge 80 ] || { cat "$WORK/s"; fail "the pool served ${n:-0} frames, expected at least 80"; }
[ "$(jget "$WORK/s" "j['frame_fallbacks']")" = 0 ] || { cat "$WORK/s"; fail "frames fell back to the program's allocator"; }

# HMO_POOL=off: nothing is served by the pool, everything still works.
HMO_POOL=off T_STATS="$WORK/off" run_hmo "$T/t_pool" entry || fail "t_pool entry with HMO_POOL=off"
[ "$(jget "$WORK/off" "j['hmo'] == 1 and j['frames'] + j['frame_fallbacks'] + j['pool_mapped_bytes'] == 0")" = 1 ] ||
	{ cat "$WORK/off"; fail "HMO_POOL=off still used the pool"; }

# A lower threshold sends smaller blocks to the pool.
HMO_THRESHOLD=64K T_STATS="$WORK/t64" run_hmo "$T/t_pool" entry || fail "with HMO_THRESHOLD=64K"
[ "$(jget "$WORK/t64" "j['frames']")" -gt "$n" ] || fail "HMO_THRESHOLD=64K served no more frames than 1M"

# Backing: a touched frame is on huge pages where THP is available.
run_hmo "$T/t_pool" thp; rc=$?
case $rc in
0) ;;
77) echo "thp: skipped (transparent huge pages are disabled)" ;;
*) fail "t_pool thp (rc $rc)" ;;
esac
# With THP in madvise mode, only hmo's advice gives huge pages: off must give none.
if grep -q '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
	HMO_HUGEPAGES=off run_hmo "$T/t_pool" thp >"$WORK/off.out"; rc=$?
	[ $rc -ne 0 ] || { cat "$WORK/off.out"; fail "HMO_HUGEPAGES=off still gave huge pages"; }
fi

run_hmo "$T/t_pool" fork || fail "fork with live frames"
timeout 300 env LD_PRELOAD="$LIBHMO" "$T/t_pool" threads || fail "8 threads of frames"
HMO_STATS="$WORK/rl" run_hmo "$T/t_pool" rlimit || { cat "$WORK/rl"; fail "ENOMEM under RLIMIT_AS"; }
"$T/t_pool" rlimit || fail "t_pool rlimit without hmo"

# HMO_PREFAULT populates new extents when they are mapped: the first write faults less.
plain=$(run_hmo "$T/t_pool" touch | awk '/^faults/ { print $2 }')
pre=$(HMO_PREFAULT=1 run_hmo "$T/t_pool" touch | awk '/^faults/ { print $2 }')
[ -n "$plain" ] && [ -n "$pre" ] && [ "$pre" -lt "$plain" ] && [ "$pre" -le 2 ] \
	|| fail "HMO_PREFAULT=1: $pre faults on first touch, $plain without"

# Free frames stay cached by default; above HMO_POOL_MAX, or with no decay time,
# they go back to the kernel.
HMO_STATS="$WORK/c1" run_hmo "$T/t_pool" cache || fail "t_pool cache"
[ "$(released "$WORK/c1")" = "0 B" ] || { cat "$WORK/c1"; fail "freed frames were released under the default cap"; }
# The summary samples where the pool's memory is resident: the 80 MiB of cached frames
# on node 0 (every machine has one), and far less once decay has released them.
[ "$(node0_mib "$WORK/c1")" -ge 64 ] || { cat "$WORK/c1"; fail "cached frames not resident on node 0"; }
HMO_POOL_MAX=16M HMO_STATS="$WORK/c2" run_hmo "$T/t_pool" cache || fail "t_pool cache with HMO_POOL_MAX"
[ "$(released "$WORK/c2")" != "0 B" ] || { cat "$WORK/c2"; fail "HMO_POOL_MAX=16M kept 80 MiB cached"; }
grep -q 'went over HMO_POOL_MAX' "$WORK/c2" || { cat "$WORK/c2"; fail "the cap's releases are not in the summary"; }
HMO_POOL_DECAY=0 HMO_STATS="$WORK/c3" run_hmo "$T/t_pool" cache || fail "t_pool cache with HMO_POOL_DECAY=0"
[ "$(released "$WORK/c3")" != "0 B" ] || { cat "$WORK/c3"; fail "HMO_POOL_DECAY=0 kept freed frames"; }
[ "$(node0_mib "$WORK/c3")" -lt 32 ] || { cat "$WORK/c3"; fail "HMO_POOL_DECAY=0: freed frames still resident"; }

# HMO_MMAP: the program's own large anonymous mmap gets huge-page advice; its file
# mapping does not: one more advised than the process makes by itself (the libraries
# it loads map memory too).
HMO_STATS="$WORK/m0" run_hmo "$T/t_pool" none || fail "t_pool none"
HMO_STATS="$WORK/m1" run_hmo "$T/t_pool" mmap >"$WORK/m1.out" || fail "t_pool mmap"
[ $(( $(advised "$WORK/m1") - $(advised "$WORK/m0") )) -eq 1 ] || { cat "$WORK/m0" "$WORK/m1"; fail "expected exactly one more advised mapping"; }
if grep -q '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
	[ "$(awk '/AnonHugePages/ { print $3 }' "$WORK/m1.out")" -ge 2048 ] || { cat "$WORK/m1.out"; fail "the advised mapping got no huge pages"; }
	HMO_MMAP=off HMO_STATS="$WORK/m2" run_hmo "$T/t_pool" mmap >"$WORK/m2.out" || fail "t_pool mmap, HMO_MMAP=off"
	[ "$(awk '/AnonHugePages/ { print $3 }' "$WORK/m2.out")" -eq 0 ] || fail "HMO_MMAP=off still advised"
	[ "$(advised "$WORK/m2")" -eq 0 ] || fail "HMO_MMAP=off counted advice"
fi

# A process that never allocates a frame pays for no pool: jemalloc starts on the
# first frame (its constructor is dropped), so hmo adds little resident memory.
plain=$("$T/t_pool" rss | awk '{ print $2 }')
hmo=$(run_hmo "$T/t_pool" rss | awk '{ print $2 }')
[ $((hmo - plain)) -lt 3072 ] || fail "libhmo adds $((hmo - plain)) kB of resident memory to a process without frames"

# The program's munmap/mremap/MAP_FIXED on a frame: released or refused, counted, and
# the pool keeps serving.
HMO_STATS="$WORK/i" run_hmo "$T/t_pool" intrude || { cat "$WORK/i"; fail "t_pool intrude"; }
grep -q 'on pool memory 3 times' "$WORK/i" || { cat "$WORK/i"; fail "the three intrusions were not counted"; }
