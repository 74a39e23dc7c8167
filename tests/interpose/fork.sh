#!/bin/sh
# fork while threads allocate, fork from a signal handler, one summary per process.
# The many-fork runs are in fork-stress.sh (make check-long).
. "$SRCDIR/tests/lib.sh"
timeout 120 env LD_PRELOAD="$LIBHMO" "$T/t_fork" threads 20 || fail "20 forks with allocating threads (rc $?)"
# With a summary asked for, the children forked in the handler write theirs through _exit.
mkdir "$WORK/sig"
timeout 120 env LD_PRELOAD="$LIBHMO" HMO_STATS="$WORK/sig/%p" "$T/t_fork" signal 20 \
	|| fail "signal forks with HMO_STATS (rc $?)"
[ "$(ls "$WORK/sig" | wc -l)" -eq 21 ] || fail "expected 21 summaries, got $(ls "$WORK/sig" | wc -l)"

# Each child reports its own calls: exactly its 7 mallocs of 777,777 bytes (from each
# process's trace); and each process writes its own summary.
mkdir "$WORK/st" "$WORK/tr"
HMO_STATS="$WORK/st/%e.%p" HMO_TRACE="$WORK/tr" run_hmo "$T/t_fork" stats 3 || fail "t_fork stats"
[ "$(ls "$WORK/st" | wc -l)" -eq 4 ] || fail "expected 4 summaries (parent and 3 children)"
[ "$(ls "$WORK/tr" | wc -l)" -eq 4 ] || fail "expected 4 traces (parent and 3 children)"
kids=0
for f in "$WORK"/tr/*.trace; do
	report_json "$WORK/r.json" "$f"
	if [ "$(jget "$WORK/r.json" "call('malloc', 'bytes')")" = 5444439 ]; then
		n=$(jget "$WORK/r.json" "call('malloc', 'calls')")
		[ "$n" = 7 ] || fail "child $f: $n mallocs, expected 7"
		n=$(jget "$WORK/r.json" "call('free', 'calls')")
		[ "$n" = 7 ] || fail "child $f: $n frees, expected 7"
		kids=$((kids + 1))
	fi
done
[ "$kids" -eq 3 ] || { cat "$WORK"/st/*; fail "$kids of 3 children reported exactly their own mallocs"; }
