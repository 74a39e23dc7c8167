#!/bin/sh
# hmo-report --diff on two live runs of t_trace (6 frames from alloc_frame, each
# freed: reuse once the pool is on), traced with HMO_POOL=off and then with the pool:
# the signs of the changes, not their sizes. Then bad input: a missing side, a file
# that is not a trace, wrong operands; the same directory twice is fine.
. "$SRCDIR/tests/lib.sh"
need python3
report="$BUILDDIR/hmo-report"
cd "$WORK" || exit 99
mkdir pool-off pool-on
HMO_TRACE=pool-off HMO_POOL=off HMO_INTERVAL=10ms run_hmo "$T/t_trace" >/dev/null || fail "t_trace with HMO_POOL=off"
HMO_TRACE=pool-on HMO_INTERVAL=10ms run_hmo "$T/t_trace" >/dev/null || fail "t_trace with the pool"

"$report" --diff --json pool-off pool-on >d.json 2>d.err || { cat d.err; fail "hmo-report --diff --json pool-off pool-on"; }
[ -s d.err ] && { cat d.err; fail "hmo-report --diff said something on stderr"; }
fig() { jget d.json "j['figures']['$1']['$2']"; }
[ "$(jget d.json "j['kind']")" = diff ] || fail "kind is not diff"
[ "$(fig pool_hit_rate before)" = 0 ] || fail "pool hit rate with HMO_POOL=off: $(fig pool_hit_rate before)"
[ "$(jget d.json "j['figures']['pool_hit_rate']['change'] > 0")" = 1 ] ||
	fail "the pool hit rate did not go up: $(fig pool_hit_rate change)"
[ "$(jget d.json "j['figures']['pool_hits']['change'] > 0")" = 1 ] || fail "no more pool hits"
# Fresh blocks' faults: each malloc'd frame was fresh without the pool, reused with it.
[ "$(jget d.json "j['figures']['estimated_faults']['change'] < 0")" = 1 ] ||
	fail "the estimated faults did not go down: $(fig estimated_faults change)"
# Sign convention: after minus before, relative to before, none from 0.
for f in minor_faults estimated_faults large_allocations pool_hits wall_ns; do
	[ "$(jget d.json "(lambda x: x['change'] == x['after'] - x['before'])(j['figures']['$f'])")" = 1 ] ||
		fail "$f: change is not after minus before"
done
[ "$(jget d.json "j['figures']['pool_hits']['relative_pct'] is None")" = 1 ] ||
	fail "a relative change from 0 is not null"
[ "$(jget d.json "abs(j['figures']['estimated_faults']['relative_pct'] - 100.0 * j['figures']['estimated_faults']['change'] / j['figures']['estimated_faults']['before']) < 0.01")" = 1 ] ||
	fail "relative_pct is not the change in % of before"
# The call site of the frames, matched across the runs by its frames.
[ "$(jget d.json "j['sites']['by_faults']['top'][0]['status']")" = changed ] || fail "alloc_frame's site not matched"
[ "$(jget d.json "j['sites']['by_faults']['top'][0]['frames'][0].startswith('alloc_frame')")" = 1 ] ||
	fail "the site that changed most in faults is not alloc_frame's: $(jget d.json "j['sites']['by_faults']['top'][0]['frames']")"
[ "$(jget d.json "j['sites']['by_faults']['top'][0]['change'] < 0")" = 1 ] || fail "alloc_frame's faults did not go down"
[ "$(jget d.json "j['sites']['by_faults']['top'][0]['after']['pool_hits'] >= 5")" = 1 ] ||
	fail "alloc_frame's pool hits with the pool: $(jget d.json "j['sites']['by_faults']['top'][0]['after']['pool_hits']")"

# The text: the same figures, the sign and the matched site.
"$report" --diff pool-off pool-on >d.txt 2>d.err || { cat d.err; fail "hmo-report --diff pool-off pool-on"; }
grep -q '^pool hit rate  *0\.0%  *[0-9.]*%  *+[0-9.]* pt' d.txt || { cat d.txt; fail "no pool hit rate row going up"; }
grep -q '^-[0-9,]* page faults (-[0-9.]*%)' d.txt || { cat d.txt; fail "no site with fewer page faults"; }
grep -q '^      at alloc_frame ' d.txt || fail "alloc_frame's frame not in the text"

# The same side twice: every change 0.
"$report" --diff --json pool-on pool-on >same.json 2>same.err || { cat same.err; fail "--diff of a directory with itself"; }
[ "$(jget same.json "all(x['change'] in (0, None) for x in j['figures'].values())")" = 1 ] ||
	fail "a run compared with itself changed"
[ "$(jget same.json "sum(len(s['top']) for s in j['sites'].values())")" = 0 ] || fail "sites changed against themselves"

# A missing side, or a file that is not a trace: the reader's line, then which side.
"$report" --diff pool-off missing >out 2>err && fail "--diff with a missing side succeeded"
[ $? -eq 1 ] || fail "status of a missing side is not 1"
grep -q "^hmo-report: missing: No such file or directory$" err || { cat err; fail "no line for the missing side"; }
grep -q "^hmo-report: nothing could be read from the after side$" err || { cat err; fail "the side is not named"; }
[ "$(wc -l <err)" -eq 2 ] || { cat err; fail "more than the two lines for a missing side"; }
[ -s out ] && fail "output for a missing side"
echo "not a trace" >bogus.trace
"$report" --diff --json bogus.trace pool-on >out 2>err
[ $? -eq 1 ] || fail "status of a side that is not a trace is not 1"
grep -q "^hmo-report: bogus.trace: not an hmo trace" err || { cat err; fail "no line for a file that is not a trace"; }
grep -q "^hmo-report: nothing could be read from the before side$" err || { cat err; fail "the before side is not named"; }

# Bad usage: one line, status 2.
for args in "--diff pool-on" "--diff pool-on pool-on pool-on" "--diff --csv dir pool-on pool-on" "--diff --html x.html pool-on pool-on"; do
	# shellcheck disable=SC2086
	"$report" $args >out 2>err
	[ $? -eq 2 ] || fail "hmo-report $args: status is not 2"
	[ "$(wc -l <err)" -eq 1 ] && grep -q '^hmo-report: --diff ' err || { cat err; fail "hmo-report $args: not one line"; }
done
exit 0
