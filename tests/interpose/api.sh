#!/bin/sh
# hmo.h: every API function and error path, in a program linked with -lhmo; and the
# same program with libhmo also preloaded: one library, one state (its statistics
# count the frames the API made and the ones malloc made together).
. "$SRCDIR/tests/lib.sh"
cd "$WORK" || exit 99
"$T/t_api" >out 2>err || { cat out err; fail "t_api, linked with -lhmo"; }
grep -q '^api ok' out || fail "t_api did not finish"
# The runs below check how the library is found, not the copies again: no 1 GiB copy.
T_API_NO_GIB=1
export T_API_NO_GIB
run_hmo "$T/t_api" >out 2>err || { cat out err; fail "t_api, linked and preloaded"; }
grep -q '^api ok' out || fail "t_api under LD_PRELOAD did not finish"
# shared memory between two unrelated processes
name="t-api-between-$$"
"$T/t_api" shm-writer "$name" | grep -q '^written' || fail "the writer of a segment"
"$T/t_api" shm-reader "$name" | grep -q '^read' || fail "an unrelated process could not read the segment"
# one copy of libhmo in the process, whichever way it came
HMO_STATS="$WORK/stats" run_hmo "$T/t_api" >/dev/null 2>&1 || fail "t_api with HMO_STATS"
[ "$(grep -c '^hmo: pid' stats)" -eq 1 ] || { cat stats; fail "expected one summary: two copies of hmo's state?"; }
# A second copy of libhmo, another file opened by path beside the linked one: one
# pool, one engine, one summary. (jemalloc's static TLS needs the room the tunable
# gives, as in deepbind.sh.)
mkdir other && cp -L "$LIBHMO" other/libhmo.so.0 || exit 99
tls=glibc.rtld.optional_static_tls=65536
GLIBC_TUNABLES=$tls HMO_STATS="$WORK/two" "$T/t_api" second-copy "$WORK/other/libhmo.so.0" >out 2>err ||
	{ cat out err; fail "t_api second-copy"; }
grep -q '^second copy ok' out || { cat out err; fail "t_api second-copy did not finish"; }
[ "$(grep -c '^hmo: pid' two)" -eq 1 ] || { cat two; fail "two copies of libhmo wrote $(grep -c '^hmo: pid' two) summaries"; }
[ -s err ] && { cat err; fail "the second copy said something"; }
GLIBC_TUNABLES=$tls HMO_STATS="$WORK/three" run_hmo "$T/t_api" second-copy "$WORK/other/libhmo.so.0" >out 2>err ||
	{ cat out err; fail "t_api second-copy, preloaded too"; }
[ "$(grep -c '^hmo: pid' three)" -eq 1 ] || { cat three; fail "preloaded, linked and opened: not one summary"; }
# A libhmo of another table layout already in the process: one line saying this copy
# keeps its own state, and everything still works, with its own summary.
# (The program itself, not libtool's wrapper script, whose shell would warn too.)
HMO_STATS="$WORK/layout" LD_LIBRARY_PATH="$BUILDDIR/.libs" LD_PRELOAD="$LIBS/libotherhmo.so $LIBHMO" \
	"$T/.libs/t_api" >out 2>err ||
	{ cat out err; fail "t_api beside a libhmo of another layout"; }
grep -q '^api ok' out || { cat out err; fail "t_api beside a libhmo of another layout did not finish"; }
[ "$(grep -c 'another libhmo of a different version' err)" -eq 1 ] ||
	{ cat err; fail "expected one line about the other libhmo"; }
[ "$(grep -c "^hmo: pid" layout)" -eq 1 ] || { cat layout; fail "this copy wrote no summary of its own"; }
exit 0
