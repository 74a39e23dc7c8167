#!/bin/sh
# hmo-run --compare: the command runs without and with hmo, interleaved, each run
# measured; the medians side by side, outputs compared, the command's status kept.
. "$SRCDIR/tests/lib.sh"
run="$BUILDDIR/hmo-run"
[ -x "$run" ] || fail "hmo-run not built"
[ -x /usr/bin/time ] || skip "GNU time is not installed (scripts/setup installs it)"
cd "$WORK" || exit 99

# A wrapper that notes in which configuration each run was, then sorts a generated file.
awk 'BEGIN { srand(7); for (i = 0; i < 20000; i++) print int(rand() * 1000000) }' >numbers
cat >sorter <<SH
#!/bin/sh
case \${LD_PRELOAD:-} in *libhmo.so*) echo hmo ;; *) echo glibc ;; esac >>'$WORK/runs'
exec sort -n '$WORK/numbers'
SH
chmod +x sorter
sort -n numbers >want

"$run" --compare -- "$WORK/sorter" >out 2>err; rc=$?
[ $rc -eq 0 ] || { cat err; fail "--compare of sort: status $rc"; }
[ "$(tr '\n' ' ' <runs)" = "glibc hmo glibc hmo glibc hmo " ] ||
	{ cat runs; fail "expected 3 interleaved rounds, glibc first"; }
cmp -s out want || fail "--compare: the command's output is not on stdout"
grep -q 'differ' err && { cat err; fail "identical outputs reported as different"; }
# The table: a row per metric, both medians, the ratio and a verdict; then the report.
for m in 'wall time' 'CPU time' 'peak RSS' 'minor faults' 'major faults'; do
	grep -Eq "^$m .* [0-9.]+ +[0-9.]+ +([0-9]+\.[0-9]+|-) +(faster|slower|less|more|fewer|same)$" err ||
		{ cat err; fail "--compare: no '$m' row with medians, ratio and verdict"; }
done
grep -q '^metric .*glibc.*hmo.*hmo/glibc.*verdict' err || { cat err; fail "--compare: no table header"; }
grep -q '^hmo-run: 3 rounds' err || { cat err; fail "--compare: the rounds are not said"; }
awk '/^wall time/ { t = NR } /^hmo-report: / { r = NR } END { exit !(t && r > t) }' err ||
	{ cat err; fail "--compare: the report does not follow the table"; }
[ "$(grep -c 'became sort by exec' err)" -eq 1 ] || { cat err; fail "--compare: not the report of one hmo run"; }

# --rounds=N: N runs of each.
: >runs
"$run" --compare --rounds=5 -- "$WORK/sorter" >out 2>err || { cat err; fail "--rounds=5"; }
[ "$(grep -c '^glibc$' runs)" -eq 5 ] && [ "$(grep -c '^hmo$' runs)" -eq 5 ] ||
	{ cat runs; fail "--rounds=5: expected 5 runs of each"; }
grep -q '^hmo-run: 5 rounds' err || { cat err; fail "--rounds=5 not said"; }
for bad in 0 -1 x 1x ''; do
	: >runs
	"$run" --compare --rounds="$bad" -- "$WORK/sorter" >out 2>err; rc=$?
	[ $rc -eq 2 ] && [ ! -s runs ] && [ "$(wc -l <err)" -eq 1 ] ||
		{ cat err; fail "--rounds='$bad': not refused cleanly (status $rc)"; }
done
"$run" --rounds=2 -- true 2>err; [ $? -eq 2 ] || fail "--rounds without --compare accepted"

# hmo made slower: the verdict says so.
cat >slow <<'SH'
#!/bin/sh
case ${LD_PRELOAD:-} in *libhmo.so*) sleep 0.3 ;; esac
SH
chmod +x slow
"$run" --compare --rounds=1 -- "$WORK/slow" 2>err || { cat err; fail "slow"; }
grep -q '^wall time .* slower$' err || { cat err; fail "a slower hmo run not called slower"; }

# An output that differs: one line naming it, and status 3.
cat >tell <<'SH'
#!/bin/sh
case ${LD_PRELOAD:-} in *libhmo.so*) echo hmo ;; *) echo glibc ;; esac
SH
chmod +x tell
"$run" --compare --rounds=2 -- "$WORK/tell" >out 2>err; rc=$?
[ $rc -eq 3 ] || { cat err; fail "differing stdout: status $rc, expected 3"; }
[ "$(grep -c '^hmo-run: outputs differ between glibc and hmo: stdout$' err)" -eq 1 ] ||
	{ cat err; fail "differing stdout not reported in one line"; }
# ... and in a file named with --compare-output, while stdout is the same.
cat >tellfile <<'SH'
#!/bin/sh
echo same
case ${LD_PRELOAD:-} in *libhmo.so*) echo hmo ;; *) echo glibc ;; esac >"$1"
echo same >"$2"
SH
chmod +x tellfile
"$run" --compare --compare-output='o 1.txt' --compare-output=o2.txt -- "$WORK/tellfile" 'o 1.txt' o2.txt \
	>out 2>err; rc=$?
[ $rc -eq 3 ] || { cat err; fail "differing --compare-output file: status $rc, expected 3"; }
grep -q '^hmo-run: outputs differ between glibc and hmo: o 1.txt$' err ||
	{ cat err; fail "differing --compare-output file not named"; }
grep -q 'differ.*\(stdout\|o2.txt\)' err && { cat err; fail "identical outputs reported as different"; }
# ... a file written the same way each time is not.
"$run" --compare --compare-output=o2.txt -- "$WORK/tellfile" o1.txt o2.txt >out 2>err ||
	{ cat err; fail "identical --compare-output file: status not 0"; }

# A failing command: said, and its status is hmo-run's.
"$run" --compare --rounds=1 -- sh -c 'exit 5' 2>err; rc=$?
[ $rc -eq 5 ] || { cat err; fail "failing command: status $rc, expected 5"; }
grep -q '^hmo-run: the command failed under glibc (status 5) and under hmo (status 5)' err ||
	{ cat err; fail "failing command not said"; }

# Documented in --help.
"$run" --help | grep -q -- '--compare-output=FILE' || fail "--help does not document --compare"
exit 0
