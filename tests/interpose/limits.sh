#!/bin/sh
# Limits and misuse: where glibc refuses, aborts or gives memory back, hmo does too.
. "$SRCDIR/tests/lib.sh"
HMO_HUGEPAGES=thp
export HMO_HUGEPAGES
L="$T/t_limits"

# The user's MALLOC_CONF is for the user's jemalloc, not hmo's: a setting hmo's
# jemalloc would abort on, or one that starts a thread, changes nothing.
"$L" threads >"$WORK/glibc.threads" || fail "t_limits threads without hmo"
for conf in 'abort_conf:true,bogus:1' 'background_thread:true' 'abort_conf:true,oversize_threshold:0,dirty_decay_ms:0'; do
	MALLOC_CONF=$conf run_hmo "$L" threads >"$WORK/hmo.threads" 2>"$WORK/hmo.err" ||
		{ cat "$WORK/hmo.err"; fail "MALLOC_CONF=$conf: the program failed under hmo"; }
	[ -s "$WORK/hmo.err" ] && { cat "$WORK/hmo.err"; fail "MALLOC_CONF=$conf: hmo's jemalloc read it"; }
	cmp -s "$WORK/glibc.threads" "$WORK/hmo.threads" ||
		fail "MALLOC_CONF=$conf: $(cat "$WORK/hmo.threads") under hmo, $(cat "$WORK/glibc.threads") without"
done

# Misuse of a frame: glibc dies of it (abort, or a fault reading the freed header);
# hmo aborts with one line naming the fault and the block, and never goes on to hand
# a block out twice.
for m in double interior moved split; do
	# In subshells, so that the shell's own "Aborted" goes elsewhere.
	(exec "$L" $m >"$WORK/g.out" 2>&1 9>&-) 2>/dev/null; g=$?
	(exec env LD_PRELOAD="$LIBHMO" "$L" $m >"$WORK/h.out" 2>"$WORK/h.err" 9>&-) 2>/dev/null; h=$?
	case $g in
	134|139) ;;
	3) echo "$m: glibc kept the block in place; only hmo is checked" ;;
	*) cat "$WORK/g.out"; fail "$m: glibc exited $g" ;;
	esac
	[ $h -eq 134 ] || { cat "$WORK/h.out" "$WORK/h.err"; fail "$m: hmo exited $h, expected SIGABRT"; }
	[ "$(wc -l <"$WORK/h.err")" -eq 1 ] && grep -q '^hmo: free(): .*0x[0-9a-f]*.*; aborting$' "$WORK/h.err" ||
		{ cat "$WORK/h.err"; fail "$m: expected one hmo: line naming the block"; }
	grep -q survived "$WORK/h.out" && fail "$m: the program went on after the misuse"
done
(exec env LD_PRELOAD="$LIBHMO" "$L" interior 2>"$WORK/i.err" >/dev/null 9>&-) 2>/dev/null
grep -q 'invalid pointer 0x[0-9a-f]*, inside the frame-pool block 0x[0-9a-f]* of 8388608 bytes' "$WORK/i.err" ||
	{ cat "$WORK/i.err"; fail "interior: the line does not name the block around the pointer"; }

# More than RAM + swap: the kernel refuses it to glibc (overcommit heuristic or
# strict); hmo gives the same NULL and ENOMEM, and frames go on working.
case $(cat /proc/sys/vm/overcommit_memory) in
1) echo "huge: overcommit_memory=1 accepts any size; compared all the same" ;;
esac
"$L" huge >"$WORK/g.huge" || fail "t_limits huge without hmo"
T_STATS="$WORK/s.huge" run_hmo "$L" huge >"$WORK/h.huge" || { cat "$WORK/h.huge"; fail "t_limits huge under hmo"; }
cmp -s "$WORK/g.huge" "$WORK/h.huge" || { cat "$WORK/g.huge" "$WORK/h.huge"; fail "huge: hmo's answers differ from glibc's"; }
echo "huge: $(tr '\n' ' ' <"$WORK/h.huge")"
[ "$(jget "$WORK/s.huge" "j['frames']")" = 1 ] ||
	{ cat "$WORK/s.huge"; fail "huge: the 64 MiB frame after the refusals did not come from the pool"; }
# Address-space limits. A limit lowered after frames were used (a forked worker
# limiting itself) is enforced for frames as the kernel enforces it for glibc: what
# counts is what glibc's process would have mapped, not the pool's reservation.
g=$("$L" lowered) || fail "t_limits lowered without hmo"
h=$(run_hmo "$L" lowered) || fail "t_limits lowered under hmo"
echo "lowered RLIMIT_AS: glibc: $g; hmo: $h"
[ "$g" = "$h" ] || fail "under a lowered RLIMIT_AS hmo answered '$h', glibc '$g'"
# Under ulimit -v, the program's small blocks get the pool's unused address space
# when they run out: at least 90% of what glibc gives (what the pool keeps mapped,
# its freed 64 MiB frame and its own metadata, and libhmo itself, are the rest).
g=$(ulimit -v 2200000 && "$L" ulimit) || fail "t_limits ulimit without hmo"
h=$(ulimit -v 2200000 && run_hmo "$L" ulimit) || fail "t_limits ulimit under hmo"
echo "ulimit -v 2.1 GiB: 64 KiB blocks worth ${h} MiB under hmo, ${g} MiB without"
[ $(( h * 10 )) -ge $(( g * 9 )) ] || fail "ulimit -v: ${h} MiB of small blocks under hmo, ${g} MiB under glibc"

# Cached frames go back HMO_POOL_DECAY after they were freed, also while the program
# idles or allocates only small blocks; malloc_trim(0) gives them back at once. What
# stays is within one frame (16 MiB) of glibc's resident memory.
g=$("$L" idle 2.5) || fail "t_limits idle without hmo"
h=$(HMO_POOL_DECAY=1s run_hmo "$L" idle 2.5) || fail "t_limits idle under hmo"
echo "idle: VmRSS ${h} kB under hmo, ${g} kB without, after 2.5 s of small blocks"
[ "$h" -le $(( g + 16384 )) ] || fail "idle: ${h} kB resident 2.5 s after the frames were freed (HMO_POOL_DECAY=1s), glibc ${g} kB"
g=$("$L" trim) || fail "t_limits trim without hmo"
h=$(run_hmo "$L" trim) || fail "t_limits trim under hmo"
echo "malloc_trim: VmRSS ${h} kB under hmo, ${g} kB without"
[ "$h" -le $(( g + 16384 )) ] || fail "malloc_trim(0) left ${h} kB resident, glibc ${g} kB"
# HMO_POOL_DECAY=never keeps them (what the user asked for), and malloc_trim(0)
# still gives them back.
h=$(HMO_POOL_DECAY=never run_hmo "$L" idle 1) || fail "t_limits idle with HMO_POOL_DECAY=never"
[ "$h" -ge 409600 ] || fail "HMO_POOL_DECAY=never: only ${h} kB resident after 800 MiB of frames were freed"
h=$(HMO_POOL_DECAY=never run_hmo "$L" trim) || fail "t_limits trim with HMO_POOL_DECAY=never"
[ "$h" -le $(( g + 16384 )) ] || fail "HMO_POOL_DECAY=never: malloc_trim(0) left ${h} kB resident"
HMO_STATS="$WORK/trim.stats" run_hmo "$L" trim >/dev/null || fail "t_limits trim with HMO_STATS"
grep -q 'malloc_trim released cached memory 1 times' "$WORK/trim.stats" || { cat "$WORK/trim.stats"; fail "the summary does not count the trim"; }
exit 0
