#!/bin/sh
# hmo.h: every API function and error path, in a program linked with -lhmo; and the
# same program with libhmo also preloaded: one library, one state (its statistics
# count the frames the API made and the ones malloc made together).
. "$SRCDIR/tests/lib.sh"
cd "$WORK" || exit 99
"$T/t_api" >out 2>err || { cat out err; fail "t_api, linked with -lhmo"; }
grep -q '^api ok' out || fail "t_api did not finish"
run_hmo "$T/t_api" >out 2>err || { cat out err; fail "t_api, linked and preloaded"; }
grep -q '^api ok' out || fail "t_api under LD_PRELOAD did not finish"
# shared memory between two unrelated processes
name="t-api-between-$$"
"$T/t_api" shm-writer "$name" | grep -q '^written' || fail "the writer of a segment"
"$T/t_api" shm-reader "$name" | grep -q '^read' || fail "an unrelated process could not read the segment"
# one copy of libhmo in the process, whichever way it came
HMO_STATS="$WORK/stats" run_hmo "$T/t_api" >/dev/null 2>&1 || fail "t_api with HMO_STATS"
[ "$(grep -c '^hmo: pid' stats)" -eq 1 ] || { cat stats; fail "expected one summary: two copies of hmo's state?"; }
exit 0
