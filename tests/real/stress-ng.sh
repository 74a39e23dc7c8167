#!/bin/sh
. "$SRCDIR/tests/real/common.sh"
need stress-ng
cd "$WORK" || exit 99
mkdir st tr
# stress-ng's workers are forked and leave through _exit: each writes a summary, and
# the counters at the end of its trace.
HMO_STATS="$WORK/st/%p" HMO_TRACE="$WORK/tr" timeout 120 env LD_PRELOAD="$LIBHMO" \
	stress-ng --malloc 1 --mmap 1 --memcpy 1 --vm 1 --verify --timeout 4s \
	--mmap-bytes 64M --vm-bytes 64M --metrics-brief >out 2>&1 \
	|| { cat out; fail "stress-ng under hmo (rc $?)"; }
grep -q 'successful run completed' out || { cat out; fail "stress-ng did not complete successfully"; }
n=$(ls st | wc -l)
[ "$n" -ge 5 ] || fail "expected summaries from stress-ng and its 4 workers, got $n"
report_json r.json tr
[ "$(jget r.json "call('mmap', 'calls') + call('mmap64', 'calls')")" -gt 0 ] || fail "no mmap counted in any stress-ng process"
